-- FranceConnect (issue #18): an upstream identity tied to the account it logs in to. The
-- upstream issuer and its `sub` name one person upstream for good (FranceConnect's `sub` is
-- pairwise: this provider's own identifier of the person). One upstream identity opens one
-- account, and an account holds at most one identity of each upstream. Same shape as the
-- other dialect's twin.
CREATE TABLE federated_identities (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    tied_at    BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject),
    UNIQUE (account_id, issuer)
);
