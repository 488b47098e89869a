-- Codes an establishment hands a guardian to attach a pupil to their account by hand (the other
-- proof being the pupil's own login and password). Single use, short-lived; only the digest of
-- the code is kept. Same shape as the other dialect's twin.
CREATE TABLE attachment_codes (
    digest     TEXT PRIMARY KEY,
    pupil_id   TEXT NOT NULL REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    used_by    TEXT
);
CREATE INDEX attachment_codes_pupil ON attachment_codes (pupil_id);
