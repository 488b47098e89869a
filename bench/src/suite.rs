//! The whole benchmark on one store: a fresh database, seeded; the release `educonnect` binary
//! started on it as a newcomer would start it (environment only); bounds, every scenario, the
//! login flood with probes, Redis memory per SSO session, the provider's resident memory.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use educonnect::config::Config;

use crate::bounds::{self, Bounds};
use crate::runner::{self, Group, Outcome};
use crate::scenarios::{Scenario, Target};
use crate::seed;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    /// PostgreSQL + Redis.
    Production,
    /// SQLite + in-process.
    Embedded,
    /// Not educonnect: the reference provider (node oidc-provider on Redis).
    Reference,
}

impl Store {
    pub fn name(self) -> String {
        match self {
            Store::Production => "PostgreSQL + Redis".into(),
            Store::Embedded => "embedded (SQLite + in-process)".into(),
            Store::Reference => format!(
                "reference: node oidc-provider {} on Redis",
                crate::reference::version()
            ),
        }
    }
}

pub struct SuiteOptions {
    pub store: Store,
    /// A PostgreSQL database URL on the server to use; the suite creates `educonnect_bench` there.
    pub postgres_url: String,
    pub redis_url: String,
    pub port: u16,
    pub accounts: u64,
    pub connections: usize,
    pub login_connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub scenarios: Vec<Scenario>,
}

pub struct Memory {
    pub rss_idle_kib: u64,
    pub rss_after_kib: u64,
    pub rss_peak_kib: u64,
    /// Redis `used_memory` growth over the login scenario, per completed login.
    pub redis_per_login: Option<f64>,
    /// `MEMORY USAGE` of an SSO session's keys (record and client set), mean.
    pub redis_per_session: Option<f64>,
    pub sessions: u64,
}

/// The login bound (the hashing pool's verifications per second, nothing else running),
/// measured right before and right after the login scenario: the machine's speed drifts (argon2
/// is bound by memory bandwidth, shared with the host's other tenants).
pub struct LoginBound {
    pub before: f64,
    pub after: f64,
    /// Share of the machine's CPU time the provider's argon2 threads used during the login
    /// scenario (educonnect only: its hashing threads are named `argon2-N`).
    pub argon2_cpu_share: Option<f64>,
}

impl LoginBound {
    pub fn rate(&self) -> f64 {
        (self.before + self.after) / 2.0
    }
}

/// CPU ticks (user + system, 1/100 s) of the threads of `pid` named `argon2-*`.
fn argon2_ticks(pid: u32) -> Option<u64> {
    let mut total = 0;
    let mut found = false;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
    {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("argon2-") {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
        // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        total += fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        found = true;
    }
    found.then_some(total)
}

/// The hashing pool's rate, off the async workers.
async fn argon2_pool_rate(threads: usize) -> anyhow::Result<f64> {
    tokio::task::spawn_blocking(move || {
        bounds::argon2_pool_rate(&Config::default().password, threads, Duration::from_secs(3))
    })
    .await?
}

pub struct Report {
    pub store: Store,
    pub bounds: Bounds,
    /// The argon2 bound measured right around the login scenario.
    pub login_bound: Option<LoginBound>,
    /// Rotations per second of the durable store alone (educonnect only).
    pub rotation_bound: Option<f64>,
    pub outcomes: Vec<Outcome>,
    pub flood: Vec<Outcome>,
    pub memory: Memory,
}

/// Refresh chains rotating at once when the store's rotation rate is measured (the provider's
/// default database pool).
const ROTATION_CHAINS: usize = 16;

/// Each probe connection of the login flood sends one request every 20 ms.
const PROBE_PACE: Duration = Duration::from_millis(20);

const REDIS_PREFIX: &str = "educonnect-bench:";
const REFERENCE_PREFIX: &str = "educonnect-bench-ref:";
const BENCH_DB: &str = "educonnect_bench";

/// The running provider (educonnect or the reference); killed on drop.
struct Service {
    child: tokio::process::Child,
    pid: u32,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn proc_status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("{field} of {pid}"))
}

/// `field` summed over a process and its descendants (the reference runs one process per CPU).
fn tree_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let mut total = proc_status_kib(pid, field)?;
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
        total += tree_kib(child, field).unwrap_or(0);
    }
    Ok(total)
}

