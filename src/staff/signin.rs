//! Signing in to the back-office: a login and password (argon2id), throttled like the login
//! page (per login and per address, counted before the check, one verification whether or not
//! the login exists), then the second factor — enrolled at the first sign-in, asked for again
//! as a step-up when a function needs it. Every outcome is in the audit trail.

use super::session::{self, StaffSession};
use super::{totp, Staff, StaffState};
use crate::accounts::throttle;
use crate::app::App;
use crate::audit::{self, Action, Event, Outcome};
use crate::secrets::Secret;

/// The answer to a sign-in or a code, as the pages tell it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    /// Unknown login, wrong password, disabled staff member: one answer for all.
    #[error("Identifiant ou mot de passe incorrect.")]
    Wrong,
    #[error("Code incorrect ou déjà utilisé. Saisissez le code affiché maintenant par votre application.")]
    WrongCode,
    #[error("Trop de tentatives. Réessayez dans quelques minutes.")]
    Throttled,
}

/// Staff logins are lower-case, as typed (spaces around dropped).
pub fn normalize(login: &str) -> String {
    login.trim().to_lowercase()
}

fn throttle_key(login: &str) -> String {
    // An account login never holds ':', so the two never share a counter.
    format!("staff:{login}")
}

/// A signed-in staff member: the new session (password only) and its cookie value.
pub struct SignedIn {
    pub staff: Staff,
    pub session: StaffSession,
    pub cookie: Secret,
}

/// Checks the password; a new session on success.
pub async fn sign_in(
    app: &App,
    login: &str,
    password: &Secret,
    address: &str,
) -> anyhow::Result<Result<SignedIn, SignInError>> {
    let login = normalize(login);
    let key = throttle_key(&login);
    let config = &app.config.throttle;
    let counters = throttle::login(config, &key, address);
    let attempt = throttle::begin(&*app.ephemeral, config, app.now_ms(), counters).await?;
    let credentials = if login.is_empty() || login.len() > 100 {
        None
    } else {
        app.durable.staff_credentials(&login).await?
    };
    let who = match &credentials {
        Some(c) => format!("staff:{}", c.staff.login),
        None => login_pseudonym(app, &login),
    };
    let Some(attempt) = attempt else {
        sign_in_event(app, &who, address, Outcome::Failed, Some("throttled")).await;
        return Ok(Err(SignInError::Throttled));
    };
    let usable = credentials.filter(|c| c.staff.state == StaffState::Active);
    let verification = app
        .passwords
        .verify(password, usable.as_ref().map(|c| c.password_hash.as_str()))
        .await?;
    let Some(credentials) = usable.filter(|_| verification.ok) else {
        attempt.failed();
        sign_in_event(app, &who, address, Outcome::Failed, None).await;
        return Ok(Err(SignInError::Wrong));
    };
    attempt.passed(&*app.ephemeral).await?;
    throttle::clear_account(&*app.ephemeral, config, app.now_ms(), &key).await?;
    if verification.needs_rehash {
        let hash = app.passwords.hash(password).await?;
        app.durable
            .set_staff_password(&credentials.staff.id, &hash, app.now_ms())
            .await?;
    }
    let (session, cookie) = session::create(app, &credentials.staff.id).await?;
    sign_in_event(app, &who, address, Outcome::Ok, None).await;
    Ok(Ok(SignedIn {
        staff: credentials.staff,
        session,
        cookie,
    }))
}

/// What names an unknown login in the audit trail: `staff-login:` and 12 characters of its keyed
/// pseudonym, never the login as typed (a password typed in the login field by mistake).
fn login_pseudonym(app: &App, login: &str) -> String {
    let pseudonym = app
        .keys
        .kek()
        .pseudonym("audit-staff-login", login.as_bytes());
    format!("staff-login:{}", &pseudonym[..12])
}

async fn sign_in_event(app: &App, who: &str, address: &str, outcome: Outcome, why: Option<&str>) {
    let mut event =
        Event::new(who, Action::StaffSignIn, outcome, app.now_ms()).from_address(Some(address));
    if let Some(why) = why {
        event = event.detail(why);
    }
    audit::record(&*app.durable, event).await
}

/// Where a signed-in staff member stands with the second factor.
pub enum SecondFactor {
    /// Enrolled: a code is asked for (a step-up).
    Enrolled,
    /// Not yet: the enrolment shows this secret (as a QR code and base32), kept sealed in the
    /// session until a first code confirms it.
    Enrolling(totp::Enrolment),
}

/// What the second-factor page shows; starts an enrolment when none is enrolled.
pub async fn second_factor(
    app: &App,
    staff: &Staff,
    session: &mut StaffSession,
) -> anyhow::Result<SecondFactor> {
    if staff.totp_enrolled_at.is_some() {
        return Ok(SecondFactor::Enrolled);
    }
    let kek = app.keys.kek();
    let secret = match &session.enrolling {
        Some(sealed) => totp::open(kek, &staff.id, sealed)?,
        None => {
            let secret = totp::generate_secret();
            session.enrolling = Some(totp::seal(kek, &staff.id, &secret)?);
            session::save(app, session).await?;
            secret
        }
    };
    Ok(SecondFactor::Enrolling(totp::enrolment(
        &secret,
        &staff.login,
    )?))
}

