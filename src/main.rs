//! The `educonnect` command: serve, migrate, keys, clients, accounts, import.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use educonnect::accounts::{Account, AccountState, LoginId, Profile};
use educonnect::app::App;
use educonnect::clients::{AuthMethod, Client, GrantType, Registration};
use educonnect::clock::SystemClock;
use educonnect::config::Config;
use educonnect::secrets::Secret;
use educonnect::store::sql::SqlStore;
use educonnect::store::{AccountStore, ClientStore, DirectoryStore, DurableStore};
use educonnect::tokens::SigningAlg;

#[derive(Parser)]
#[command(
    name = "educonnect",
    version,
    about = "EduConnect OpenID Connect provider"
)]
struct Cli {
    /// Configuration file (TOML). Default: ./educonnect.toml when present.
    #[arg(long, global = true, env = "EDUCONNECT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the provider (the default command).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Relying parties.
    Clients {
        #[command(subcommand)]
        command: ClientsCommand,
    },
    /// Accounts by hand (the Siècle import creates the real ones).
    Accounts {
        #[command(subcommand)]
        command: AccountsCommand,
    },
    /// Identities from the establishments' records.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// The administration API (`/admin/...`).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Print a new bearer token for the administration API, and the digest to add to
    /// `admin.token_digests` (only the digest is kept in the configuration).
    Token,
}

#[derive(Subcommand)]
enum ImportCommand {
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

#[derive(Subcommand)]
enum KeysCommand {
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

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once
enum ClientsCommand {
    /// Register a relying party; prints its id and (once) its secret.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        id: Option<String>,
        /// Repeat for several URIs.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// Comma-separated: authorization_code, refresh_token, client_credentials.
        #[arg(long, default_value = "authorization_code,refresh_token")]
        grant_types: String,
        /// Space- or comma-separated scopes the client may receive.
        #[arg(long, default_value = "openid profile email offline_access")]
        scopes: String,
        /// client_secret_basic, client_secret_post, private_key_jwt or none.
        #[arg(long, default_value = "client_secret_basic")]
        auth_method: String,
        /// RS256 or ES256.
        #[arg(long, default_value = "RS256")]
        id_token_alg: String,
        /// JWKS file with the client's public keys (private_key_jwt).
        #[arg(long)]
        jwks: Option<PathBuf>,
        #[arg(long)]
        require_consent: bool,
        /// A resource server: may introspect access tokens issued to other clients.
        #[arg(long)]
        resource_server: bool,
    },
    List,
    Remove {
        id: String,
    },
}

#[derive(Subcommand)]
enum AccountsCommand {
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

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("educonnect: {e}");
            std::process::exit(2);
        }
    };
    init_tracing(&config);
    if let Err(e) = run(cli.command.unwrap_or(Command::Serve), config).await {
        eprintln!("educonnect: {e:#}");
        std::process::exit(1);
    }
}

fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let store = SqlStore::connect(&config.database_url, 2).await?;
            store.migrate().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Keys { command } => keys(command, config).await,
        Command::Clients { command } => clients(command, config).await,
        Command::Accounts { command } => accounts(command, config).await,
        Command::Import { command } => import(command, config).await,
        Command::Admin {
            command: AdminCommand::Token,
        } => {
            let token = educonnect::secrets::admin_token();
            println!("token (give it to the API's caller, it is not kept): {token}");
            println!(
                "digest (add it to admin.token_digests): {}",
                educonnect::secrets::digest(token.as_bytes())
            );
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listen = config.listen;
    let app = App::build(config, Arc::new(SystemClock)).await?;
    if app.config.demo_enabled() {
        educonnect::demo::seed(&app).await?;
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(%listen, issuer = %app.config.issuer, embedded = app.config.is_embedded(), "educonnect is serving");
    print_welcome(&app);
    tokio::spawn(educonnect::maintenance::run(app.clone()));
    if let Some(address) = app.config.metrics_listen {
        let metrics = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address} (metrics_listen)"))?;
        tracing::info!(%address, "metrics are served");
        tokio::spawn(educonnect::http::serve(
            metrics,
            educonnect::http::metrics_router(),
            std::future::pending(),
        ));
    }
    let router = educonnect::http::router(app.clone());
    let grace = std::time::Duration::from_secs(app.config.shutdown_grace_seconds);
    let stopping = app.clone();
    let shutdown = async move {
        shutdown_signal().await;
        // Review #13.4: imports under way stop now rather than hold the shutdown.
        stopping.uploads.stop();
    };
    educonnect::http::serve_within(listener, router, shutdown, grace).await?;
    Ok(())
}

fn print_welcome(app: &App) {
    let issuer = &app.config.issuer;
    println!("\nEduConnect is running at {issuer}");
    println!("  discovery: {issuer}/.well-known/openid-configuration");
    if app.config.demo_enabled() {
        println!("  demo ENT:  open {issuer}/demo and click « Se connecter avec EduConnect »");
        for (login, password, profile, _, _) in educonnect::demo::DEMO_ACCOUNTS {
            println!(
                "    {:<9} login {login:<12} password {password}",
                profile.as_str()
            );
        }
    }
    println!();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}

