//! educonnect: an OpenID Connect provider for pupils and legal guardians.
//! Module map: `docs/architecture.md`.

#![forbid(unsafe_code)]

pub mod accounts;
pub mod app;
pub mod assistance;
pub mod audit;
pub mod clients;
pub mod clock;
pub mod config;
pub mod demo;
pub mod error;
pub mod establishments;
pub mod federation;
pub mod http;
pub mod maintenance;
pub mod notify;
pub mod oidc;
pub mod outbox;
pub mod provisioning;
pub mod secrets;
pub mod selfservice;
pub mod siecle;
pub mod staff;
pub mod store;
pub mod tokens;