async fn fresh_database(postgres_url: &str) -> anyhow::Result<String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(postgres_url)
        .await
        .context("PostgreSQL must answer (--postgres-url)")?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {BENCH_DB}"))
        .execute(&mut conn)
        .await?;
    let mut url = url::Url::parse(postgres_url)?;
    url.set_path(BENCH_DB);
    Ok(url.to_string())
}

async fn redis(url: &str) -> anyhow::Result<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(url)?;
    client
        .get_multiplexed_async_connection()
        .await
        .context("Redis must answer (--redis-url)")
}

async fn redis_keys(
    conn: &mut redis::aio::MultiplexedConnection,
    pattern: &str,
) -> anyhow::Result<Vec<String>> {
    let mut cursor = 0u64;
    let mut keys = Vec::new();
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await?;
        keys.extend(batch);
        if next == 0 {
            return Ok(keys);
        }
        cursor = next;
    }
}

async fn used_memory(conn: &mut redis::aio::MultiplexedConnection) -> anyhow::Result<u64> {
    let info: String = redis::cmd("INFO").arg("memory").query_async(conn).await?;
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .context("used_memory in INFO")
}

/// `educonnect serve` as an operator starts it: environment only.
fn educonnect_command(
    options: &SuiteOptions,
    database_url: &str,
    dir: &std::path::Path,
) -> anyhow::Result<tokio::process::Command> {
    let exe = std::env::current_exe()?.with_file_name("educonnect");
    if !exe.exists() {
        bail!(
            "{} is missing: build it with `cargo build --release --workspace`",
            exe.display()
        );
    }
    let mut command = tokio::process::Command::new(&exe);
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env(
            "EDUCONNECT_ISSUER",
            format!("http://127.0.0.1:{}", options.port),
        )
        .env("EDUCONNECT_LISTEN", format!("127.0.0.1:{}", options.port))
        .env("DATABASE_URL", database_url)
        .env("EDUCONNECT_KEYS_DIR", dir.join("keys"))
        .env("EDUCONNECT_DEMO", "false")
        // `serve` on PostgreSQL requires an SMTP server; the load queues no message, so none
        // needs to listen there.
        .env("EDUCONNECT_SMTP__URL", "smtp://127.0.0.1:2525")
        .env("EDUCONNECT_SMTP__FROM_ADDRESS", "bench@educonnect.invalid")
        // The driver stands for many people at many addresses, all sending from 127.0.0.1: the
        // per-address bound on new login transactions (600 a minute) is not what is measured.
        .env(
            "EDUCONNECT_TOKENS__TRANSACTIONS_PER_ADDRESS_PER_MINUTE",
            "100000000",
        )
        .current_dir(dir);
    if options.store == Store::Production {
        command
            .env("REDIS_URL", &options.redis_url)
            .env("EDUCONNECT_REDIS_PREFIX", REDIS_PREFIX);
    }
    Ok(command)
}

