//! `educonnect-bench`: the load driver of educonnect (see docs/benchmarks.md).
//!
//! - `suite`: starts the release provider on PostgreSQL + Redis and/or the embedded default,
//!   seeds it, measures the bounds, runs every scenario and prints a markdown table.
//! - `run`: drives a provider that is already running (its database is seeded first).
//! - `bounds`: only the bounds (argon2id verify, RS256 and ES256 signatures).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use educonnect::config::Config;

use educonnect_bench::scenarios::{Scenario, Target};
use educonnect_bench::suite::{Store, SuiteOptions};
use educonnect_bench::{bounds, runner, seed, suite};

#[derive(Parser)]
#[command(
    name = "educonnect-bench",
    about = "Load driver of the educonnect provider"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Load {
    /// Connections per scenario (each a keep-alive HTTP/1.1 connection with its own worker).
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Connections of the login scenario (every login holds an argon2 permit for ~25 ms).
    #[arg(long, default_value_t = 64)]
    login_connections: usize,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Unmeasured seconds before each scenario.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Comma-separated scenarios (default: all).
    #[arg(long, value_delimiter = ',')]
    scenarios: Vec<String>,
    /// Seeded accounts the login scenario cycles through.
    #[arg(long, default_value_t = 10_000)]
    accounts: u64,
}

