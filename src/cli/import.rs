//! `educonnect import siecle`: Siècle exports imported by `provisioning`, with a progress bar
//! while it runs and the French report after it (what each refused establishment lacked, the
//! totals). The import's rules, the statistics refresh after a large run included, are
//! `provisioning`'s.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use educonnect::clock::SystemClock;
use educonnect::config::Config;
use educonnect::provisioning::{self, import_exports, Outcome, Summary};

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Siècle exports: a folder holding ElevesSansAdresses.xml and ResponsablesAvecAdresses.xml,
    /// a folder of such folders (one per establishment), or the two files.
    Siecle {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Import establishments whose files hold invalid records without those records (they
        /// are listed). By default such an establishment is refused as a whole.
        #[arg(long)]
        skip_invalid: bool,
    },
}

/// The bar: establishments done, records per second.
struct Bar {
    bar: ProgressBar,
    started: Instant,
    records: u64,
}

impl provisioning::Progress for Bar {
    fn done(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Imported(r) => self.records += r.records,
            Outcome::Refused { source, .. } => self.bar.println(format!("refusé : {source}")),
        }
        self.bar.inc(1);
        self.bar.set_message(format!(
            "{:.0} fiches/s",
            self.records as f64 / self.started.elapsed().as_secs_f64()
        ));
    }
    fn writing(&mut self) {
        self.bar.set_message(format!(
            "premier chargement : écriture des {} fiches...",
            self.records
        ));
    }
}

pub async fn run(command: ImportCommand, config: Config) -> anyhow::Result<()> {
    let ImportCommand::Siecle {
        paths,
        skip_invalid,
    } = command;
    let pairs = educonnect::siecle::find_exports(&paths).map_err(anyhow::Error::msg)?;
    let store = super::migrated_store(&config, 4).await?;
    let bar = ProgressBar::new(pairs.len() as u64).with_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} établissements  {msg}  [{elapsed_precise}, reste {eta}]",
    )?);
    let started = Instant::now();
    let mut progress = Bar {
        bar,
        started,
        records: 0,
    };
    let outcomes = import_exports(
        &store,
        pairs,
        skip_invalid,
        "cli",
        &SystemClock,
        &mut progress,
        provisioning::FIRST_LOAD_FROM,
    )
    .await?;
    progress.bar.finish_and_clear();
    let elapsed = started.elapsed();
    provisioning::refresh_statistics_if_large(&store, &outcomes).await?;
    report(&outcomes, elapsed)
}

/// Prints what each refused or partly imported establishment lacked, then the totals; fails
/// (exit status 1) if an establishment was refused.
fn report(outcomes: &[Outcome], elapsed: std::time::Duration) -> anyhow::Result<()> {
    // A refusal's problems are already capped, with a last line counting the others: shown whole.
    let shown = educonnect::siecle::Limits::default().problems_listed + 1;
    let show = |title: String, lines: &[String]| {
        println!("{title}");
        for line in lines.iter().take(shown) {
            println!("  {line}");
        }
        if lines.len() > shown {
            println!("  ... et {} autre(s)", lines.len() - shown);
        }
    };
    for outcome in outcomes {
        match outcome {
            Outcome::Refused {
                source, problems, ..
            } => show(format!("{source} : refusé, rien n'a été modifié"), problems),
            Outcome::Imported(r) if !r.rejected.is_empty() => show(
                format!("{} : importé sans ces fiches rejetées", r.uai),
                &r.rejected,
            ),
            Outcome::Imported(_) => {}
        }
    }
    let summary = Summary::of(outcomes, elapsed);
    println!("{summary}");
    if summary.refused_for_records > 0 {
        println!(
            "Des fiches invalides ont fait refuser {} établissement(s) : corrigez-les dans Siècle, \
             ou relancez avec --skip-invalid pour importer le reste sans elles.",
            summary.refused_for_records
        );
    }
    if summary.establishments_refused > 0 {
        bail!(
            "{} établissement(s) refusé(s)",
            summary.establishments_refused
        );
    }
    Ok(())
}
