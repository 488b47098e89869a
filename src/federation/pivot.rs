//! What the upstream provider says about the person: the *identité pivot* (FranceConnect's
//! civil-status claims) and who vouched for it (`iss`, `sub`), how (`acr`) and when
//! (`auth_time`). Parsed at the edge: a value of these types came from a verified token.

use serde::{Deserialize, Serialize};

use crate::secrets::Secret;

/// The civil-status identity the upstream asserts (FranceConnect v2's *identité pivot*, plus
/// the e-mail and the usage name). Names are as the upstream spells them; matching them to a
/// guardian's record folds them as the Siècle import does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PivotIdentity {
    /// Every given name, space-separated, in civil-status order.
    pub given_name: String,
    /// The birth name.
    pub family_name: String,
    /// The usage name (*nom d'usage*), when the person has one.
    pub preferred_username: Option<String>,
    /// `YYYY-MM-DD` (FranceConnect writes `00` for an unknown month or day).
    pub birthdate: Option<String>,
    /// `male` or `female`.
    pub gender: Option<String>,
    /// The INSEE code of the birth town (COG); empty or absent when born abroad.
    pub birthplace: Option<String>,
    /// The INSEE code of the birth country (COG): `99100` for France.
    pub birthcountry: Option<String>,
    pub email: Option<String>,
}

/// A login the upstream provider vouched for. Serializable: the tie pages park it between
/// their steps (`oidc::login::tie`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UpstreamIdentity {
    /// The upstream issuer: with `subject`, the durable identifier of the person upstream.
    pub issuer: String,
    /// The upstream `sub` (pairwise for FranceConnect: this provider's own view of the person).
    pub subject: String,
    pub pivot: PivotIdentity,
    /// The ID token's `acr` (one of the configured `acr_values`).
    pub acr: String,
    /// The upstream login's time (seconds since the epoch), when the ID token says it.
    pub auth_time: Option<i64>,
    /// The upstream ID token, kept for the `id_token_hint` of the upstream logout.
    pub id_token: UpstreamIdToken,
}

/// An upstream provider's ID token, kept with the session it opened (`Session::
/// upstream_id_token`); never in logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UpstreamIdToken(String);

impl UpstreamIdToken {
    pub fn new(token: &Secret) -> UpstreamIdToken {
        UpstreamIdToken(token.expose().to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for UpstreamIdToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UpstreamIdToken(<redacted>)")
    }
}
