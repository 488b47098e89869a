-- Core of the OP: accounts, relying parties, refresh grants, signing keys, consents.
-- Timestamps are epoch milliseconds (INTEGER), booleans 0/1, ids text: the SQLite twin of this
-- file has the same shape so one implementation serves both.

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    profile       TEXT NOT NULL,
    given_name    TEXT NOT NULL,
    family_name   TEXT NOT NULL,
    email         TEXT,
    phone         TEXT,
    state         TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE clients (
    id            TEXT PRIMARY KEY,
    secret_digest TEXT,
    metadata      TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE grants (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scope      TEXT NOT NULL,
    sid        TEXT,
    offline    INTEGER NOT NULL,
    auth_time  INTEGER NOT NULL,
    acr        TEXT NOT NULL,
    amr        TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX grants_sid ON grants (sid);
CREATE INDEX grants_expires_at ON grants (expires_at);

CREATE TABLE refresh_tokens (
    digest        TEXT PRIMARY KEY,
    grant_id      TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    parent_digest TEXT,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER,
    revoked_at    INTEGER
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_parent ON refresh_tokens (parent_digest);

CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY,
    alg                TEXT NOT NULL,
    sealed_private_key TEXT NOT NULL,
    public_jwk         TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    signing_from       INTEGER NOT NULL,
    retire_at          INTEGER
);

CREATE TABLE consents (
    account_id TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, client_id)
);
