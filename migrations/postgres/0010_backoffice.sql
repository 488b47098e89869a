-- The establishment back-office. Staff are not EduConnect accounts: a directory of their own,
-- never offered to relying parties, never able to log in at the login page, absent from every
-- claim. Their roles, and the audit trail of every back-office action and of every security
-- event of an account.

CREATE TABLE staff (
    id               TEXT PRIMARY KEY,
    login            TEXT NOT NULL UNIQUE,
    given_name       TEXT NOT NULL,
    family_name      TEXT NOT NULL,
    email            TEXT NOT NULL,
    password_hash    TEXT NOT NULL,
    -- The TOTP secret (RFC 6238), sealed with the key-encryption key; NULL until enrolled at
    -- the first sign-in.
    totp_sealed      TEXT,
    totp_enrolled_at BIGINT,
    state            TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

-- What a staff member may do, and where: `head` and `deputy` of an establishment (`uai`),
-- `delegate` with the rights a head granted (`pupils`, `guardians`), `assistance` of an
-- académie (`academy`), `operator` nationally. A delegation may end (`ends_at`); a revoked role
-- is kept, with `revoked_at`, for the audit.
CREATE TABLE staff_roles (
    id         TEXT PRIMARY KEY,
    staff_id   TEXT NOT NULL REFERENCES staff (id),
    role       TEXT NOT NULL,
    uai        TEXT,
    academy    TEXT,
    pupils     BIGINT NOT NULL,
    guardians  BIGINT NOT NULL,
    ends_at    BIGINT,
    granted_by TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX staff_roles_staff ON staff_roles (staff_id);
CREATE INDEX staff_roles_uai ON staff_roles (uai);

-- Who did what, on whom, when, from where, with what outcome. Purged after
-- `backoffice.audit_retention_days` by the purge job.
CREATE TABLE audit_events (
    id      TEXT PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT,
    uai     TEXT,
    address TEXT,
    outcome TEXT NOT NULL,
    detail  TEXT
);
CREATE INDEX audit_events_uai ON audit_events (uai, at);
CREATE INDEX audit_events_subject ON audit_events (subject, at);
CREATE INDEX audit_events_at ON audit_events (at);
