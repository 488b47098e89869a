//! The OpenID Connect protocol, without HTTP types: the authorization pipeline, login, consent,
//! the token endpoint's grants, userinfo, introspection, revocation, logout, discovery.

pub mod access_token;
pub mod authorize;
pub mod backchannel;
pub mod claims;
pub mod client_auth;
pub mod consent;
pub mod discovery;
pub mod form;
pub mod grants;
pub mod id_token;
pub mod introspection;
pub mod login;
pub mod logout;
pub mod revocation;
pub mod scope;
pub mod session;
pub mod token;
pub mod upstream_logout;
pub mod userinfo;
