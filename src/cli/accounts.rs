//! `educonnect accounts`: an account made by hand, or an imported one given a password, for
//! support and for trying the service out. The rules are `accounts::lifecycle`'s; the password
//! comes from the environment so it stays out of the shell history.

use std::sync::Arc;

use anyhow::{bail, Context};
use clap::Subcommand;

use educonnect::accounts::lifecycle::{self, HandMadeAccount, NewPassword};
use educonnect::accounts::password::PasswordHasher;
use educonnect::accounts::{LoginId, Profile};
use educonnect::app::App;
use educonnect::clock::{Clock, SystemClock};
use educonnect::config::Config;
use educonnect::secrets::Secret;

#[derive(Subcommand)]
pub enum AccountsCommand {
    /// Create an active account with a password.
    Add {
        #[arg(long)]
        login: String,
        /// pupil, guardian or person_in_charge.
        #[arg(long)]
        profile: String,
        #[arg(long)]
        given_name: String,
        #[arg(long)]
        family_name: String,
        #[arg(long)]
        email: Option<String>,
        /// Read from EDUCONNECT_ACCOUNT_PASSWORD, so it stays out of the shell history.
        #[arg(long, env = "EDUCONNECT_ACCOUNT_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Give an account (an imported one, say) a password and make it active: what the
    /// notification letter and activation will do, by hand (support, trying the service out).
    SetPassword {
        #[arg(long)]
        login: String,
        /// Read from EDUCONNECT_ACCOUNT_PASSWORD, so it stays out of the shell history.
        #[arg(long, env = "EDUCONNECT_ACCOUNT_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

pub async fn run(command: AccountsCommand, config: Config) -> anyhow::Result<()> {
    let password = match &command {
        AccountsCommand::Add { password, .. } | AccountsCommand::SetPassword { password, .. } => {
            password
        }
    };
    // The policy first: a refused password leaves the database untouched, not even migrated.
    let password = NewPassword::parse(Secret::from_presented(password))?;
    if let AccountsCommand::SetPassword { login, .. } = command {
        return set_password(&login, password, config).await;
    }
    let hasher = PasswordHasher::new(&config.password)?;
    let store = super::migrated_store(&config, 2).await?;
    let now = SystemClock.now_ms();
    match command {
        AccountsCommand::Add {
            login,
            profile,
            given_name,
            family_name,
            email,
            ..
        } => {
            let login = LoginId::parse(&login)
                .context("a login is 1 to 64 lower-case ASCII letters, digits, . - _")?;
            let profile = Profile::parse(&profile)
                .context("profile must be pupil, guardian or person_in_charge")?;
            let new = HandMadeAccount {
                login,
                profile,
                given_name,
                family_name,
                email,
            };
            let account =
                lifecycle::create_active_account(&store, &hasher, new, &password, now).await?;
            println!("account {} created (sub {})", account.login, account.id);
        }
        AccountsCommand::SetPassword { .. } => unreachable!("handled above"),
    }
    Ok(())
}

/// A new password for an account: its sessions and refresh grants end (`lifecycle`), so the
/// whole application is built.
async fn set_password(login: &str, password: NewPassword, config: Config) -> anyhow::Result<()> {
    let login = LoginId::parse(login)
        .context("a login is 1 to 64 lower-case ASCII letters, digits, . - _")?;
    let app = App::build(config, Arc::new(SystemClock)).await?;
    let Some(account) = app.durable.account_by_login(login.as_str()).await? else {
        bail!("no account {}", login.as_str());
    };
    let password =
        NewPassword::for_account(Secret::from_presented(password.expose().expose()), &account)?;
    let now = app.now_ms();
    let author = lifecycle::Author {
        audit: &*app.durable,
        actor: "cli",
        address: None,
    };
    lifecycle::activate_with_password(
        &*app.durable,
        &app.passwords,
        &app,
        author,
        &account,
        &password,
        now,
    )
    .await?;
    println!("account {} is active with the new password", account.login);
    Ok(())
}
