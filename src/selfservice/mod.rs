//! Families' self-service (issue #17): what a pupil or a guardian does without the
//! establishment — a guardian's self-registration by SMS (`registration`), a forgotten password
//! or identifier (`recovery`), Mon compte's contact changes (`contacts`), password change
//! (`password`) and connected services (`connected`); `services` bundles what the procedures use of
//! the provider. Mon compte's own sign-in is a login
//! transaction without a relying party (`oidc::authorize::transaction`).
//!
//! Shared by all of them:
//! - `flow`: a procedure of several pages parked in the ephemeral store, bound to the browser
//!   that started it (as login transactions are), each page's form carrying its CSRF token;
//! - `floor`: the answers that could tell whether an account, a number or an address exists
//!   leave no sooner than a fixed delay, whatever was found, so that their timing says nothing
//!   either (their bytes say nothing by construction: one page for every case).
//!
//! Every code goes through `accounts::one_time` (the one mechanism for single-use secrets),
//! every SMS through `notify::sms` (its caps) and the outbox, every new password through
//! `accounts::lifecycle` (the one password policy, which ends sessions and grants).

pub mod connected;
pub mod contacts;
pub mod floor;
pub mod flow;
pub mod identifiers;
pub mod password;
pub mod recovery;
pub mod registration;
pub mod services;
