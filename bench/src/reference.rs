//! The reference OpenID provider the suite compares educonnect with: node `oidc-provider` on
//! Redis (`bench/reference/server.mjs`), given the same relying parties, the same accounts and
//! the same argon2id hash.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use educonnect::config::PasswordConfig;

use crate::seed::{
    ClientCreds, Seeded, ACCOUNT_PREFIX, ENT_ID, PASSWORD, REDIRECT_URI, SERVICE_ID,
};

/// Where `server.mjs` and its `node_modules` are (`bench/reference` of this repository).
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("reference")
}

/// The oidc-provider version `package.json` pins.
pub fn version() -> String {
    std::fs::read_to_string(dir().join("package.json"))
        .ok()
        .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
        .and_then(|p| {
            p["dependencies"]["oidc-provider"]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "?".into())
}

/// The command that starts the reference on `port`, and what it was given.
pub fn command(
    port: u16,
    redis_url: &str,
    redis_prefix: &str,
    password: &PasswordConfig,
    accounts: u64,
) -> anyhow::Result<(tokio::process::Command, Seeded)> {
    let dir = dir();
    if !dir.join("node_modules/oidc-provider").exists() {
        bail!(
            "the reference provider is not installed: run `npm install` in {} (bench/run does)",
            dir.display()
        );
    }
    let hash = educonnect::accounts::password::hash_blocking(
        educonnect::accounts::password::params(password)?,
        PASSWORD.as_bytes(),
    )?;
    let ent = ClientCreds {
        id: ENT_ID.into(),
        secret: educonnect::secrets::random_b64(32),
        redirect_uri: REDIRECT_URI.into(),
    };
    let service = ClientCreds {
        id: SERVICE_ID.into(),
        secret: educonnect::secrets::random_b64(32),
        redirect_uri: String::new(),
    };
    let mut command = tokio::process::Command::new("node");
    command
        .arg(dir.join("server.mjs"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NODE_ENV", "production")
        .env("REF_ISSUER", format!("http://127.0.0.1:{port}"))
        .env("REF_PORT", port.to_string())
        .env("REDIS_URL", redis_url)
        .env("REF_REDIS_PREFIX", redis_prefix)
        .env("REF_ENT_ID", &ent.id)
        .env("REF_ENT_SECRET", &ent.secret)
        .env("REF_ENT_REDIRECT", &ent.redirect_uri)
        .env("REF_SERVICE_ID", &service.id)
        .env("REF_SERVICE_SECRET", &service.secret)
        .env("REF_ACCOUNT_PREFIX", ACCOUNT_PREFIX)
        .env("REF_ACCOUNTS", accounts.to_string())
        .env("REF_PASSWORD_HASH", hash)
        .current_dir(&dir);
    which_node().context("node is required for the reference provider")?;
    Ok((
        command,
        Seeded {
            ent,
            service,
            accounts,
            password: PASSWORD.into(),
        },
    ))
}

fn which_node() -> anyhow::Result<()> {
    let status = std::process::Command::new("node")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        bail!("node --version failed");
    }
    Ok(())
}
