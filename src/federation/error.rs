//! Why a login through the upstream provider did not happen: typed, so that the page shown
//! (« FranceConnect indisponible », « connexion annulée »...) and the log are chosen by variant,
//! never by reading a message.

/// Why an upstream token (ID token or signed userinfo) was refused. Each check has its own
/// variant so that tests prove which check refused a hostile token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("not a well-formed token, or a required claim is missing")]
    Malformed,
    /// An algorithm other than the asymmetric ones allowed (ES256, RS256): `none`, HS256...
    #[error("signature algorithm not allowed")]
    Algorithm,
    /// A plain JSON answer where a signed one is required.
    #[error("not signed")]
    Unsigned,
    #[error("signed by a key the upstream does not publish")]
    UnknownKey,
    #[error("invalid signature")]
    Signature,
    #[error("wrong issuer")]
    Issuer,
    #[error("wrong audience")]
    Audience,
    #[error("expired")]
    Expired,
    #[error("wrong nonce")]
    Nonce,
    /// An `acr` that is not one of the configured `acr_values` (below eIDAS low, or absent).
    #[error("authentication context below the one required")]
    Acr,
    /// The userinfo's `sub` is not the ID token's.
    #[error("subject differs from the ID token's")]
    Subject,
}

#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// No parked login for this `state`: unknown, expired, already used, or another browser's.
    #[error("unknown, expired or replayed state")]
    UnknownState,
    /// The person cancelled upstream (`error=access_denied` on the callback).
    #[error("cancelled by the person")]
    Cancelled,
    /// Another `error` on the callback, or an error answer of the token endpoint.
    #[error("the upstream provider answered {code}")]
    Upstream { code: String },
    /// Not reachable, too slow (`franceconnect.timeout_seconds`), or answering 5xx or garbage.
    #[error("the upstream provider is unavailable: {0}")]
    Unavailable(String),
    #[error("ID token refused: {0}")]
    IdToken(Refusal),
    #[error("userinfo refused: {0}")]
    UserInfo(Refusal),
    /// Our own store failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}
