-- The durable outbox: every outgoing message (e-mail today, SMS next), written in the same
-- transaction as what caused it and delivered by the outbox worker (one replica at a time).
-- The body is sealed with the key-encryption key: it may carry a temporary password or a code.
-- Same shape as the other dialect's twin.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    channel         TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    account_id      TEXT,
    sealed_body     TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_account ON outbox (account_id, created_at);
