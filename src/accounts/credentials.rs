//! A login and password checked: throttled per account and per client address (or, from a
//! browser that recently logged in to the account, per browser), the attempt counted before the
//! password is checked; one argon2 verification whether or not the login exists (the timing
//! tells nothing), disabled accounts refused, the hash renewed when its parameters are out of
//! date. Used by the login page and by the proofs of `linking`.

use crate::accounts::{devices, throttle, Account, LoginId};
use crate::app::App;
use crate::secrets::Secret;

pub enum Checked {
    Valid(Account),
    /// Unknown login, wrong password or unusable account: the same answer for all three.
    Wrong,
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
    app: &App,
    login: &str,
    password: &Secret,
    address: &str,
    trusted: Option<&str>,
) -> anyhow::Result<Checked> {
    let login = LoginId::parse(login);
    let throttle_key = login.as_ref().map(LoginId::as_str).unwrap_or("-");
    let config = &app.config.throttle;
    let store = &*app.ephemeral;
    // ADR 0008: a browser that logged in to this account is counted apart from the rest.
    let counters = match trusted {
        Some(token) => throttle::trusted_device(config, &devices::counter_of(token)),
        None => throttle::login(config, throttle_key, address),
    };
    let Some(attempt) = throttle::begin(store, config, counters).await? else {
        return Ok(Checked::Throttled);
    };
    let account = match &login {
        Some(login) => app.durable.account_by_login(login.as_str()).await?,
        None => None,
    };
    let usable = account.filter(|a| a.state.can_log_in());
    let verification = app
        .passwords
        .verify(
            password,
            usable.as_ref().and_then(|a| a.password_hash.as_deref()),
        )
        .await?;
    let Some(account) = usable.filter(|_| verification.ok) else {
        attempt.failed();
        return Ok(Checked::Wrong);
    };
    attempt.passed(store).await?;
    throttle::clear_account(store, throttle_key).await?;
    if verification.needs_rehash {
        let hash = app.passwords.hash(password).await?;
        app.durable
            .set_password_hash(&account.id, &hash, app.now_ms())
            .await?;
    }
    Ok(Checked::Valid(account))
}
