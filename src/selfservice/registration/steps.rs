//! The checks of each answer of a registration: the SMS code, the choice among accounts, the
//! children's birth dates, the new password and the e-mail offered on the done page. Each
//! moves the flow's stage on, or refuses with a French message.

use super::*;

pub(super) enum Refusal {
    Wrong(String),
    Throttled(String),
}

pub(super) type Step = Result<(), Refusal>;

pub(super) const ASK_NEW_CODE: &str = "Ce code n'est plus valable. Demandez un nouveau code.";

/// Step 2: the SMS code. For an unknown number it is a code nobody received.
pub(super) async fn code_step(
    app: &App,
    flow: &mut Flow<Registration>,
    typed: &str,
    browser: &Browser,
) -> anyhow::Result<Step> {
    let tried = one_time::try_code(
        &*app.ephemeral,
        &app.config.codes,
        &app.config.throttle,
        &subject(&flow.state.mobile),
        typed,
        &browser.address,
        app.now_ms(),
    )
    .await?;
    Ok(match tried {
        Tried::Valid(proven) if proven == flow.state.mobile => {
            let found = candidates(app, &flow.state.mobile).await?;
            match found.as_slice() {
                [one] => {
                    flow.state.account_id = Some(one.id.clone());
                    flow.state.stage = Stage::Dates;
                }
                [] => flow.state.account_id = None,
                _ => flow.state.stage = Stage::Choose,
            }
            if found.is_empty() {
                flow.state.stage = Stage::Done;
            }
            Ok(())
        }
        Tried::Valid(_) | Tried::Spent => Err(Refusal::Wrong(ASK_NEW_CODE.into())),
        Tried::Wrong { left } => Err(Refusal::Wrong(format!(
            "Code incorrect. Il vous reste {left} essai{}.",
            if left > 1 { "s" } else { "" }
        ))),
        Tried::Throttled => Err(Refusal::Throttled(THROTTLED.into())),
    })
}

pub(super) const THROTTLED: &str = "Trop d'essais. Réessayez dans quelques minutes.";

/// Step 3: one of the accounts sharing the number.
pub(super) async fn choose(
    app: &App,
    flow: &mut Flow<Registration>,
    account_id: &str,
) -> anyhow::Result<Step> {
    let found = candidates(app, &flow.state.mobile).await?;
    if !found.iter().any(|a| a.id == account_id) {
        return Ok(Err(Refusal::Wrong(
            "Choisissez l'une des personnes proposées.".into(),
        )));
    }
    flow.state.account_id = Some(account_id.to_owned());
    flow.state.stage = Stage::Dates;
    Ok(Ok(()))
}

/// The children linked to the guardian, each once.
pub(super) async fn children(app: &App, account_id: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut children: Vec<(String, String)> = Vec::new();
    for child in app.durable.affiliations(account_id).await?.children {
        if !children.iter().any(|(id, _)| *id == child.account_id) {
            children.push((child.account_id, child.given_name));
        }
    }
    Ok(children)
}

/// Step 4: every child's birth date, all right.
pub(super) async fn dates_step(
    app: &App,
    flow: &mut Flow<Registration>,
    typed: &[String],
    browser: &Browser,
) -> anyhow::Result<Step> {
    let Some(account_id) = flow.state.account_id.clone() else {
        return Ok(Ok(()));
    };
    let counters = throttle::subject(
        &app.config.throttle,
        &format!("registration-dates:{account_id}"),
        &browser.address,
    );
    let Some(attempt) = throttle::begin(
        &*app.ephemeral,
        &app.config.throttle,
        app.now_ms(),
        counters,
    )
    .await?
    else {
        return Ok(Err(Refusal::Throttled(THROTTLED.into())));
    };
    let children = children(app, &account_id).await?;
    let mut all_right = !children.is_empty() && typed.len() == children.len();
    for ((child_id, _), date) in children.iter().zip(typed) {
        let known = app.durable.pupil_birth_date(child_id).await?;
        all_right &= known.as_deref() == Some(date.trim());
    }
    if all_right {
        attempt.passed(&*app.ephemeral).await?;
        flow.state.stage = Stage::Password;
        if let Some(federated) = &flow.state.federated {
            // Issue #18: the proof is complete; the identity must also be this record's.
            let account = app.durable.account(&account_id).await?;
            let agree = match &account {
                Some(account) => {
                    tie::names_agree(app, &federated.tying, account, &browser.address).await
                }
                None => false,
            };
            if !agree {
                flow.state.stage = Stage::NamesDisagree;
            }
        }
        return Ok(Ok(()));
    }
    attempt.failed();
    flow.state.wrong_dates += 1;
    let left = DATE_TRIES.saturating_sub(flow.state.wrong_dates);
    Ok(Err(Refusal::Wrong(format!(
        "Au moins une date de naissance ne correspond pas à celle que l'établissement a \
         enregistrée. Il vous reste {left} essai{}.",
        if left > 1 { "s" } else { "" }
    ))))
}

pub(super) fn by_the_person<'a>(
    app: &'a App,
    actor: &'a str,
    address: &'a str,
) -> lifecycle::Author<'a> {
    lifecycle::Author {
        audit: &*app.durable,
        actor,
        address: Some(address),
    }
}

