-- Assistance requests (`crate::assistance`): what an establishment (or a national operator, on
-- a guardian's behalf) asks the assistance of its académie, routed by the académie its UAI
-- belongs to. The accounts concerned are kept as they were when the request was filed (an
-- account merged away later still reads). Same shape as the other dialect's twin.
CREATE TABLE assistance_requests (
    id                TEXT PRIMARY KEY,
    uai               TEXT NOT NULL,
    academy           TEXT NOT NULL,
    -- `account_missing`, `cannot_link`, `cannot_activate`, `other`.
    category          TEXT NOT NULL,
    description       TEXT NOT NULL,
    -- `open`, `in_progress`, `closed`.
    status            TEXT NOT NULL,
    -- The staff member who filed it; NULL when an administration token did.
    filed_by          TEXT REFERENCES staff (id),
    -- The actor's label (`staff:<login>`, `admin-token:<prefix>`), for the audit's reader.
    filed_by_label    TEXT NOT NULL,
    -- A national operator files on behalf of the guardian who called or wrote.
    on_behalf_name    TEXT,
    on_behalf_contact TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX assistance_requests_uai ON assistance_requests (uai, created_at);
CREATE INDEX assistance_requests_academy ON assistance_requests (academy, status, created_at);

CREATE TABLE assistance_request_accounts (
    request_id  TEXT NOT NULL REFERENCES assistance_requests (id),
    account_id  TEXT NOT NULL,
    login       TEXT NOT NULL,
    given_name  TEXT NOT NULL,
    family_name TEXT NOT NULL,
    profile     TEXT NOT NULL,
    PRIMARY KEY (request_id, account_id)
);

-- What happened to a request after it was filed: a comment, a change of status, or both.
CREATE TABLE assistance_events (
    id              TEXT PRIMARY KEY,
    request_id      TEXT NOT NULL REFERENCES assistance_requests (id),
    at              BIGINT NOT NULL,
    -- The actor's label, and the name shown (a staff member's, or the token's label).
    author          TEXT NOT NULL,
    author_name     TEXT NOT NULL,
    -- Whether the author handles the request (the académie's assistance, an operator) rather
    -- than belonging to the establishment that filed it.
    by_assistance   BIGINT NOT NULL,
    body            TEXT,
    previous_status TEXT,
    status          TEXT
);
CREATE INDEX assistance_events_request ON assistance_events (request_id, at);
