-- The identifiers files (issue #15): each file produced for an establishment, and which accounts
-- it listed, so that the next file holds only the accounts not listed yet (those created or
-- arrived since). Same shape as the other dialect's twin.
CREATE TABLE identifier_files (
    id         TEXT PRIMARY KEY,
    uai        TEXT NOT NULL,
    actor      TEXT NOT NULL,
    accounts   BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX identifier_files_uai ON identifier_files (uai, created_at);
CREATE TABLE identifiers_listed (
    uai        TEXT NOT NULL,
    account_id TEXT NOT NULL,
    file_id    TEXT NOT NULL,
    PRIMARY KEY (uai, account_id)
);
-- Where a notice sends its reader (the identifiers file, for "new identifiers available").
ALTER TABLE establishment_notices ADD COLUMN link TEXT;
