//! `educonnect keys`: signing keys created, rotated and listed through the key ring (which owns
//! the rules: publish ahead, retire after the longest token lifetime).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;

use educonnect::app::App;
use educonnect::clock::SystemClock;
use educonnect::config::Config;
use educonnect::tokens::SigningAlg;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a signing key for each algorithm that has none.
    Generate,
    /// Publish a new key, promote it, retire the old one after the longest token lifetime.
    Rotate {
        #[arg(long, default_value = "RS256")]
        alg: String,
        /// Publish the new key this many seconds before it starts signing, so that every replica
        /// (they reload keys every 30 s) and the RPs caching the JWKS know it first.
        #[arg(long, default_value_t = 60)]
        publish_ahead: u64,
    },
    /// Every key with its state.
    List,
}

pub async fn run(command: KeysCommand, config: Config) -> anyhow::Result<()> {
    let longest = Duration::from_secs(config.longest_signed_token_seconds());
    let app = App::build(config, Arc::new(SystemClock)).await?;
    match command {
        KeysCommand::Generate => {
            let created = app.keys.ensure_signing_keys().await?;
            println!(
                "{}",
                if created.is_empty() {
                    "every algorithm already has a signing key".to_owned()
                } else {
                    format!("created {}", created.join(", "))
                }
            );
        }
        KeysCommand::Rotate { alg, publish_ahead } => {
            let alg = SigningAlg::parse(&alg)
                .with_context(|| format!("unknown algorithm {alg} (RS256 or ES256)"))?;
            let kid = app
                .keys
                .rotate(alg, Duration::from_secs(publish_ahead), longest)
                .await?;
            println!("new {} key {kid}: published now, signing in {publish_ahead} s; the previous key retires {} s after that", alg.as_str(), longest.as_secs());
        }
        KeysCommand::List => {
            println!(
                "{:<44} {:<6} {:<22} {:<14} retire_at",
                "kid", "alg", "state", "signing_from"
            );
            for (kid, alg, state, from, retire) in app.keys.describe().await? {
                let retire = retire
                    .map(|r| (r / 1000).to_string())
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{kid:<44} {:<6} {state:<22} {:<14} {retire}",
                    alg.as_str(),
                    from / 1000
                );
            }
        }
    }
    Ok(())
}