/// Starts `command` (its output to `dir/provider.log`) and waits until its discovery answers.
async fn start_service(
    mut command: tokio::process::Command,
    port: u16,
    dir: &std::path::Path,
) -> anyhow::Result<Service> {
    let log_path = dir.join("provider.log");
    let log = std::fs::File::create(&log_path)?;
    command
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true);
    let child = command.spawn().context("start the provider")?;
    let pid = child.id().context("service pid")?;
    let service = Service { child, pid };
    for _ in 0..300 {
        let mut conn = crate::http::Conn::new(([127, 0, 0, 1], port).into());
        if let Ok(r) = conn.get("/.well-known/openid-configuration", None).await {
            if r.status.is_success() {
                return Ok(service);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!(
        "the provider did not become ready; its log:\n{}",
        std::fs::read_to_string(&log_path).unwrap_or_default()
    )
}

async fn clear_redis_prefix(
    conn: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
) -> anyhow::Result<()> {
    let stale = redis_keys(conn, &format!("{prefix}*")).await?;
    for chunk in stale.chunks(1000) {
        redis::cmd("DEL").arg(chunk).query_async::<()>(conn).await?;
    }
    Ok(())
}

pub async fn run(options: &SuiteOptions) -> anyhow::Result<Report> {
    let dir = tempfile::tempdir()?;
    let password = Config::default().password;
    let name = options.store.name();
    let mut redis_conn = match options.store {
        Store::Production | Store::Reference => Some(redis(&options.redis_url).await?),
        Store::Embedded => None,
    };
    let (command, seeded, rotation_bound) = match options.store {
        Store::Production | Store::Embedded => {
            let database_url = match redis_conn.as_mut() {
                Some(conn) => {
                    clear_redis_prefix(conn, REDIS_PREFIX).await?;
                    fresh_database(&options.postgres_url).await?
                }
                None => format!("sqlite://{}", dir.path().join("educonnect.db").display()),
            };
            eprintln!("[{name}] seeding {} accounts", options.accounts);
            let seeded = seed::seed(&database_url, &password, options.accounts).await?;
            eprintln!("[{name}] measuring the store's rotation rate");
            let rotations = bounds::store_rotation_rate(
                &database_url,
                &seeded.ent.id,
                ROTATION_CHAINS,
                Duration::from_secs(3),
            )
            .await?;
            let command = educonnect_command(options, &database_url, dir.path())?;
            (command, seeded, Some(rotations))
        }
        Store::Reference => {
            let conn = redis_conn.as_mut().expect("Redis");
            clear_redis_prefix(conn, REFERENCE_PREFIX).await?;
            let (command, seeded) = crate::reference::command(
                options.port,
                &options.redis_url,
                REFERENCE_PREFIX,
                &password,
                options.accounts,
            )?;
            (command, seeded, None)
        }
    };
    let service = start_service(command, options.port, dir.path()).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle_kib = tree_kib(service.pid, "VmRSS:")?;
    eprintln!("[{name}] measuring the bounds");
    let bounds_before = bounds::measure(&password)?;
    let issuer = format!("http://127.0.0.1:{}", options.port);
    let target = Arc::new(Target::discover(&issuer, seeded).await?);
    let mut outcomes = Vec::new();
    let mut redis_per_login = None;
    let mut login_bound = None;
    for &scenario in &options.scenarios {
        let connections =
            runner::connections_for(scenario, options.connections, options.login_connections);
        eprintln!("[{}] {} × {connections} connections", name, scenario.name());
        let before = match redis_conn.as_mut() {
            Some(c) => Some(used_memory(c).await?),
            None => None,
        };
        let login = scenario == Scenario::Login;
        let bound_before = match login {
            true => Some(argon2_pool_rate(bounds_before.hash_threads).await?),
            false => None,
        };
        let ticks_before = argon2_ticks(service.pid);
        let started = std::time::Instant::now();
        let mut outcome = runner::run(
            target.clone(),
            &[Group {
                scenario,
                connections,
                pace: None,
            }],
            options.warmup,
            options.duration,
        )
        .await;
        let outcome = outcome.remove(0);
        if let Some(before) = bound_before {
            let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
            let argon2_cpu_share = match (ticks_before, argon2_ticks(service.pid)) {
                (Some(a), Some(b)) => {
                    Some((b - a) as f64 / 100.0 / (started.elapsed().as_secs_f64() * cpus))
                }
                _ => None,
            };
            login_bound = Some(LoginBound {
                before,
                after: argon2_pool_rate(bounds_before.hash_threads).await?,
                argon2_cpu_share,
            });
        }
        if scenario == Scenario::Login && options.store == Store::Production {
            if let (Some(c), Some(before)) = (redis_conn.as_mut(), before) {
                // Every flow of the run (warm-up included) left one session behind.
                let sessions = session_keys(c).await?.len() as f64;
                let after = used_memory(c).await?;
                redis_per_login = Some((after.saturating_sub(before)) as f64 / sessions.max(1.0));
            }
        }
        outcomes.push(outcome);
    }
    eprintln!("[{name}] login flood with probes");
    let flood = runner::run(
        target.clone(),
        &[
            Group {
                scenario: Scenario::Login,
                connections: options.login_connections * 2,
                pace: None,
            },
            Group {
                scenario: Scenario::Discovery,
                connections: 2,
                pace: Some(PROBE_PACE),
            },
            Group {
                scenario: Scenario::Jwks,
                connections: 2,
                pace: Some(PROBE_PACE),
            },
            Group {
                scenario: Scenario::Introspection,
                connections: 2,
                pace: Some(PROBE_PACE),
            },
        ],
        options.warmup,
        options.duration,
    )
    .await;
    let rss_after_kib = tree_kib(service.pid, "VmRSS:")?;
    let rss_peak_kib = tree_kib(service.pid, "VmHWM:")?;
    let (redis_per_session, sessions) = match redis_conn.as_mut() {
        Some(c) if options.store == Store::Production => {
            let keys = session_keys(c).await?;
            let mut total = 0u64;
            let sample: Vec<&String> = keys.iter().take(2000).collect();
            for key in &sample {
                for k in [key.to_string(), format!("{key}:clients")] {
                    let bytes: Option<u64> = redis::cmd("MEMORY")
                        .arg("USAGE")
                        .arg(&k)
                        .arg("SAMPLES")
                        .arg(0)
                        .query_async(c)
                        .await?;
                    total += bytes.unwrap_or(0);
                }
            }
            (
                Some(total as f64 / sample.len().max(1) as f64),
                keys.len() as u64,
            )
        }
        _ => (None, 0),
    };
    drop(service);
    Ok(Report {
        store: options.store,
        bounds: bounds_before,
        login_bound,
        rotation_bound,
        outcomes,
        flood,
        memory: Memory {
            rss_idle_kib,
            rss_after_kib,
            rss_peak_kib,
            redis_per_login,
            redis_per_session,
            sessions,
        },
    })
}

/// The SSO session records (not their client sets).
async fn session_keys(c: &mut redis::aio::MultiplexedConnection) -> anyhow::Result<Vec<String>> {
    Ok(redis_keys(c, &format!("{REDIS_PREFIX}session:*"))
        .await?
        .into_iter()
        .filter(|k| !k.ends_with(":clients"))
        .collect())
}

/// The figures as a markdown section.
pub fn markdown(report: &Report, options: &SuiteOptions) -> String {
    use std::fmt::Write;
    let b = &report.bounds;
    let mut out = String::new();
    let _ = writeln!(out, "### {}\n", report.store.name());
    let password = Config::default().password;
    let _ = writeln!(
        out,
        "Bounds measured in this run, on this machine, through educonnect's own code: argon2id \
         (m={} KiB, t={}, p={}) verify {:.1} ms (median of 15, alone), {} at once (one per CPU, \
         as the hashing pool) {:.1}/s; RS256 sign {:.0} µs; ES256 sign {:.0} µs.",
        password.argon2_memory_kib,
        password.argon2_iterations,
        password.argon2_parallelism,
        b.argon2_verify.as_secs_f64() * 1e3,
        b.hash_threads,
        b.argon2_pool_rate,
        b.rs256_sign.as_secs_f64() * 1e6,
        b.es256_sign.as_secs_f64() * 1e6,
    );
    if let Some(l) = &report.login_bound {
        let _ = write!(
            out,
            "Login bound: the hashing pool's rate measured right before ({:.1}/s) and right after \
             ({:.1}/s) the login scenario; the ratio is to their mean.",
            l.before, l.after
        );
        if let Some(share) = l.argon2_cpu_share {
            let _ = write!(
                out,
                " During the login scenario the provider's argon2 threads used {:.0} % of the \
                 machine's CPU time.",
                share * 100.0
            );
        }
        out.push('\n');
    }
    if let Some(rotations) = report.rotation_bound {
        let _ = writeln!(
            out,
            "Refresh bound: the durable store alone rotates {rotations:.0} refresh tokens/s \
             ({ROTATION_CHAINS} chains at once through `rotate_refresh_token`, provider idle)."
        );
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "| scenario | connections | ops/s | p50 ms | p99 ms | errors | bound | ratio | target |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---|---:|---|");
    for o in &report.outcomes {
        let (bound, ratio, target) = match o.group.scenario {
            Scenario::Login => match &report.login_bound {
                Some(l) => (
                    format!("{:.1}/s (argon2)", l.rate()),
                    format!("{:.2}", o.rate() / l.rate()),
                    "ratio ≥ 0.85".to_owned(),
                ),
                None => ("—".into(), "—".into(), "ratio ≥ 0.85".into()),
            },
            Scenario::Refresh => match report.rotation_bound {
                Some(rotations) => (
                    format!("{rotations:.0}/s (store)"),
                    format!("{:.2}", o.rate() / rotations),
                    "≥ 5,000/s".into(),
                ),
                None => ("—".into(), "—".into(), "≥ 5,000/s".into()),
            },
            Scenario::ClientCredentials | Scenario::Introspection => {
                ("—".into(), "—".into(), "≥ 10,000/s".into())
            }
            Scenario::Discovery | Scenario::Jwks => ("—".into(), "—".into(), "≥ 25,000/s".into()),
            Scenario::Userinfo => ("—".into(), "—".into(), "—".into()),
        };
        let _ = writeln!(out, "{} {bound} | {ratio} | {target} |", o.row());
    }
    let _ = writeln!(
        out,
        "\nLogin flood (login × {} connections) with probes (2 connections each, one request per 20 ms), p99 target < 50 ms:\n",
        options.login_connections * 2
    );
    let _ = writeln!(
        out,
        "| group | connections | ops/s | p50 ms | p99 ms | errors |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for o in &report.flood {
        let _ = writeln!(out, "{}", o.row());
    }
    let m = &report.memory;
    let _ = writeln!(
        out,
        "\nMemory: provider RSS idle {:.1} MB, after the load {:.1} MB, peak {:.1} MB.",
        m.rss_idle_kib as f64 / 1024.0,
        m.rss_after_kib as f64 / 1024.0,
        m.rss_peak_kib as f64 / 1024.0
    );
    if let (Some(per_session), Some(per_login)) = (m.redis_per_session, m.redis_per_login) {
        let _ = writeln!(
            out,
            "Redis: {per_session:.0} bytes per SSO session (`MEMORY USAGE` of its record and client \
             set, mean over {} sessions); `used_memory` grew {per_login:.0} bytes per login flow \
             (session plus the flow's short-lived code tombstone and access token).",
            m.sessions
        );
    }
    let errors: Vec<String> = report
        .outcomes
        .iter()
        .chain(&report.flood)
        .flat_map(|o| {
            o.stats
                .samples
                .iter()
                .map(move |s| format!("- {}: {s}", o.group.scenario.name()))
        })
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(out, "\nErrors seen:\n{}", errors.join("\n"));
    }
    out
}

/// educonnect on PostgreSQL + Redis and the reference provider, scenario by scenario, from the
/// same run.
pub fn side_by_side(ours: &Report, reference: &Report) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Side by side: educonnect ({}) and the {}\n",
        ours.store.name(),
        reference.store.name()
    );
    let _ = writeln!(
        out,
        "| scenario | educonnect ops/s | p99 ms | errors | reference ops/s | p99 ms | errors | educonnect ÷ reference |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|");
    let rows = ours.outcomes.iter().map(|o| (o, "")).chain(
        ours.flood
            .iter()
            .skip(1)
            .map(|o| (o, " (under the login flood)")),
    );
    let theirs = reference
        .outcomes
        .iter()
        .chain(reference.flood.iter().skip(1))
        .collect::<Vec<_>>();
    for (i, (o, suffix)) in rows.enumerate() {
        let Some(r) = theirs.get(i) else { break };
        let flood = !suffix.is_empty();
        let ratio = if flood {
            format!(
                "p99 {:.1} vs {:.1} ms",
                o.stats.quantile_ms(0.99),
                r.stats.quantile_ms(0.99)
            )
        } else {
            format!("{:.2}", o.rate() / r.rate().max(f64::MIN_POSITIVE))
        };
        let _ = writeln!(
            out,
            "| {}{suffix} | {:.0} | {:.2} | {} | {:.0} | {:.2} | {} | {ratio} |",
            o.group.scenario.name(),
            o.rate(),
            o.stats.quantile_ms(0.99),
            o.stats.errors,
            r.rate(),
            r.stats.quantile_ms(0.99),
            r.stats.errors,
        );
    }
    let login = |report: &Report| {
        report
            .outcomes
            .iter()
            .find(|o| o.group.scenario == Scenario::Login)
            .zip(report.login_bound.as_ref())
            .map(|(o, l)| o.rate() / l.rate())
    };
    if let (Some(a), Some(b)) = (login(ours), login(reference)) {
        let _ = writeln!(
            out,
            "\nLogin as a ratio to the argon2 bound measured in the same section: educonnect {a:.2}, \
             reference {b:.2}."
        );
    }
    let _ = writeln!(
        out,
        "Resident memory (all processes): educonnect {:.1} MB idle, {:.1} MB peak; reference {:.1} MB \
         idle, {:.1} MB peak.",
        ours.memory.rss_idle_kib as f64 / 1024.0,
        ours.memory.rss_peak_kib as f64 / 1024.0,
        reference.memory.rss_idle_kib as f64 / 1024.0,
        reference.memory.rss_peak_kib as f64 / 1024.0,
    );
    out
}