/// Checks a code: the enrolled secret's, or the one being enrolled (which it then enrols). On
/// success the session is renewed with the second factor; returns the new session and cookie.
pub async fn present_code(
    app: &App,
    staff: &Staff,
    session: StaffSession,
    code: &str,
    address: &str,
) -> anyhow::Result<Result<(StaffSession, Secret), SignInError>> {
    let config = &app.config.throttle;
    let counters = throttle::subject(config, &format!("staff-totp:{}", staff.id), address);
    let Some(attempt) = throttle::begin(&*app.ephemeral, config, app.now_ms(), counters).await?
    else {
        code_event(
            app,
            staff,
            address,
            Action::StaffSecondFactor,
            Outcome::Failed,
        )
        .await;
        return Ok(Err(SignInError::Throttled));
    };
    let kek = app.keys.kek();
    let (sealed, enrolling) = match (&session.enrolling, staff.totp_enrolled_at) {
        (_, Some(_)) => {
            let credentials = app.durable.staff_credentials(&staff.login).await?;
            match credentials.and_then(|c| c.totp_sealed) {
                Some(sealed) => (sealed, false),
                None => return Ok(Err(SignInError::WrongCode)),
            }
        }
        (Some(sealed), None) => (sealed.clone(), true),
        (None, None) => return Ok(Err(SignInError::WrongCode)),
    };
    let secret = totp::open(kek, &staff.id, &sealed)?;
    let now_s = (app.now_ms() / 1000) as u64;
    let action = if enrolling {
        Action::StaffSecondFactorEnrolled
    } else {
        Action::StaffSecondFactor
    };
    if !totp::verify(&*app.ephemeral, &staff.id, &secret, code, now_s).await? {
        attempt.failed();
        code_event(app, staff, address, action, Outcome::Failed).await;
        return Ok(Err(SignInError::WrongCode));
    }
    attempt.passed(&*app.ephemeral).await?;
    if enrolling
        && !app
            .durable
            .enrol_staff_totp(&staff.id, &sealed, app.now_ms())
            .await?
    {
        // Enrolled meanwhile from another browser: that one stands, this code proves nothing.
        return Ok(Err(SignInError::WrongCode));
    }
    let mut session = session;
    session.enrolling = None;
    session.second_factor_at = Some(app.now_ms());
    let renewed = session::renew(app, session).await?;
    code_event(app, staff, address, action, Outcome::Ok).await;
    Ok(Ok(renewed))
}

async fn code_event(app: &App, staff: &Staff, address: &str, action: Action, outcome: Outcome) {
    let event = Event::new(
        &format!("staff:{}", staff.login),
        action,
        outcome,
        app.now_ms(),
    )
    .on(format!("staff:{}", staff.id))
    .from_address(Some(address));
    audit::record(&*app.durable, event).await
}

/// Why a staff member's new password was not taken (nothing written).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordChangeError {
    #[error("Le mot de passe actuel est incorrect.")]
    WrongCurrent,
    #[error("Trop de tentatives. Réessayez dans quelques minutes.")]
    Throttled,
    #[error("Les deux saisies du nouveau mot de passe diffèrent.")]
    Mismatch,
    #[error("Le nouveau mot de passe doit être différent de l'actuel.")]
    Unchanged,
    /// The password policy's rule, in French.
    #[error("{0}")]
    Policy(String),
}

/// A staff member replaces their password (the initial one handed over at their creation, or
/// any later one): the current one is checked like a sign-in (throttled, counted first), the
/// new one follows the password policy (`NewPassword::for_person`), typed twice. The staff
/// member's other sessions end; `session` stays.
pub async fn change_password(
    app: &App,
    staff: &Staff,
    session: &StaffSession,
    current: &Secret,
    new: Secret,
    confirm: &Secret,
    address: &str,
) -> anyhow::Result<Result<(), PasswordChangeError>> {
    if new.expose() != confirm.expose() {
        return Ok(Err(PasswordChangeError::Mismatch));
    }
    if new.expose() == current.expose() {
        return Ok(Err(PasswordChangeError::Unchanged));
    }
    let new = match crate::accounts::lifecycle::NewPassword::for_person(
        new,
        &staff.login,
        &staff.given_name,
        &staff.family_name,
    ) {
        Ok(new) => new,
        Err(rule) => return Ok(Err(PasswordChangeError::Policy(rule.to_string()))),
    };
    let key = throttle_key(&staff.login);
    let config = &app.config.throttle;
    let counters = throttle::login(config, &key, address);
    let Some(attempt) = throttle::begin(&*app.ephemeral, config, app.now_ms(), counters).await?
    else {
        return Ok(Err(PasswordChangeError::Throttled));
    };
    let stored = app.durable.staff_credentials(&staff.login).await?;
    let verification = app
        .passwords
        .verify(current, stored.as_ref().map(|c| c.password_hash.as_str()))
        .await?;
    if !verification.ok {
        attempt.failed();
        return Ok(Err(PasswordChangeError::WrongCurrent));
    }
    attempt.passed(&*app.ephemeral).await?;
    let hash = app.passwords.hash(new.expose()).await?;
    app.durable
        .set_staff_password(&staff.id, &hash, app.now_ms())
        .await?;
    session::end_others(app, &staff.id, &session.sid).await?;
    let event = Event::new(
        &format!("staff:{}", staff.login),
        Action::StaffPasswordChanged,
        Outcome::Ok,
        app.now_ms(),
    )
    .on(format!("staff:{}", staff.id))
    .from_address(Some(address));
    audit::record(&*app.durable, event).await;
    Ok(Ok(()))
}
