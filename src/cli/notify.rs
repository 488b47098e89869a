//! `educonnect notify`: an establishment's pupils or guardians notified (`establishments::notify`,
//! as the national operator), their letters written to a PDF (`notify::letters`).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use educonnect::accounts::Profile;
use educonnect::app::App;
use educonnect::clock::SystemClock;
use educonnect::config::Config;
use educonnect::establishments::{self, ActivePasswords, Actor, Notifier, Scope, Selection};
use educonnect::notify::from_notified;
use educonnect::notify::letters::{self, EstablishmentHeading};
use educonnect::siecle::{Date, Uai};

#[derive(Args)]
pub struct NotifyArgs {
    /// The establishment.
    #[arg(long)]
    uai: String,
    /// pupil, guardian or person_in_charge.
    #[arg(long)]
    profile: String,
    /// Only this class (division): its pupils, or the guardians of its pupils.
    #[arg(long, conflicts_with = "login")]
    class: Option<String>,
    /// Only these accounts (repeat the flag).
    #[arg(long)]
    login: Vec<String>,
    /// Also give active accounts a new temporary password (ends their sessions). By default an
    /// active account keeps its password and its letter says so.
    #[arg(long)]
    reset_password: bool,
    /// Where to write the letters (one A4 page per person).
    #[arg(long)]
    pdf: PathBuf,
}

pub async fn run(args: NotifyArgs, config: Config) -> anyhow::Result<()> {
    let uai = Uai::parse(&args.uai).map_err(|e| anyhow::anyhow!("UAI {} : {e}", args.uai))?;
    let profile = Profile::parse(&args.profile)
        .context("profile must be pupil, guardian or person_in_charge")?;
    let selection = match (args.class, args.login) {
        (Some(class), _) => Selection::Class(class),
        (None, logins) if !logins.is_empty() => Selection::Logins(logins),
        _ => Selection::All,
    };
    let active = if args.reset_password {
        ActivePasswords::Reset
    } else {
        ActivePasswords::Keep
    };
    let days = config.password.temporary_password_days;
    let app = App::build(config, Arc::new(SystemClock)).await?;
    let notifier = Notifier {
        directory: &*app.durable,
        accounts: &*app.durable,
        passwords: &app.passwords,
        sessions: &app,
    };
    let now = app.now_ms();
    let valid_until = now + days as i64 * 86_400_000;
    let spinner = ProgressBar::new_spinner()
        .with_message("notification des comptes (mots de passe provisoires)…");
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let actor = Actor::new("cli", Scope::National);
    let notified = establishments::notify(
        &actor,
        &notifier,
        &uai,
        profile,
        &selection,
        active,
        valid_until,
        now,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    spinner.finish_and_clear();
    let name = app
        .durable
        .establishment(uai.as_str())
        .await?
        .and_then(|e| e.name)
        .unwrap_or_else(|| format!("Établissement {uai}"));
    let heading = EstablishmentHeading {
        name,
        uai: uai.clone(),
    };
    let letters = from_notified::letters(
        &notified,
        &heading,
        app.issuer(),
        Date::from_epoch_ms(now),
        Date::from_epoch_ms(valid_until),
    )?;
    let bar = ProgressBar::new(1)
        .with_style(ProgressStyle::with_template("{spinner} courriers : {msg}")?);
    bar.set_message(format!("mise en page de {} courrier(s)…", letters.len()));
    let pdf = letters::render(&letters)?;
    std::fs::write(&args.pdf, pdf)
        .with_context(|| format!("cannot write {}", args.pdf.display()))?;
    bar.finish_and_clear();
    let with_password = notified.iter().filter(|n| n.password.is_some()).count();
    println!(
        "{} compte(s) notifié(s), dont {with_password} avec un mot de passe provisoire : {}",
        notified.len(),
        args.pdf.display()
    );
    Ok(())
}
