//! Protocol tests: the provider driven over real HTTP by the `openidconnect` crate as a relying
//! party (and by raw requests where a conforming RP library would refuse to send them), on both
//! backends. One module per endpoint family; each test is named after the rule it proves.

#[path = "../common/mod.rs"]
mod common;

mod account;
mod account_signin;
mod activation;
mod admin;
mod admin_limits;
mod assistance;
mod audit;
mod authorize;
mod claims;
mod contacts;
mod csrf;
mod demo;
mod establishments;
mod federation;
mod fixture;
mod franceconnect_login;
mod franceconnect_tie;
mod gestion_accounts;
mod gestion_accounts_rights;
mod gestion_delegations;
mod gestion_journal;
mod gestion_signin;
mod gestion_staff;
mod identifiers;
mod login_methods;
mod logout;
mod maintenance;
mod notify;
mod notify_admin;
mod notify_email;
mod outbox;
mod outbox_sms;
mod recovery;
mod recovery_enumeration;
mod registration;
mod registration_enumeration;
mod replicas;
mod services;
mod temporary_passwords;
mod throttle;
mod token;
