-- Activation at first login. An account's own e-mail address, confirmed by a code, kept apart
-- from the address the establishment's Siècle record gives (`email`, used for matching and
-- replaced by each import): no import ever writes these two columns.
ALTER TABLE accounts ADD COLUMN verified_email TEXT;
ALTER TABLE accounts ADD COLUMN verified_email_at INTEGER;

-- A guardian who said, at activation, that a pupil linked to them is not their child: the link
-- is left out of the account (children, claims) until the establishment has looked at it (a
-- notice tells it). Same shape as the other dialect's twin.
CREATE TABLE disputed_links (
    guardian_id TEXT NOT NULL REFERENCES accounts (id),
    pupil_id    TEXT NOT NULL REFERENCES accounts (id),
    created_at  INTEGER NOT NULL,
    resolved_at INTEGER,
    PRIMARY KEY (guardian_id, pupil_id)
);
CREATE INDEX disputed_links_pupil ON disputed_links (pupil_id);
