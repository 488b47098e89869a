//! Demo data for the embedded default: the demo relying party, and a small Siècle export the
//! project ships (`demo/siecle/`: a collège and a lycée of the académie de Lyon) imported
//! through the real import, so that a newcomer logs in from the first start and the demo ENT
//! shows what an ENT receives: the guardian's children in both establishments, the pupil's
//! establishment, INE and class. Idempotent: a later start finds the export already imported.
//! The back-office gets its demo staff too (`DEMO_STAFF`): a head, a deputy and a secretary of
//! the collège, an assistance agent of the académie de Lyon and a national operator, each with
//! the demo password and the demo TOTP secret already enrolled, so that `/gestion` can be tried
//! at once (the demo page shows the current code, `demo_totp_code`). Seeded only when the demo
//! is on (`Config::demo_enabled`: the embedded default, or `demo = true`).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;

use crate::accounts::lifecycle::{self, NewPassword};
use crate::accounts::{AccountState, Profile};
use crate::app::App;
use crate::clients::{AuthMethod, Client, GrantType, Registration};
use crate::config::Config;
use crate::federation::fake::{FakeFranceConnect, FakeSettings};
use crate::provisioning;
use crate::secrets::Secret;
use crate::siecle::{self, Limits, Uai};
use crate::staff::{totp, Role, RoleKind, RoleScope, Staff, StaffState};
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

/// The password of every demo staff member, printed at start-up.
pub const DEMO_STAFF_PASSWORD: &str = "Gestion-Demo-2026";

/// The TOTP secret (RFC 6238) every demo staff member has enrolled, in base32 as an
/// authenticator app takes it (the bytes of « EduConnect demo TOTP »). **Demo only**: it is
/// public, so a deployment with the demo on offers no second factor worth the name; the
/// production store never gets it (see `seed`'s caller, `Config::demo_enabled`).
pub const DEMO_TOTP_SECRET_BASE32: &str = "IVSHKQ3PNZXGKY3UEBSGK3LPEBKE6VCQ";
const DEMO_TOTP_SECRET: &[u8; 20] = b"EduConnect demo TOTP";

/// The demo's establishments and académie.
const DEMO_COLLEGE: &str = "0699990J";
const DEMO_ACADEMY: &str = "Lyon";

/// One demo staff member and their role.
pub struct DemoStaff {
    pub login: &'static str,
    pub given_name: &'static str,
    pub family_name: &'static str,
    pub role: RoleKind,
    /// The establishment of a head, deputy or delegate.
    pub uai: Option<&'static str>,
    /// The académie of an assistance agent.
    pub academy: Option<&'static str>,
    /// A delegate's rights.
    pub pupils: bool,
    pub guardians: bool,
}

const fn demo_staff(
    login: &'static str,
    given_name: &'static str,
    family_name: &'static str,
    role: RoleKind,
) -> DemoStaff {
    DemoStaff {
        login,
        given_name,
        family_name,
        role,
        uai: None,
        academy: None,
        pupils: false,
        guardians: false,
    }
}

/// The back-office's demo staff, printed at start-up with `DEMO_STAFF_PASSWORD`.
pub const DEMO_STAFF: [DemoStaff; 5] = [
    DemoStaff {
        uai: Some(DEMO_COLLEGE),
        ..demo_staff("m.bernard", "Marie", "Bernard", RoleKind::Head)
    },
    DemoStaff {
        uai: Some(DEMO_COLLEGE),
        ..demo_staff("a.moreau", "Antoine", "Moreau", RoleKind::Deputy)
    },
    // The collège's secretary, delegated the pupils' accounts only.
    DemoStaff {
        uai: Some(DEMO_COLLEGE),
        pupils: true,
        ..demo_staff("s.petit", "Sophie", "Petit", RoleKind::Delegate)
    },
    DemoStaff {
        academy: Some(DEMO_ACADEMY),
        ..demo_staff("r.garnier", "Romain", "Garnier", RoleKind::Assistance)
    },
    demo_staff("o.national", "Odile", "Laurent", RoleKind::Operator),
];

impl DemoStaff {
    fn scope(&self) -> anyhow::Result<RoleScope> {
        Ok(match (self.uai, self.academy) {
            (Some(uai), _) => {
                RoleScope::Establishment(Uai::parse(uai).map_err(anyhow::Error::msg)?)
            }
            (None, Some(academy)) => {
                RoleScope::Academy(siecle::ids::academy_named(academy).context("a demo académie")?)
            }
            (None, None) => RoleScope::National,
        })
    }

    /// The role and where, as the start-up message prints it.
    pub fn role_words(&self) -> String {
        let scope = match (self.uai, self.academy) {
            (Some(uai), _) => format!(" {uai}"),
            (None, Some(academy)) => format!(" {academy}"),
            (None, None) => String::new(),
        };
        let rights = match (self.pupils, self.guardians) {
            (true, false) => " (élèves)",
            (false, true) => " (représentants)",
            _ => "",
        };
        format!("{}{scope}{rights}", self.role.as_str())
    }
}

