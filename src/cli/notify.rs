//! `educonnect notify`: an establishment's pupils or guardians notified (`notify::run::send`, as
//! the national operator), by letters written to a PDF or by e-mails queued in the outbox, with
//! a progress bar; what a bulk notification of guardians implies is printed before anything is
//! written.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use educonnect::accounts::Profile;
use educonnect::app::App;
use educonnect::clock::SystemClock;
use educonnect::config::Config;
use educonnect::establishments::model::CarrierKind;
use educonnect::establishments::{self, ActivePasswords, Actor, Request, Scope, Selection};
use educonnect::notify::run;
use educonnect::siecle::{Level, Uai};

#[derive(Args)]
#[command(group(clap::ArgGroup::new("carrier").required(true).args(["pdf", "email"])))]
pub struct NotifyArgs {
    /// The establishment.
    #[arg(long)]
    uai: String,
    /// pupil, guardian or person_in_charge.
    #[arg(long)]
    profile: String,
    /// Only this class (division): its pupils, or the guardians of its pupils.
    #[arg(long, conflicts_with_all = ["login", "level"])]
    class: Option<String>,
    /// Only this level: 6E, 5E, 4E, 3E, 2NDE, 1ERE, TLE, or the first three digits of the
    /// pupils' MEF code (e.g. 247): its pupils, or the guardians of its pupils.
    #[arg(long, conflicts_with = "login")]
    level: Option<String>,
    /// Only these accounts (repeat the flag).
    #[arg(long)]
    login: Vec<String>,
    /// Also give active accounts a new temporary password (ends their sessions).
    #[arg(long, conflicts_with = "keep_password")]
    reset_password: bool,
    /// Active accounts keep their password and their letter says so (the default).
    #[arg(long)]
    keep_password: bool,
    /// Where to write the letters (one A4 page per person).
    #[arg(long)]
    pdf: Option<PathBuf>,
    /// Send the notifications by e-mail (queued in the outbox) to the accounts with an address.
    #[arg(long)]
    email: bool,
}

pub async fn run(args: NotifyArgs, config: Config) -> anyhow::Result<()> {
    let uai = Uai::parse(&args.uai).map_err(|e| anyhow::anyhow!("UAI {} : {e}", args.uai))?;
    let profile = Profile::parse(&args.profile)
        .context("profile must be pupil, guardian or person_in_charge")?;
    let selection = match (args.class, args.level, args.login) {
        (Some(class), _, _) => Selection::Class(class),
        (None, Some(level), _) => {
            Selection::Level(Level::parse(&level).map_err(anyhow::Error::msg)?)
        }
        (None, None, logins) if !logins.is_empty() => Selection::Logins(logins),
        _ => Selection::All,
    };
    let request = Request {
        uai,
        profile,
        selection,
        active: if args.reset_password {
            ActivePasswords::Reset
        } else {
            ActivePasswords::Keep
        },
    };
    let carrier = if args.email {
        CarrierKind::Email
    } else {
        CarrierKind::Letters
    };
    let app = App::build(config, Arc::new(SystemClock)).await?;
    let actor = Actor::new("cli", Scope::National);
    let preview = establishments::preview(&actor, &*app.durable, &request, carrier)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(bulk) = &preview.bulk_guardians {
        eprintln!("{}", bulk.message);
    }
    let bar = ProgressBar::new(preview.targets.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} comptes notifiés ({eta} restantes)")?,
    );
    let progress = |done: usize, _total: usize| bar.set_position(done as u64);
    let sent = run::send(&app, &actor, &request, carrier, Some(&progress))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    let notification = &sent.notification;
    let notified = &notification.notified;
    let with_password = notified.iter().filter(|n| n.password.is_some()).count();
    match (&sent.pdf, &args.pdf) {
        (Some(pdf), Some(path)) => {
            std::fs::write(path, pdf)
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!(
                "{} compte(s) notifié(s), dont {with_password} avec un mot de passe provisoire : {}",
                notified.len(),
                path.display()
            );
        }
        _ => println!(
            "{} compte(s) notifié(s) par courriel, dont {with_password} avec un mot de passe \
             provisoire : {} message(s) en file d'envoi.",
            notified.len(),
            notified.iter().filter(|n| n.message.is_some()).count()
        ),
    }
    if !notification.without_address.is_empty() {
        let logins: Vec<&str> = notification
            .without_address
            .iter()
            .map(|t| t.account.login.as_str())
            .collect();
        println!(
            "{} compte(s) sans adresse électronique, non notifié(s) : {}. Notifiez-les par \
             courrier : --pdf courriers.pdf --login … (une fois par identifiant).",
            logins.len(),
            logins.join(", ")
        );
    }
    Ok(())
}