async fn keys(command: KeysCommand, config: Config) -> anyhow::Result<()> {
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

async fn clients(command: ClientsCommand, config: Config) -> anyhow::Result<()> {
    let store = SqlStore::connect(&config.database_url, 2).await?;
    store.migrate().await?;
    match command {
        ClientsCommand::Add {
            name,
            id,
            redirect_uris,
            post_logout_redirect_uris,
            backchannel_logout_uri,
            grant_types,
            scopes,
            auth_method,
            id_token_alg,
            jwks,
            require_consent,
            resource_server,
        } => {
            let grant_types = grant_types
                .split(',')
                .map(|g| {
                    GrantType::parse(g.trim()).with_context(|| format!("unknown grant type {g}"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let jwks = match jwks {
                Some(path) => Some(serde_json::from_str(
                    &std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?,
                )?),
                None => None,
            };
            let registration = Registration {
                id,
                name,
                redirect_uris,
                post_logout_redirect_uris,
                backchannel_logout_uri,
                grant_types,
                scopes: scopes
                    .split([' ', ','])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                auth_method: AuthMethod::parse(&auth_method)
                    .with_context(|| format!("unknown auth method {auth_method}"))?,
                id_token_alg: SigningAlg::parse(&id_token_alg)
                    .with_context(|| format!("unknown algorithm {id_token_alg}"))?,
                jwks,
                require_consent,
                resource_server,
            };
            let now = educonnect::clock::Clock::now_ms(&SystemClock);
            let (client, secret) =
                Client::register(registration, now).map_err(|e| anyhow::anyhow!(e))?;
            if store.client(&client.id).await?.is_some() {
                bail!("a client with id {} already exists", client.id);
            }
            store.put_client(&client).await?;
            println!("client_id:     {}", client.id);
            match secret {
                Some(secret) => println!(
                    "client_secret: {}\n(shown once: only its digest is stored)",
                    secret.expose()
                ),
                None => println!("(no secret: {})", client.auth_method.as_str()),
            }
        }
        ClientsCommand::List => {
            for client in store.clients().await? {
                println!(
                    "{:<24} {:<20} {:<28} {}",
                    client.id,
                    client.auth_method.as_str(),
                    client.name,
                    client.redirect_uris.join(" ")
                );
            }
        }
        ClientsCommand::Remove { id } => {
            if !store.delete_client(&id).await? {
                bail!("no client {id}");
            }
            println!("removed {id}");
        }
    }
    Ok(())
}

async fn accounts(command: AccountsCommand, config: Config) -> anyhow::Result<()> {
    let password = match &command {
        AccountsCommand::Add { password, .. } | AccountsCommand::SetPassword { password, .. } => {
            password
        }
    };
    if password.chars().count() < 8 {
        bail!("the password must have at least 8 characters");
    }
    let hasher = educonnect::accounts::password::PasswordHasher::new(&config.password)?;
    let hash = hasher.hash(&Secret::from_presented(password)).await?;
    let store = SqlStore::connect(&config.database_url, 2).await?;
    store.migrate().await?;
    let now = educonnect::clock::Clock::now_ms(&SystemClock);
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
            let mut account = Account::new(login, profile, &given_name, &family_name, now);
            account.state = AccountState::Active;
            account.email = email;
            account.password_hash = Some(hash);
            store.insert_account(&account).await?;
            println!("account {} created (sub {})", account.login, account.id);
        }
        AccountsCommand::SetPassword { login, .. } => {
            let Some(account) = store.account_by_login(&login).await? else {
                bail!("no account {login}");
            };
            if account.state == AccountState::Disabled {
                bail!("account {login} is disabled");
            }
            store.set_password_hash(&account.id, &hash, now).await?;
            store
                .set_state(&account.id, AccountState::Active, now)
                .await?;
            println!("account {} is active with the new password", account.login);
        }
    }
    Ok(())
}

async fn import(command: ImportCommand, config: Config) -> anyhow::Result<()> {
    use educonnect::provisioning::{import_exports, Outcome, Summary};
    use indicatif::{ProgressBar, ProgressStyle};

    let ImportCommand::Siecle {
        paths,
        skip_invalid,
    } = command;
    let pairs = educonnect::siecle::find_exports(&paths).map_err(anyhow::Error::msg)?;
    let store = SqlStore::connect(&config.database_url, 4).await?;
    store.migrate().await?;
    let bar = ProgressBar::new(pairs.len() as u64).with_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} établissements  {msg}  [{elapsed_precise}, reste {eta}]",
    )?);
    /// The bar: establishments done, records per second.
    struct Bar {
        bar: ProgressBar,
        started: std::time::Instant,
        records: u64,
    }
    impl educonnect::provisioning::Progress for Bar {
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
    let started = std::time::Instant::now();
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
        educonnect::provisioning::FIRST_LOAD_FROM,
    )
    .await?;
    let bar = progress.bar;
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    // A large import leaves the planner's statistics behind (autovacuum may be late, or off).
    const STATISTICS_AFTER: u64 = 10_000;
    let written: u64 = outcomes
        .iter()
        .map(|o| match o {
            Outcome::Imported(r) => r.created() + r.arrived + r.updated + r.linked + r.left,
            Outcome::Refused { .. } => 0,
        })
        .sum();
    if written >= STATISTICS_AFTER {
        let started = std::time::Instant::now();
        store.refresh_statistics().await?;
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            "statistics refreshed"
        );
    }
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
    for outcome in &outcomes {
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
    let summary = Summary::of(&outcomes, elapsed);
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
