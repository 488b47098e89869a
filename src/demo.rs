//! Demo data for the embedded default: a demo relying party and demo accounts, created once
//! (idempotent), so a newcomer can log in from the first start.

use crate::accounts::{Account, AccountState, LoginId, Profile};
use crate::app::App;
use crate::clients::{AuthMethod, Client, GrantType, Registration};
use crate::secrets::Secret;
use crate::store::InsertAccountError;
use crate::tokens::SigningAlg;

pub const DEMO_CLIENT_ID: &str = "demo-ent";
/// Every scope, the directory's included: an account imported from Siècle shows its
/// establishments, children and identity vectors on the demo page.
pub const DEMO_SCOPE: &str = "openid profile email establishments ine children fr_edu_vecteur";

/// (login, password, profile, given name, family name)
pub const DEMO_ACCOUNTS: [(&str, &str, Profile, &str, &str); 2] = [
    (
        "l.martin01",
        "Eleve-Demo-2026",
        Profile::Pupil,
        "Léa",
        "Martin",
    ),
    (
        "c.martin02",
        "Parent-Demo-2026",
        Profile::Guardian,
        "Claire",
        "Martin",
    ),
];

pub async fn seed(app: &App) -> anyhow::Result<()> {
    // Registered again at every start, so a data folder from an older version gets the
    // current registration (a public client: no secret to keep).
    {
        let registration = Registration {
            id: Some(DEMO_CLIENT_ID.into()),
            name: "ENT de démonstration".into(),
            redirect_uris: vec![app.config.endpoint("/demo/callback")],
            post_logout_redirect_uris: vec![app.config.endpoint("/demo")],
            backchannel_logout_uri: None,
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            scopes: DEMO_SCOPE.split(' ').map(str::to_owned).collect(),
            auth_method: AuthMethod::None,
            id_token_alg: SigningAlg::RS256,
            jwks: None,
            require_consent: false,
            resource_server: false,
        };
        let (client, _) =
            Client::register(registration, app.now_ms()).map_err(|e| anyhow::anyhow!(e))?;
        app.durable.put_client(&client).await?;
    }
    for (login, password, profile, given, family) in DEMO_ACCOUNTS {
        let login = LoginId::parse(login).expect("demo logins are valid");
        if app
            .durable
            .account_by_login(login.as_str())
            .await?
            .is_some()
        {
            continue;
        }
        let mut account = Account::new(login, profile, given, family, app.now_ms());
        account.state = AccountState::Active;
        account.email = Some(format!("{}@demo.educonnect.invalid", account.login));
        account.password_hash = Some(
            app.passwords
                .hash(&Secret::from_presented(password))
                .await?,
        );
        match app.durable.insert_account(&account).await {
            Ok(()) | Err(InsertAccountError::LoginTaken(_)) => {}
            Err(InsertAccountError::Store(e)) => return Err(e),
        }
    }
    Ok(())
}
