//! Upstream federation: this provider as an OpenID Connect *client* of FranceConnect v2 (or of
//! any standard OpenID provider: FranceConnect's only deviations are the client secret in the
//! token request's form body and a signed userinfo).
//!
//! - `upstream.rs`: the configured upstream, its discovery document and keys (cached), the HTTP
//!   client;
//! - `flow.rs`: the login's start (authorization URL, `state` and `nonce` parked) and callback
//!   (code exchange, checks, userinfo);
//! - `verify.rs`: the checks of the ID token and of the signed userinfo, pure functions;
//! - `pivot.rs`: what comes out, the *identité pivot* and the upstream `iss`/`sub`;
//! - `logout.rs`: the upstream end-session URL (the upstream session ends with ours);
//! - `names.rs`: whether the pivot identity's names agree with an account's record;
//! - `error.rs`: why it failed, typed;
//! - `fake/`: a faithful fake FranceConnect for the demo and the tests (never in production).
//!
//! A domain service (layer 4 of `docs/architecture.md`): it takes the ephemeral store and the
//! clock's time, never `App`; `oidc/login/franceconnect.rs` turns its result into a login.

pub mod error;
pub mod fake;
pub mod flow;
pub mod logout;
pub mod names;
pub mod pivot;
pub mod upstream;
pub mod verify;

pub use error::{FederationError, Refusal};
pub use flow::{callback, start, CallbackParams, Failed, Returned};
pub use logout::end_session_url;
pub use pivot::{PivotIdentity, UpstreamIdToken, UpstreamIdentity};
pub use upstream::{Upstream, CALLBACK_PATH};