#[derive(Subcommand)]
enum Command {
    /// Starts the provider on each store, seeds it, runs every scenario, prints the table.
    Suite {
        /// `production` (PostgreSQL + Redis), `embedded`, or `both`.
        #[arg(long, default_value = "both")]
        store: String,
        /// A database on the PostgreSQL server to use; the suite (re)creates `educonnect_bench`.
        #[arg(
            long,
            env = "EDUCONNECT_BENCH_POSTGRES_URL",
            default_value = "postgres://postgres@127.0.0.1:5432/test"
        )]
        postgres_url: String,
        #[arg(
            long,
            env = "EDUCONNECT_BENCH_REDIS_URL",
            default_value = "redis://127.0.0.1:6379"
        )]
        redis_url: String,
        /// Port of the provider under test (on 127.0.0.1).
        #[arg(long, default_value_t = 18080)]
        port: u16,
        /// Also write the table to this file.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Then run the same scenarios against the reference provider (node oidc-provider on
        /// Redis, `bench/reference`) and print both side by side.
        #[arg(long)]
        reference: bool,
        #[command(flatten)]
        load: Load,
    },
    /// Drives a running provider whose database is `--database-url` (seeded first).
    Run {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        issuer: String,
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        #[command(flatten)]
        load: Load,
    },
    /// Measures the bounds only.
    Bounds,
    /// Notifies an establishment of `--accounts` pupils by letters (passwords, PDF) and compares
    /// the time with as many argon2id hashes on the hashing pool, in the same run.
    Letters {
        #[arg(long, default_value_t = 1000)]
        accounts: usize,
        /// PostgreSQL (a fresh schema is the caller's); the embedded SQLite file when absent.
        #[arg(long)]
        database_url: Option<String>,
        /// Also write the table to this file.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

impl Load {
    /// Connections for `scenario`: logins have their own count.
    fn connections(&self, scenario: Scenario) -> usize {
        runner::connections_for(scenario, self.connections, self.login_connections)
    }
}

fn scenarios(names: &[String]) -> anyhow::Result<Vec<Scenario>> {
    if names.is_empty() {
        return Ok(Scenario::ALL.to_vec());
    }
    names.iter().map(|n| Scenario::parse(n)).collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Suite {
            store,
            postgres_url,
            redis_url,
            port,
            out,
            reference,
            load,
        } => {
            let mut stores = match store.as_str() {
                "production" => vec![Store::Production],
                "embedded" => vec![Store::Embedded],
                "both" => vec![Store::Production, Store::Embedded],
                other => anyhow::bail!("--store {other}: production, embedded or both"),
            };
            if reference {
                stores.push(Store::Reference);
            }
            let mut reports = Vec::new();
            let mut table = format!(
                "## Run of {} on {} ({} CPUs)\n\nCommand: `bench/run {}`\n\n",
                chrono_now(),
                hostname(),
                std::thread::available_parallelism().map_or(0, |n| n.get()),
                std::env::args().skip(2).collect::<Vec<_>>().join(" ")
            );
            for store in stores {
                let options = SuiteOptions {
                    store,
                    postgres_url: postgres_url.clone(),
                    redis_url: redis_url.clone(),
                    port,
                    accounts: load.accounts,
                    connections: load.connections,
                    login_connections: load.login_connections,
                    warmup: Duration::from_secs(load.warmup),
                    duration: Duration::from_secs(load.duration),
                    scenarios: scenarios(&load.scenarios)?,
                };
                let report = suite::run(&options).await?;
                let section = suite::markdown(&report, &options);
                println!("{section}");
                table.push_str(&section);
                table.push('\n');
                reports.push(report);
            }
            let find = |s: Store| reports.iter().find(|r| r.store == s);
            if let (Some(ours), Some(theirs)) = (find(Store::Production), find(Store::Reference)) {
                let section = suite::side_by_side(ours, theirs);
                println!("{section}");
                table.push_str(&section);
            }
            if let Some(out) = out {
                std::fs::write(&out, table).with_context(|| format!("write {}", out.display()))?;
            }
        }
        Command::Run {
            issuer,
            database_url,
            load,
        } => {
            let password = Config::default().password;
            let seeded = seed::seed(&database_url, &password, load.accounts).await?;
            let target = Arc::new(Target::discover(&issuer, seeded).await?);
            println!("| scenario | connections | ops/s | p50 ms | p99 ms | errors |");
            println!("|---|---:|---:|---:|---:|---:|");
            for scenario in scenarios(&load.scenarios)? {
                let connections = load.connections(scenario);
                let outcome = runner::run(
                    target.clone(),
                    &[runner::Group {
                        scenario,
                        connections,
                        pace: None,
                    }],
                    Duration::from_secs(load.warmup),
                    Duration::from_secs(load.duration),
                )
                .await
                .remove(0);
                println!("{}", outcome.row());
                for sample in &outcome.stats.samples {
                    eprintln!("  {}: {sample}", scenario.name());
                }
            }
        }
        Command::Letters {
            accounts,
            database_url,
            out,
        } => {
            let store = if database_url.is_some() {
                "PostgreSQL"
            } else {
                "SQLite"
            };
            let measured =
                educonnect_bench::letters::measure(Config::default(), accounts, database_url)
                    .await?;
            let command = format!(
                "target/release/educonnect-bench {}",
                std::env::args().skip(1).collect::<Vec<_>>().join(" ")
            );
            let table = format!(
                "### Letters: run of {} on {} ({} CPUs), {store}\n\n{}",
                chrono_now(),
                hostname(),
                std::thread::available_parallelism().map_or(0, |n| n.get()),
                measured.markdown(&command)
            );
            println!("{table}");
            if let Some(out) = out {
                std::fs::write(&out, table).with_context(|| format!("write {}", out.display()))?;
            }
        }
        Command::Bounds => {
            let b = bounds::measure(&Config::default().password)?;
            println!(
                "argon2id verify {:.2} ms (median); {} at once → {:.1} logins/s; RS256 sign {:.0} µs; ES256 sign {:.0} µs",
                b.argon2_verify.as_secs_f64() * 1e3,
                b.hash_threads,
                b.login_bound(),
                b.rs256_sign.as_secs_f64() * 1e6,
                b.es256_sign.as_secs_f64() * 1e6
            );
        }
    }
    Ok(())
}

fn chrono_now() -> String {
    std::process::Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn hostname() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(String::new(), |kib| format!(", {} GiB", kib / 1024 / 1024));
    format!("{cpu}{mem}")
}
