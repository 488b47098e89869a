//! `educonnect serve` (the default command) and `educonnect migrate`: the provider started with
//! its demo seed, the welcome print, the background purge and outbox delivery, the metrics
//! listener, and a shutdown on Ctrl-C or SIGTERM within `shutdown_grace_seconds`.

use std::sync::Arc;

use anyhow::Context;

use educonnect::app::App;
use educonnect::clock::SystemClock;
use educonnect::config::Config;
use educonnect::federation::fake::FakeFranceConnect;

pub async fn migrate(config: Config) -> anyhow::Result<()> {
    super::migrated_store(&config, 2).await?;
    println!("migrations applied");
    Ok(())
}

pub async fn serve(mut config: Config) -> anyhow::Result<()> {
    config.validate_for_serving()?;
    // Kept until the server stops.
    let franceconnect = educonnect::demo::start_franceconnect(&mut config).await;
    let listen = config.listen;
    let app = App::build(config, Arc::new(SystemClock)).await?;
    if app.config.demo_enabled() {
        educonnect::demo::seed(&app).await?;
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(%listen, issuer = %app.config.issuer, embedded = app.config.is_embedded(), "educonnect is serving");
    print_welcome(&app, franceconnect.as_ref());
    tokio::spawn(educonnect::maintenance::run(app.clone()));
    let (stop_delivery, delivery_stopped) = tokio::sync::watch::channel(false);
    let delivery = tokio::spawn(educonnect::maintenance::deliver_outbox(
        app.clone(),
        delivery_stopped,
    ));
    if let Some(address) = app.config.metrics_listen {
        serve_metrics(address).await?;
    }
    let router = educonnect::http::router(app.clone());
    let grace = std::time::Duration::from_secs(app.config.shutdown_grace_seconds);
    let stopping = app.clone();
    let shutdown = async move {
        shutdown_signal().await;
        // Review #13.4: imports under way stop now rather than hold the shutdown.
        stopping.uploads.stop();
        let _ = stop_delivery.send(true);
    };
    educonnect::http::serve_within(listener, router, shutdown, grace).await?;
    // A delivery pass under way ends with the message it is sending, within the grace period.
    if tokio::time::timeout(grace, delivery).await.is_err() {
        tracing::warn!("outbox delivery pass interrupted at shutdown");
    }
    Ok(())
}

/// `/metrics` on its own listener, never on the public one; it runs until the process ends.
async fn serve_metrics(address: std::net::SocketAddr) -> anyhow::Result<()> {
    let metrics = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address} (metrics_listen)"))?;
    tracing::info!(%address, "metrics are served");
    tokio::spawn(educonnect::http::serve(
        metrics,
        educonnect::http::metrics_router(),
        std::future::pending(),
    ));
    Ok(())
}

/// Where to click, for someone who just typed `cargo run`.
fn print_welcome(app: &App, franceconnect: Option<&FakeFranceConnect>) {
    let issuer = &app.config.issuer;
    println!("\nEduConnect is running at {issuer}");
    println!("  discovery: {issuer}/.well-known/openid-configuration");
    if app.config.demo_enabled() {
        println!("  demo ENT:  open {issuer}/demo and click « Se connecter avec EduConnect »");
        println!("  e-mails:   {issuer}/demo/outbox (the outbox, as queued and delivered)");
        for (login, password, profile, _, _) in educonnect::demo::DEMO_ACCOUNTS {
            println!(
                "    {:<9} login {login:<12} password {password}",
                profile.as_str()
            );
        }
        println!(
            "  back-office: {issuer}/gestion, password {} for every login, the second factor's \
             code now on {issuer}/demo/gestion (demo TOTP secret {})",
            educonnect::demo::DEMO_STAFF_PASSWORD,
            educonnect::demo::DEMO_TOTP_SECRET_BASE32
        );
        for staff in &educonnect::demo::DEMO_STAFF {
            println!("    login {:<12} {}", staff.login, staff.role_words());
        }
    }
    if let Some(fake) = franceconnect {
        println!(
            "  FranceConnect (simulated, {}): test identities",
            fake.issuer
        );
        for identity in &educonnect::federation::fake::IDENTITIES {
            println!("    {:<20} {}", identity.full_name(), identity.description);
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
