//! A login and password checked: throttled per account and per client address, one argon2
//! verification whether or not the login exists (the timing tells nothing), disabled accounts
//! refused, the hash renewed when its parameters are out of date. Used by the login page and by
//! the proofs of `linking`.

use crate::accounts::{throttle, Account, LoginId};
use crate::app::App;
use crate::secrets::Secret;

pub enum Checked {
    Valid(Account),
    /// Unknown login, wrong password or unusable account: the same answer for all three.
    Wrong,
    /// Too many failures for this login or this address: no password was checked.
    Throttled,
}

pub async fn check(
    app: &App,
    login: &str,
    password: &Secret,
    address: &str,
) -> anyhow::Result<Checked> {
    let login = LoginId::parse(login);
    let throttle_key = login.as_ref().map(LoginId::as_str).unwrap_or("-");
    let throttle = &app.config.throttle;
    if throttle::is_throttled(&*app.ephemeral, throttle, throttle_key, address).await? {
        return Ok(Checked::Throttled);
    }
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
        throttle::record_failure(&*app.ephemeral, throttle, throttle_key, address).await?;
        return Ok(Checked::Wrong);
    };
    throttle::record_success(&*app.ephemeral, throttle_key).await?;
    if verification.needs_rehash {
        let hash = app.passwords.hash(password).await?;
        app.durable
            .set_password_hash(&account.id, &hash, app.now_ms())
            .await?;
    }
    Ok(Checked::Valid(account))
}
