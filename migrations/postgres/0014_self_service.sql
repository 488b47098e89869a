-- Families' self-service (issue #17). An account's own mobile number, confirmed by an SMS code,
-- kept apart from the number the establishment's Siècle record gives (`phone`, used for
-- matching and for a guardian's self-registration, replaced by each import): no import ever
-- writes these two columns, as for `verified_email`.
ALTER TABLE accounts ADD COLUMN verified_phone TEXT;
ALTER TABLE accounts ADD COLUMN verified_phone_at BIGINT;

-- Self-registration looks a guardian up by the Siècle number; recovery by the confirmed
-- address or number. Same shape as the other dialect's twin.
CREATE INDEX accounts_phone ON accounts (phone) WHERE phone IS NOT NULL;
CREATE INDEX accounts_verified_email ON accounts (verified_email) WHERE verified_email IS NOT NULL;
CREATE INDEX accounts_verified_phone ON accounts (verified_phone) WHERE verified_phone IS NOT NULL;
