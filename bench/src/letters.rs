//! The letters benchmark (issue #15: "letters for 1,000 accounts generate within 0.8 of the
//! argon2 bound measured in the same run"): an establishment of `accounts` pupils imported
//! through the provider's own Siècle import, then all of them notified by letters
//! (`notify::run::send`: a temporary password each, hashed at the configured cost, written,
//! recorded, and the PDF laid out), against the bound that matters — the same number of argon2id
//! hashes on the provider's hashing pool (one thread per CPU), measured before and after.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};

use educonnect::accounts::password::PasswordHasher;
use educonnect::accounts::Profile;
use educonnect::app::App;
use educonnect::clock::SystemClock;
use educonnect::config::Config;
use educonnect::establishments::model::CarrierKind;
use educonnect::establishments::{ActivePasswords, Actor, Request, Scope, Selection};
use educonnect::notify::run;
use educonnect::secrets::Secret;
use educonnect::siecle::Uai;

const UAI: &str = "0699992L";

/// What one run measured.
pub struct LettersRun {
    pub accounts: usize,
    pub threads: usize,
    /// `accounts` hashes on the pool, before and after the notification.
    pub bound: (Duration, Duration),
    /// The whole notification: passwords, writes, record, PDF.
    pub notify: Duration,
    pub pdf_bytes: usize,
}

impl LettersRun {
    /// Letters per second over the bound's hashes per second (1.0: as fast as hashing alone).
    pub fn ratio(&self) -> f64 {
        let bound = (self.bound.0 + self.bound.1).as_secs_f64() / 2.0;
        bound / self.notify.as_secs_f64()
    }

    pub fn markdown(&self, command: &str) -> String {
        let per_s = |d: Duration| self.accounts as f64 / d.as_secs_f64();
        format!(
            "Command: `{command}`\n\n\
             | measure | seconds | per second |\n|---|---:|---:|\n\
             | bound before: {n} argon2id hashes, {t} threads | {:.2} | {:.1} |\n\
             | notify + render {n} letters ({} KiB PDF) | {:.2} | {:.1} |\n\
             | bound after | {:.2} | {:.1} |\n\n\
             Letters at **{:.2}** of the argon2 bound (target ≥ 0.8).\n",
            self.bound.0.as_secs_f64(),
            per_s(self.bound.0),
            self.pdf_bytes / 1024,
            self.notify.as_secs_f64(),
            per_s(self.notify),
            self.bound.1.as_secs_f64(),
            per_s(self.bound.1),
            self.ratio(),
            n = self.accounts,
            t = self.threads,
        )
    }
}

/// `accounts` hashes, as many in flight as the pool has threads.
async fn bound(hasher: &PasswordHasher, accounts: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let passwords: Vec<Secret> = (0..accounts).map(|_| Secret::generate()).collect();
    let mut hashes =
        stream::iter(passwords.iter().map(|p| hasher.hash(p))).buffered(hasher.concurrency());
    while let Some(hash) = hashes.next().await {
        hash?;
    }
    Ok(started.elapsed())
}

/// One establishment's export with `pupils` pupils in classes of 30.
fn export(dir: &std::path::Path, pupils: usize) -> anyhow::Result<()> {
    let params = format!(
        "<PARAMETRES>\n<UAJ>{UAI}</UAJ>\n<ANNEE_SCOLAIRE>2026</ANNEE_SCOLAIRE>\n\
         <DATE_EXPORT>01/09/2026</DATE_EXPORT>\n</PARAMETRES>\n"
    );
    let mut eleves = format!(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?>\n<BEE_ELEVES VERSION=\"3.1\">\n{params}\
         <DONNEES>\n<ELEVES>\n"
    );
    let mut structures = String::from("<STRUCTURES>\n");
    for n in 0..pupils {
        let id = 10_000 + n;
        eleves += &format!(
            "<ELEVE ELEVE_ID=\"{id}\"><ID_NATIONAL>{:09}AB</ID_NATIONAL>\
             <NOM_DE_FAMILLE>Eleve{n}</NOM_DE_FAMILLE><PRENOM>Zoe</PRENOM>\
             <DATE_NAISS>01/02/2013</DATE_NAISS><CODE_MEF>10010012110</CODE_MEF></ELEVE>\n",
            900_000_000 + n
        );
        structures += &format!(
            "<STRUCTURES_ELEVE ELEVE_ID=\"{id}\"><STRUCTURE><CODE_STRUCTURE>6{}</CODE_STRUCTURE>\
             <TYPE_STRUCTURE>D</TYPE_STRUCTURE></STRUCTURE></STRUCTURES_ELEVE>\n",
            n / 30
        );
    }
    eleves += "</ELEVES>\n";
    eleves += &structures;
    eleves += "</STRUCTURES>\n</DONNEES>\n</BEE_ELEVES>\n";
    let responsables = format!(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?>\n<BEE_RESPONSABLES VERSION=\"1.7\">\n\
         {params}<DONNEES>\n<PERSONNES>\n</PERSONNES>\n<RESPONSABLES>\n</RESPONSABLES>\n\
         <ADRESSES>\n</ADRESSES>\n</DONNEES>\n</BEE_RESPONSABLES>\n"
    );
    let target = dir.join(UAI);
    std::fs::create_dir_all(&target)?;
    std::fs::write(target.join(educonnect::siecle::PUPILS_FILE), eleves)?;
    std::fs::write(
        target.join(educonnect::siecle::GUARDIANS_FILE),
        responsables,
    )?;
    Ok(())
}

/// Imports `accounts` pupils into the PostgreSQL database `database_url` (a fresh one), or a new
/// SQLite file, then measures.
pub async fn measure(
    mut config: Config,
    accounts: usize,
    database_url: Option<String>,
) -> anyhow::Result<LettersRun> {
    let dir = tempfile::tempdir()?;
    config.database_url = database_url
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("letters.db").display()));
    config.keys_dir = dir.path().join("keys");
    config.demo = Some(false);
    let app = App::build(config, Arc::new(SystemClock)).await?;
    let exports = dir.path().join("export");
    export(&exports, accounts)?;
    let pairs = educonnect::siecle::find_exports(&[exports]).map_err(anyhow::Error::msg)?;
    educonnect::provisioning::import_exports(
        &*app.durable,
        pairs,
        false,
        "bench",
        &SystemClock,
        &mut |_: &educonnect::provisioning::Outcome| {},
        educonnect::provisioning::FIRST_LOAD_FROM,
    )
    .await?;
    let before = bound(&app.passwords, accounts).await?;
    let request = Request {
        uai: Uai::parse(UAI).map_err(anyhow::Error::msg)?,
        profile: Profile::Pupil,
        selection: Selection::All,
        active: ActivePasswords::Keep,
    };
    let actor = Actor::new("bench", Scope::National);
    let started = Instant::now();
    let sent = run::send(&app, &actor, &request, CarrierKind::Letters, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let notify = started.elapsed();
    anyhow::ensure!(
        sent.notification.notified.len() == accounts,
        "{} letters for {accounts} pupils",
        sent.notification.notified.len()
    );
    let after = bound(&app.passwords, accounts).await?;
    Ok(LettersRun {
        accounts,
        threads: app.passwords.concurrency(),
        bound: (before, after),
        notify,
        pdf_bytes: sent.pdf.map_or(0, |p| p.len()),
    })
}
