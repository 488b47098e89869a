//! Demo data for the embedded default: the demo relying party, and a small Siècle export the
//! project ships (`demo/siecle/`: a collège and a lycée of the académie de Lyon) imported
//! through the real import, so that a newcomer logs in from the first start and the demo ENT
//! shows what an ENT receives: the guardian's children in both establishments, the pupil's
//! establishment, INE and class. Idempotent: a later start finds the export already imported.

use std::sync::Arc;

use anyhow::Context;

use crate::accounts::lifecycle::{self, NewPassword};
use crate::accounts::{AccountState, Profile};
use crate::app::App;
use crate::clients::{AuthMethod, Client, GrantType, Registration};
use crate::provisioning;
use crate::secrets::Secret;
use crate::siecle::{self, Limits};
use crate::tokens::SigningAlg;

pub const DEMO_CLIENT_ID: &str = "demo-ent";
/// Every scope, the directory's included: an account imported from Siècle shows its
/// establishments, children and identity vectors on the demo page.
pub const DEMO_SCOPE: &str = "openid profile email establishments ine children fr_edu_vecteur";

/// (login, password, profile, given name, family name): the accounts printed at start-up, with
/// the logins the import gives them in a fresh directory.
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

/// Where the demo accounts are in the export: Léa by her INE, Claire by her record in the
/// collège (the lycée's record of her is attached to the same account by the import).
const DEMO_PUPIL_INE: &str = "099990201LM";
const DEMO_GUARDIAN_RECORD: (&str, &str) = ("0699990J", "8201");

/// One establishment of the demo export.
struct DemoExport {
    uai: &'static str,
    /// Not in Siècle exports: what an administrator would set (`PUT /admin/establishments`).
    name: &'static str,
    pupils: &'static [u8],
    guardians: &'static [u8],
}

/// In import order, which fixes the logins: the collège first, where Léa's brother Clément is
/// created before their mother, so he is `c.martin01` and she `c.martin02`.
const EXPORTS: [DemoExport; 2] = [
    DemoExport {
        uai: "0699990J",
        name: "Collège de démonstration",
        pupils: include_bytes!("../demo/siecle/0699990J/ElevesSansAdresses.xml"),
        guardians: include_bytes!("../demo/siecle/0699990J/ResponsablesAvecAdresses.xml"),
    },
    DemoExport {
        uai: "0699991K",
        name: "Lycée de démonstration",
        pupils: include_bytes!("../demo/siecle/0699991K/ElevesSansAdresses.xml"),
        guardians: include_bytes!("../demo/siecle/0699991K/ResponsablesAvecAdresses.xml"),
    },
];

pub async fn seed(app: &Arc<App>) -> anyhow::Result<()> {
    register_client(app).await?;
    for export in &EXPORTS {
        import(app, export).await?;
    }
    let store = &app.durable;
    let pupil = store.pupil_account(DEMO_PUPIL_INE).await?;
    let (uai, personne_id) = DEMO_GUARDIAN_RECORD;
    let guardian = store.person_account(uai, personne_id).await?;
    for (&(login, password, ..), id) in DEMO_ACCOUNTS.iter().zip([pupil, guardian]) {
        let id = id.context("the demo export names the demo accounts")?;
        make_usable(app, &id, login, password).await?;
    }
    Ok(())
}

/// Registered again at every start, so a data folder from an older version gets the current
/// registration (a public client: no secret to keep).
async fn register_client(app: &App) -> anyhow::Result<()> {
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
    app.durable.put_client(&client).await
}

/// One establishment's export, read and imported as `educonnect import siecle` does, unless
/// this very export (same date) was imported already: a second start adds no history line.
async fn import(app: &App, export: &DemoExport) -> anyhow::Result<()> {
    let read = siecle::read_establishment_bytes(export.pupils, export.guardians);
    let checked = provisioning::accept(export.uai.into(), read, false, &Limits::default())
        .map_err(|refused| anyhow::anyhow!("the demo export is refused: {refused:?}"))?;
    let stored = app.durable.establishment(export.uai).await?;
    let exported = checked.export_date.map(|d| d.to_string());
    if exported.is_some() && stored.is_some_and(|s| s.last_export_date == exported) {
        return Ok(());
    }
    provisioning::import_establishment(&*app.durable, &checked, "demo", app.now_ms()).await?;
    app.durable
        .set_establishment_name(export.uai, export.name)
        .await?;
    Ok(())
}

/// An imported account as the welcome message promises it: its known password, active, and an
/// e-mail (the pupil's export has none) for the demo ENT's `email` claim.
async fn make_usable(app: &Arc<App>, id: &str, login: &str, password: &str) -> anyhow::Result<()> {
    let store = &app.durable;
    let account = store.account(id).await?.context("an imported account")?;
    if account.login != login {
        // A data folder seeded by an older version holds hand-made accounts with the demo
        // logins: the import gave the demo family the next numbers.
        tracing::warn!(
            expected = login,
            login = %account.login,
            "the demo account has another login; delete the data folder to start afresh"
        );
    }
    let now = app.now_ms();
    if account.password_hash.is_none() || account.state != AccountState::Active {
        let password = NewPassword::parse(Secret::from_presented(password))
            .context("the demo passwords follow the policy")?;
        let author = lifecycle::Author {
            audit: &**store,
            actor: "demo",
            address: None,
        };
        lifecycle::activate_with_password(
            &**store,
            &app.passwords,
            app,
            author,
            &account,
            &password,
            now,
        )
        .await?;
    }
    if account.email.is_none() {
        let email = format!("{}@demo.educonnect.invalid", account.login);
        store.set_email(id, &email, now).await?;
    }
    Ok(())
}
