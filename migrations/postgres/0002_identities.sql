-- Identities from Siècle (issue #4): establishments, pupils and their enrolments, the persons each
-- establishment records (guardians, persons in charge), the links between them, and what the
-- import needs to find a guardian again in another establishment.
--
-- The bulk tables (pupils, enrolments, persons, links) have no foreign keys: the import writes
-- them consistently in one transaction per establishment, and on PostgreSQL each foreign key is
-- a locking query per inserted row (docs/benchmarks.md: the import without them).
-- Same shape as the SQLite twin.

-- An account absorbed into another one (two accounts found to be the same guardian).
ALTER TABLE accounts ADD COLUMN merged_into TEXT;

CREATE TABLE establishments (
    uai              TEXT PRIMARY KEY,
    name             TEXT,
    academy          TEXT,
    school_year      TEXT,
    last_export_date TEXT,
    last_import_at   BIGINT,
    created_at       BIGINT NOT NULL
);

-- A pupil, nationally: the INE keeps the same account from one establishment to the next.
CREATE TABLE pupils (
    ine        TEXT PRIMARY KEY,
    account_id TEXT NOT NULL UNIQUE,
    birth_date TEXT NOT NULL
);

-- A pupil in one establishment (Siècle ELEVE_ID). left_at: detached (DATE_SORTIE, or absent from
-- the establishment's last export). digest: the record's fields, so an unchanged record is skipped.
CREATE TABLE enrolments (
    uai        TEXT NOT NULL,
    eleve_id   TEXT NOT NULL,
    account_id TEXT NOT NULL,
    division   TEXT,
    entry_date TEXT,
    exit_date  TEXT,
    digest     TEXT NOT NULL,
    left_at    BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (uai, eleve_id)
);
CREATE INDEX enrolments_account ON enrolments (account_id);

-- A guardian or person in charge as one establishment records them (Siècle PERSONNE_ID); several
-- rows, in several establishments, may belong to one account. The *_key columns are the family
-- name folded with each strong attribute: what the import looks a guardian up by.
CREATE TABLE persons (
    uai         TEXT NOT NULL,
    personne_id TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    civility    TEXT,
    family_name TEXT NOT NULL,
    given_name  TEXT NOT NULL,
    mobile      TEXT,
    email       TEXT,
    address     TEXT,
    given_key   TEXT NOT NULL,
    mobile_key  TEXT,
    email_key   TEXT,
    address_key TEXT,
    digest      TEXT NOT NULL,
    left_at     BIGINT,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (uai, personne_id)
);
CREATE INDEX persons_account ON persons (account_id);
CREATE INDEX persons_mobile_key ON persons (mobile_key) WHERE mobile_key IS NOT NULL;
CREATE INDEX persons_email_key ON persons (email_key) WHERE email_key IS NOT NULL;
CREATE INDEX persons_address_key ON persons (address_key) WHERE address_key IS NOT NULL;

-- Siècle RESPONSABLE_ELEVE: legal is RESP_LEGAL (1 or 2: legal guardian, 0: other person),
-- relationship is CODE_PARENTE.
CREATE TABLE links (
    uai          TEXT NOT NULL,
    eleve_id     TEXT NOT NULL,
    personne_id  TEXT NOT NULL,
    legal        BIGINT NOT NULL,
    relationship TEXT,
    PRIMARY KEY (uai, eleve_id, personne_id)
);
CREATE INDEX links_person ON links (uai, personne_id);

-- The last number given to each login stem (j.dupont → j.dupont01, j.dupont02...).
CREATE TABLE login_stems (
    stem TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);

-- Two accounts that may be the same guardian (a typo in a given name, or two plausible matches):
-- never merged by the import, confirmed by the guardian or an administrator.
CREATE TABLE link_candidates (
    account_id       TEXT NOT NULL REFERENCES accounts (id),
    other_account_id TEXT NOT NULL REFERENCES accounts (id),
    reason           TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    resolved_at      BIGINT,
    resolution       TEXT,
    PRIMARY KEY (account_id, other_account_id)
);
CREATE INDEX link_candidates_other ON link_candidates (other_account_id);

-- Children a guardian attached to their account by hand, with proof.
CREATE TABLE attachments (
    guardian_id TEXT NOT NULL REFERENCES accounts (id),
    pupil_id    TEXT NOT NULL REFERENCES accounts (id),
    proof       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (guardian_id, pupil_id)
);
CREATE INDEX attachments_pupil ON attachments (pupil_id);

-- In-app notifications for an establishment's administrators.
CREATE TABLE establishment_notices (
    id         TEXT PRIMARY KEY,
    uai        TEXT NOT NULL REFERENCES establishments (uai),
    kind       TEXT NOT NULL,
    message    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at    BIGINT
);
CREATE INDEX establishment_notices_uai ON establishment_notices (uai, created_at);

-- Import history: one row per establishment imported, with its report (JSON).
CREATE TABLE imports (
    id          TEXT PRIMARY KEY,
    uai         TEXT NOT NULL REFERENCES establishments (uai),
    source      TEXT NOT NULL,
    export_date TEXT,
    report      TEXT NOT NULL,
    imported_at BIGINT NOT NULL
);
CREATE INDEX imports_uai ON imports (uai, imported_at);

-- Imports run one establishment at a time (each in one transaction that first updates this row):
-- two imports never match the same new guardian against a half-written state.
CREATE TABLE import_lock (
    id      BIGINT PRIMARY KEY,
    held_at BIGINT NOT NULL
);
INSERT INTO import_lock (id, held_at) VALUES (1, 0);
