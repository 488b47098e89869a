//! A login and password checked: throttled per account and per client address (or, from a
//! browser that recently logged in to the account, per browser), the attempt counted before the
//! password is checked; one argon2 verification whether or not the login exists (the timing
//! tells nothing), disabled accounts refused, the hash renewed when its parameters are out of
//! date. Used by the login page and by the proofs of `linking`.

use crate::accounts::password::PasswordHasher;
use crate::accounts::{devices, temporary, throttle, Account, LoginId};
use crate::clock::Clock;
use crate::config::ThrottleConfig;
use crate::secrets::Secret;
use crate::store::{AccountStore, EphemeralStore};

/// What checking a password needs, and nothing more (`App::credentials` lends it).
#[derive(Clone, Copy)]
pub struct Verifier<'a> {
    pub accounts: &'a dyn AccountStore,
    /// Where attempts are counted (every replica counts together).
    pub counters: &'a dyn EphemeralStore,
    pub passwords: &'a PasswordHasher,
    pub throttle: &'a ThrottleConfig,
    pub clock: &'a dyn Clock,
}

pub enum Checked {
    Valid(Account),
    /// The account's temporary password (a notification letter's), still valid: what follows
    /// is the account's activation.
    Temporary(Account),
    /// The account's temporary password, but past its letter's validity: the establishment
    /// must send a new letter.
    TemporaryExpired {
        account_id: String,
    },
    /// Unknown login, wrong password or unusable account: the same answer for all three.
    /// `account_id` names the account the login designates, when there is one (for the audit
    /// trail, never for the person at the page).
    Wrong {
        account_id: Option<String>,
    },
    /// Too many failures for this login or this address: no password was checked.
    Throttled,
}

/// The key `login` is throttled and trusted under: the normalized login, or one shared key
/// for whatever cannot be a login.
pub fn throttle_key(login: &str) -> String {
    LoginId::parse(login).map_or_else(|| "-".to_owned(), |l| l.as_str().to_owned())
}

/// Checks `password` for `login`; `trusted` is the trusted-browser token the browser holds for
/// this login (`devices::recognized`; none for a proof of another person's account).
pub async fn check(
    verifier: &Verifier<'_>,
    login: &str,
    password: &Secret,
    address: &str,
    trusted: Option<&str>,
) -> anyhow::Result<Checked> {
    let login = LoginId::parse(login);
    let throttle_key = login.as_ref().map(LoginId::as_str).unwrap_or("-");
    let config = verifier.throttle;
    let store = verifier.counters;
    // ADR 0008: a browser that logged in to this account is counted apart from the rest.
    let counters = match trusted {
        Some(token) => throttle::trusted_device(config, &devices::counter_of(token)),
        None => throttle::login(config, throttle_key, address),
    };
    let Some(attempt) = throttle::begin(store, config, verifier.clock.now_ms(), counters).await?
    else {
        return Ok(Checked::Throttled);
    };
    let account = match &login {
        Some(login) => verifier.accounts.account_by_login(login.as_str()).await?,
        None => None,
    };
    let known = account.as_ref().map(|a| a.id.clone());
    let usable = account.filter(|a| a.state.can_log_in());
    let temporary_until = usable.as_ref().and_then(|a| a.password_expires_at);
    // A temporary password is read back to the characters the letter printed.
    let read_back;
    let presented = match temporary_until {
        Some(_) => {
            read_back = temporary::typed(password);
            &read_back
        }
        None => password,
    };
    let verification = verifier
        .passwords
        .verify(
            presented,
            usable.as_ref().and_then(|a| a.password_hash.as_deref()),
        )
        .await?;
    let Some(account) = usable.filter(|_| verification.ok) else {
        attempt.failed();
        return Ok(Checked::Wrong { account_id: known });
    };
    attempt.passed(store).await?;
    throttle::clear_account(store, config, verifier.clock.now_ms(), throttle_key).await?;
    if let Some(until) = temporary_until {
        // Not rehashed: activation replaces it.
        return Ok(if until <= verifier.clock.now_ms() {
            Checked::TemporaryExpired {
                account_id: account.id,
            }
        } else {
            Checked::Temporary(account)
        });
    }
    if verification.needs_rehash {
        let hash = verifier.passwords.hash(password).await?;
        verifier
            .accounts
            .set_password_hash(&account.id, &hash, verifier.clock.now_ms())
            .await?;
    }
    Ok(Checked::Valid(account))
}
