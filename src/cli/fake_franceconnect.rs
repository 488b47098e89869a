//! `educonnect fake-franceconnect`: the fake FranceConnect (`federation::fake`) on a port of
//! its own, for the demo and for trying the FranceConnect login by hand. Refused with a
//! production configuration.

use std::net::SocketAddr;

use anyhow::Context;
use clap::Args;

use educonnect::config::{Config, Redacted};
use educonnect::federation::fake::{self, FakeFranceConnect, FakeSettings, IDENTITIES};

#[derive(Args)]
pub struct FakeFranceConnectArgs {
    /// Address to listen on; the issuer is http://<listen>/api/v2.
    #[arg(long, default_value = "127.0.0.1:9191")]
    listen: SocketAddr,
    /// A redirect URI of the client (repeatable). Default: <issuer>/franceconnect/retour of the
    /// configured provider.
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// A post-logout redirect URI of the client (repeatable). Default: the configured
    /// provider's franceconnect.post_logout_redirect.
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// The client id. Default: franceconnect.client_id, or educonnect-demo.
    #[arg(long)]
    client_id: Option<String>,
    /// The client secret. Default: franceconnect.client_secret, or the demo secret.
    #[arg(
        long,
        env = "EDUCONNECT_FAKE_FRANCECONNECT_SECRET",
        hide_env_values = true
    )]
    client_secret: Option<String>,
}

pub async fn run(args: FakeFranceConnectArgs, config: Config) -> anyhow::Result<()> {
    fake::refuse_production(&config)?;
    let mut settings = FakeSettings::for_provider(&config);
    if let Some(id) = args.client_id {
        settings.client_id = id;
    }
    if let Some(secret) = args.client_secret {
        settings.client_secret = Redacted(secret);
    }
    if !args.redirect_uris.is_empty() {
        settings.redirect_uris = args.redirect_uris;
    }
    if !args.post_logout_redirect_uris.is_empty() {
        settings.post_logout_redirect_uris = args.post_logout_redirect_uris;
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let client_id = settings.client_id.clone();
    let redirect_uris = settings.redirect_uris.join(" ");
    let running = FakeFranceConnect::start(listener, settings).await?;
    println!(
        "\nFake FranceConnect (never in production) at {}",
        running.issuer
    );
    println!(
        "  discovery: {}/.well-known/openid-configuration",
        running.issuer
    );
    println!("  client id {client_id}, redirect URIs {redirect_uris}");
    println!(
        "  point the provider at it: EDUCONNECT_FRANCECONNECT__ENABLED=true \
         EDUCONNECT_FRANCECONNECT__ISSUER={} EDUCONNECT_FRANCECONNECT__CLIENT_ID={client_id} \
         EDUCONNECT_FRANCECONNECT__CLIENT_SECRET=<the secret>",
        running.issuer
    );
    println!("  test identities:");
    for identity in &IDENTITIES {
        println!("    {:<20} {}", identity.full_name(), identity.description);
    }
    tokio::signal::ctrl_c().await?;
    Ok(())
}
