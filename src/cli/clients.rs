//! `educonnect clients`: relying parties registered, listed and removed. The flags are parsed
//! into a `Registration`; `Client::register` checks it and makes the secret.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Subcommand;

use educonnect::clients::{AuthMethod, Client, GrantType, Registration};
use educonnect::clock::{Clock, SystemClock};
use educonnect::config::Config;
use educonnect::store::ClientStore;
use educonnect::tokens::SigningAlg;

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once
pub enum ClientsCommand {
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

pub async fn run(command: ClientsCommand, config: Config) -> anyhow::Result<()> {
    let store = super::migrated_store(&config, 2).await?;
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
            let (client, secret) = Client::register(registration, SystemClock.now_ms())
                .map_err(|e| anyhow::anyhow!(e))?;
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
