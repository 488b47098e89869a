//! Seeds a provider's durable store with the benchmark's relying parties and accounts, through
//! the provider's own storage code. Accounts share one password hash (made with the provider's
//! parameters): each verification costs the same as with distinct hashes.

use std::sync::Arc;

use educonnect::accounts::{Account, AccountState, LoginId, Profile};
use educonnect::clients::{AuthMethod, Client, GrantType, Registration};
use educonnect::config::PasswordConfig;
use educonnect::store::sql::SqlStore;
use educonnect::store::{AccountStore, ClientStore, DurableStore, InsertAccountError};
use educonnect::tokens::SigningAlg;

pub const ENT_ID: &str = "bench-ent";
pub const SERVICE_ID: &str = "bench-service";
pub const REDIRECT_URI: &str = "https://ent.bench.example/cb";
/// A relying party known to the provider.
#[derive(Clone, Debug)]
pub struct ClientCreds {
    pub id: String,
    pub secret: String,
    pub redirect_uri: String,
}

/// The login of the `n`th seeded account.
pub fn account_login(prefix: &str, n: u64) -> String {
    format!("{prefix}{n:07}")
}

pub const ACCOUNT_PREFIX: &str = "bench.u";
pub const PASSWORD: &str = "Bench-Password-2026";

/// What the driver needs to know of a seeded provider: its relying parties, and its accounts
/// (`bench.u0000000`... with one password).
#[derive(Clone, Debug)]
pub struct Seeded {
    pub ent: ClientCreds,
    pub service: ClientCreds,
    pub accounts: u64,
    pub password: String,
}

fn registration(id: &str, grants: Vec<GrantType>, scopes: &[&str]) -> Registration {
    Registration {
        id: Some(id.into()),
        name: format!("Benchmark {id}"),
        redirect_uris: if grants.contains(&GrantType::AuthorizationCode) {
            vec![REDIRECT_URI.into()]
        } else {
            vec![]
        },
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        grant_types: grants,
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        auth_method: AuthMethod::ClientSecretBasic,
        id_token_alg: SigningAlg::RS256,
        jwks: None,
        require_consent: false,
        resource_server: false,
    }
}

async fn client(
    store: &SqlStore,
    registration: Registration,
    now_ms: i64,
) -> anyhow::Result<ClientCreds> {
    let redirect_uri = registration
        .redirect_uris
        .first()
        .cloned()
        .unwrap_or_default();
    let (client, secret) = Client::register(registration, now_ms)?;
    store.put_client(&client).await?;
    Ok(ClientCreds {
        id: client.id,
        secret: secret.expect("a secret-based client").expose().to_owned(),
        redirect_uri,
    })
}

/// Migrates, (re)registers the two clients with fresh secrets, and inserts the accounts that
/// are missing.
pub async fn seed(
    database_url: &str,
    password: &PasswordConfig,
    accounts: u64,
) -> anyhow::Result<Seeded> {
    let store = Arc::new(SqlStore::connect(database_url, 8).await?);
    store.migrate().await?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let ent = client(
        &store,
        registration(
            ENT_ID,
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            &["openid", "profile"],
        ),
        now_ms,
    )
    .await?;
    let service = client(
        &store,
        registration(
            SERVICE_ID,
            vec![GrantType::ClientCredentials],
            &["scolarite"],
        ),
        now_ms,
    )
    .await?;
    let hash = educonnect::accounts::password::hash_blocking(
        educonnect::accounts::password::params(password)?,
        PASSWORD.as_bytes(),
    )?;
    let mut tasks = tokio::task::JoinSet::new();
    let per_task = accounts.div_ceil(8);
    for t in 0..8u64 {
        let store = store.clone();
        let hash = hash.clone();
        tasks.spawn(async move {
            for n in (t * per_task)..((t + 1) * per_task).min(accounts) {
                let login = account_login(ACCOUNT_PREFIX, n);
                let mut account = Account::new(
                    LoginId::parse(&login).expect("valid login"),
                    Profile::Pupil,
                    "Élève",
                    &format!("Banc{n}"),
                    now_ms,
                );
                account.state = AccountState::Active;
                account.password_hash = Some(hash.clone());
                match store.insert_account(&account).await {
                    Ok(()) | Err(InsertAccountError::LoginTaken(_)) => {}
                    Err(InsertAccountError::Store(e)) => return Err(e),
                }
            }
            anyhow::Ok(())
        });
    }
    for result in tasks.join_all().await {
        result?;
    }
    Ok(Seeded {
        ent,
        service,
        accounts,
        password: PASSWORD.into(),
    })
}
