-- A temporary password (the one a notification letter prints) is valid until this time (epoch
-- ms); NULL for a password the person chose. Same shape as the other dialect's twin.
ALTER TABLE accounts ADD COLUMN password_expires_at BIGINT;

-- A password reset (and a merge) revokes every grant of one account.
CREATE INDEX grants_account ON grants (account_id);
