-- Every notification an establishment sends (letters or e-mail): who acted, when, for which
-- profile, whether passwords were reset, and the accounts notified (a JSON array of ids). Same
-- shape as the other dialect's twin.
CREATE TABLE notifications (
    id          TEXT PRIMARY KEY,
    uai         TEXT NOT NULL,
    actor       TEXT NOT NULL,
    profile     TEXT NOT NULL,
    reset       INTEGER NOT NULL,
    account_ids TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX notifications_uai ON notifications (uai, created_at);