/// Step 5: the new password, then the account is active.
pub(super) async fn password_step(
    app: &Arc<App>,
    flow: &mut Flow<Registration>,
    password: Secret,
    confirm: &Secret,
    browser: &Browser,
) -> anyhow::Result<Step> {
    let Some(account) = registering(app, flow).await? else {
        return Ok(Ok(()));
    };
    if password.expose() != confirm.expose() {
        return Ok(Err(Refusal::Wrong(
            PasswordPolicyError::Mismatch.to_string(),
        )));
    }
    let new = match NewPassword::for_account(password, &account) {
        Ok(new) => new,
        Err(rule) => return Ok(Err(Refusal::Wrong(rule.to_string()))),
    };
    let now = app.now_ms();
    let actor = format!("account:{}", account.id);
    let author = by_the_person(app, &actor, &browser.address);
    match lifecycle::activate_with_password(
        &*app.durable,
        &app.passwords,
        app,
        author,
        &account,
        &new,
        now,
    )
    .await
    {
        Ok(()) => {}
        Err(lifecycle::StateChangeError::Disabled { .. }) => {
            flow.state.account_id = None;
            flow.state.stage = Stage::Done;
            return Ok(Ok(()));
        }
        Err(lifecycle::StateChangeError::Store(e)) => return Err(e),
    }
    // The SMS code proved the number reaches this person: it is the account's confirmed
    // mobile now (recovery by SMS works at once), kept apart from Siècle's copy.
    app.durable
        .set_verified_phone(&account.id, &flow.state.mobile, now)
        .await?;
    let event = Event::new(&actor, Action::AccountSelfRegistered, Outcome::Ok, now)
        .on_account(&account.id)
        .from_address(Some(&browser.address));
    audit::record(&*app.durable, event).await;
    metrics::counter!("educonnect_self_registrations_total").increment(1);
    tracing::info!(account = %account.id, "guardian self-registered");
    flow.state.stage = Stage::Done;
    if let Some(federated) = &flow.state.federated {
        // The account is active now: the FranceConnect identity is tied to it (the names
        // agreed at the birth dates; a refusal here is a race, told on the done page).
        let Some(active) = app.durable.account(&account.id).await? else {
            return Ok(Ok(()));
        };
        if let Err(refusal) = tie::tie(app, &federated.tying, &active, &browser.address).await? {
            return Ok(Err(Refusal::Wrong(refusal.message().to_owned())));
        }
    }
    Ok(Ok(()))
}

/// The account being registered, while it is not active yet (a double submit of the password
/// finds it active and shows the done page).
pub(super) async fn registering(
    app: &App,
    flow: &mut Flow<Registration>,
) -> anyhow::Result<Option<Account>> {
    let Some(id) = &flow.state.account_id else {
        return Ok(None);
    };
    let account = app.durable.account(id).await?;
    match account {
        Some(a) if matches!(a.state, AccountState::Created | AccountState::Notified) => Ok(Some(a)),
        _ => {
            flow.state.stage = Stage::Done;
            Ok(None)
        }
    }
}

pub(super) async fn registered(
    app: &App,
    flow: &Flow<Registration>,
) -> anyhow::Result<Option<Account>> {
    match &flow.state.account_id {
        Some(id) => Ok(app
            .durable
            .account(id)
            .await?
            .filter(|a| a.state == AccountState::Active)),
        None => Ok(None),
    }
}

/// Step 6: an address to confirm, a code sent there (the activation's e-mail code).
pub(super) async fn email_step(
    app: &App,
    flow: &mut Flow<Registration>,
    typed: &str,
) -> anyhow::Result<Step> {
    let Some(account) = registered(app, flow).await? else {
        return Ok(Ok(()));
    };
    let Some(address) = EmailAddress::parse(typed) else {
        return Ok(Err(Refusal::Wrong(
            "Saisissez une adresse électronique valide, par exemple nom@exemple.fr.".into(),
        )));
    };
    if !activation::send_code(app, &account, address.as_str()).await? {
        return Ok(Err(Refusal::Wrong(
            "Trop de codes ont été envoyés pour ce compte. Réessayez dans une heure.".into(),
        )));
    }
    flow.state.pending_email = Some(address.as_str().to_owned());
    Ok(Ok(()))
}

pub(super) async fn email_code_step(
    app: &App,
    flow: &mut Flow<Registration>,
    typed: &str,
    browser: &Browser,
) -> anyhow::Result<Step> {
    let (Some(account), Some(address)) = (
        registered(app, flow).await?,
        flow.state.pending_email.clone(),
    ) else {
        return Ok(Ok(()));
    };
    let tried = one_time::try_code(
        &*app.ephemeral,
        &app.config.codes,
        &app.config.throttle,
        &activation::code_subject(&account),
        typed,
        &browser.address,
        app.now_ms(),
    )
    .await?;
    Ok(match tried {
        Tried::Valid(proven) if proven == address => {
            app.durable
                .set_verified_email(&account.id, &address, app.now_ms())
                .await?;
            flow.state.pending_email = None;
            flow.state.confirmed_email = Some(address);
            Ok(())
        }
        Tried::Valid(_) | Tried::Spent => {
            flow.state.pending_email = None;
            Err(Refusal::Wrong(ASK_NEW_CODE.into()))
        }
        Tried::Wrong { left } => Err(Refusal::Wrong(format!(
            "Code incorrect. Il vous reste {left} essai{}.",
            if left > 1 { "s" } else { "" }
        ))),
        Tried::Throttled => Err(Refusal::Throttled(THROTTLED.into())),
    })
}
