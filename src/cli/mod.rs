//! The `educonnect` command line: the clap tree (`Cli`, `Command`) and the dispatch to one file
//! per command group, each holding its own subcommands. Presentation only: parsing flags,
//! printing, exit codes; the rules it applies live in the library (`accounts::lifecycle`,
//! `provisioning`, `tokens`, `staff::directory`).

mod accounts;
mod admin;
mod clients;
mod fake_franceconnect;
mod identifiers;
mod import;
mod keys;
mod notify;
mod serve;
mod staff;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use educonnect::config::Config;
use educonnect::store::sql::SqlStore;
use educonnect::store::DurableStore;

#[derive(Parser)]
#[command(
    name = "educonnect",
    version,
    about = "EduConnect OpenID Connect provider"
)]
pub struct Cli {
    /// Configuration file (TOML). Default: ./educonnect.toml when present.
    #[arg(long, global = true, env = "EDUCONNECT_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the provider (the default command).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Signing keys.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Relying parties.
    Clients {
        #[command(subcommand)]
        command: clients::ClientsCommand,
    },
    /// Accounts by hand (the Siècle import creates the real ones).
    Accounts {
        #[command(subcommand)]
        command: accounts::AccountsCommand,
    },
    /// Identities from the establishments' records.
    Import {
        #[command(subcommand)]
        command: import::ImportCommand,
    },
    /// Notify accounts: identifiers and temporary passwords, as PDF letters or e-mails.
    Notify(notify::NotifyArgs),
    /// An establishment's file of new identifiers (accounts not listed in a previous file).
    Identifiers(identifiers::IdentifiersArgs),
    /// The back-office's staff (`/gestion`): heads, deputies, assistance agents, operators.
    Staff {
        #[command(subcommand)]
        command: staff::StaffCommand,
    },
    /// The administration API (`/admin/...`).
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// A fake FranceConnect for the demo and the tests (refused on a production database).
    FakeFranceconnect(fake_franceconnect::FakeFranceConnectArgs),
}

/// Runs one command; an error is printed by `main` and exits with status 1.
pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve::serve(config).await,
        Command::Migrate => serve::migrate(config).await,
        Command::Keys { command } => keys::run(command, config).await,
        Command::Clients { command } => clients::run(command, config).await,
        Command::Accounts { command } => accounts::run(command, config).await,
        Command::Import { command } => import::run(command, config).await,
        Command::Notify(args) => notify::run(args, config).await,
        Command::Identifiers(args) => identifiers::run(args, config).await,
        Command::Staff { command } => staff::run(command, config).await,
        Command::Admin { command } => admin::run(command),
        Command::FakeFranceconnect(args) => fake_franceconnect::run(args, config).await,
    }
}

/// The durable store, migrated: the commands that work on it directly run without a server
/// having started first.
async fn migrated_store(config: &Config, max_connections: u32) -> anyhow::Result<SqlStore> {
    let store = SqlStore::connect(&config.database_url, max_connections).await?;
    store.migrate().await?;
    Ok(store)
}