/// The code the demo TOTP secret gives at `now_ms`: what the demo page shows, so that the
/// demo staff sign in without an authenticator app.
pub fn demo_totp_code(now_ms: i64) -> String {
    let seconds = u64::try_from(now_ms / 1000).unwrap_or(0);
    totp::code_at(DEMO_TOTP_SECRET, seconds).expect("the demo secret makes codes")
}

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

/// The embedded default's FranceConnect: the fake (`federation::fake`), on the port after the
/// provider's (or, when that one is taken, any free port of the same address, which the welcome
/// message prints), and `[franceconnect]` pointed at it, so that the FranceConnect login can be
/// tried at once (issue #18). Only with the demo on the embedded default, listening on a loopback
/// address, and no FranceConnect configured; a fake that cannot start leaves the demo without it
/// (a warning). The fake stops when the returned value is dropped.
pub async fn start_franceconnect(config: &mut Config) -> Option<FakeFranceConnect> {
    let wanted = config.is_embedded()
        && config.demo_enabled()
        && !config.franceconnect.enabled
        && config.listen.ip().is_loopback();
    if !wanted {
        return None;
    }
    let next = SocketAddr::new(config.listen.ip(), config.listen.port().checked_add(1)?);
    let started = async {
        let listener = match tokio::net::TcpListener::bind(next).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::info!(%next, %error, "the demo's fake FranceConnect takes a free port");
                tokio::net::TcpListener::bind(SocketAddr::new(next.ip(), 0)).await?
            }
        };
        FakeFranceConnect::start(listener, FakeSettings::for_provider(config)).await
    };
    match started.await {
        Ok(fake) => {
            fake.configure(&mut config.franceconnect);
            Some(fake)
        }
        Err(error) => {
            tracing::warn!(%error, "the demo's fake FranceConnect did not start");
            None
        }
    }
}

/// Everything of the demo: the directory (`seed_directory`) and the back-office's demo staff.
pub async fn seed(app: &Arc<App>) -> anyhow::Result<()> {
    seed_directory(app).await?;
    for demo in &DEMO_STAFF {
        seed_staff(app, demo).await?;
    }
    Ok(())
}

/// The demo relying party, the demo export imported, the printed accounts made usable; no
/// staff (tests of the back-office make their own).
pub async fn seed_directory(app: &Arc<App>) -> anyhow::Result<()> {
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

/// One demo staff member, as `DEMO_STAFF` describes them: created with the demo password
/// unless they exist, given their role unless they hold it, their second factor enrolled with
/// the demo secret unless one is (a reset by an operator is enrolled again at the next start).
async fn seed_staff(app: &App, demo: &DemoStaff) -> anyhow::Result<()> {
    let store = &app.durable;
    let now = app.now_ms();
    let staff = match store.staff_credentials(demo.login).await? {
        Some(credentials) => credentials.staff,
        None => {
            let staff = Staff {
                id: crate::accounts::new_account_id(now),
                login: demo.login.to_owned(),
                given_name: demo.given_name.to_owned(),
                family_name: demo.family_name.to_owned(),
                email: format!("{}@demo.educonnect.invalid", demo.login),
                state: StaffState::Active,
                totp_enrolled_at: None,
                created_at: now,
            };
            let hash = app
                .passwords
                .hash(&Secret::from_presented(DEMO_STAFF_PASSWORD))
                .await?;
            store
                .insert_staff(&staff, &hash)
                .await
                .map_err(|e| anyhow::anyhow!("demo staff {}: {e}", demo.login))?;
            staff
        }
    };
    let scope = demo.scope()?;
    let held = store
        .roles_of(&staff.id)
        .await?
        .iter()
        .any(|r| r.live(now) && r.kind == demo.role && r.scope == scope);
    if !held {
        let role = Role {
            id: crate::accounts::new_account_id(now),
            staff_id: staff.id.clone(),
            kind: demo.role,
            scope,
            pupils: demo.pupils,
            guardians: demo.guardians,
            ends_at: None,
            granted_by: "demo".into(),
            granted_at: now,
            revoked_at: None,
        };
        store.insert_role(&role).await?;
    }
    if staff.totp_enrolled_at.is_none() {
        let sealed = totp::seal(app.keys.kek(), &staff.id, DEMO_TOTP_SECRET)?;
        store.enrol_staff_totp(&staff.id, &sealed, now).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_secret_is_the_one_its_base32_names() {
        let enrolment = totp::enrolment(DEMO_TOTP_SECRET, "m.bernard").unwrap();
        assert_eq!(enrolment.base32, DEMO_TOTP_SECRET_BASE32);
        let code = demo_totp_code(59_000);
        assert_eq!(code, totp::code_at(DEMO_TOTP_SECRET, 59).unwrap());
        assert_eq!(code.len(), 6);
    }
}
