//! `educonnect identifiers`: an establishment's file of new identifiers
//! (`establishments::identifiers_file`, as the national operator), written as CSV or PDF
//! (`notify::identifiers`). Producing it records it: the next file lists only what came after.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;

use educonnect::app::App;
use educonnect::clock::SystemClock;
use educonnect::config::Config;
use educonnect::establishments::{self, Actor, Scope};
use educonnect::notify::identifiers;
use educonnect::siecle::Uai;

#[derive(Args)]
#[command(group(clap::ArgGroup::new("format").required(true).args(["csv", "pdf"])))]
pub struct IdentifiersArgs {
    /// The establishment.
    #[arg(long)]
    uai: String,
    /// Write the file as CSV (`;`-separated, UTF-8 with a byte-order mark).
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Write the file as PDF (a table, landscape A4).
    #[arg(long)]
    pdf: Option<PathBuf>,
}

pub async fn run(args: IdentifiersArgs, config: Config) -> anyhow::Result<()> {
    let uai = Uai::parse(&args.uai).map_err(|e| anyhow::anyhow!("UAI {} : {e}", args.uai))?;
    let app = App::build(config, Arc::new(SystemClock)).await?;
    let actor = Actor::new("cli", Scope::National);
    let shown = establishments::establishment(&actor, &*app.durable, &uai)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let file = establishments::identifiers_file(&actor, &*app.durable, &uai, app.now_ms())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (path, bytes) = match (args.csv, args.pdf) {
        (Some(path), _) => (path, identifiers::csv(&file).into_bytes()),
        (None, Some(path)) => {
            let name = shown.name.unwrap_or_else(|| format!("Établissement {uai}"));
            (path, identifiers::pdf(&file, &name)?)
        }
        (None, None) => unreachable!("clap requires --csv or --pdf"),
    };
    std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "{} nouvel(s) identifiant(s) depuis le fichier précédent : {}",
        file.rows.len(),
        path.display()
    );
    Ok(())
}
