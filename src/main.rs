//! The `educonnect` command: parses the command line, loads the configuration, starts the logs
//! and hands over to `cli`, which holds every command.

mod cli;

use clap::Parser;

use educonnect::config::Config;

#[tokio::main]
async fn main() {
    let cli = cli::Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("educonnect: {e}");
            std::process::exit(2);
        }
    };
    init_tracing(&config);
    if let Err(e) = cli::run(cli.command.unwrap_or(cli::Command::Serve), config).await {
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
