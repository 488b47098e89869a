//! A notification's letters: what `establishments::notify` returned, as the letters renderer
//! takes it (and the e-mails, which say the same: `email.rs`).

use super::letters::{Child, EstablishmentHeading, Letter, LetterPassword};
use crate::accounts::temporary::TemporaryPassword;
use crate::accounts::LoginId;
use crate::establishments::model::NotificationTarget;
use crate::establishments::Notified;
use crate::siecle::Date;

/// What every letter of one notification shares.
#[derive(Clone, Debug)]
pub struct Context {
    pub establishment: EstablishmentHeading,
    /// Where to log in.
    pub service_url: String,
    pub issued_on: Date,
    /// Until when the temporary passwords are valid.
    pub valid_until: Date,
}

/// The letters of `notified`, in the same order.
pub fn letters(notified: &[Notified], context: &Context) -> anyhow::Result<Vec<Letter>> {
    notified
        .iter()
        .map(|n| letter(&n.target, n.password.as_ref(), context))
        .collect()
}

/// The letter of one person; `password` is `None` for an active account that keeps its own.
pub fn letter(
    target: &NotificationTarget,
    password: Option<&TemporaryPassword>,
    context: &Context,
) -> anyhow::Result<Letter> {
    let account = &target.account;
    Ok(Letter {
        establishment: context.establishment.clone(),
        given_name: account.given_name.clone(),
        family_name: account.family_name.clone(),
        profile: account.profile,
        login: LoginId::parse(&account.login)
            .ok_or_else(|| anyhow::anyhow!("stored login {} is invalid", account.login))?,
        password: match password {
            Some(password) => LetterPassword::Temporary {
                password: password.shown(),
                valid_until: context.valid_until,
            },
            None => LetterPassword::Unchanged,
        },
        service_url: context.service_url.clone(),
        issued_on: context.issued_on,
        children: target
            .children
            .iter()
            .map(|c| Child {
                given_name: c.given_name.clone(),
                family_name: c.family_name.clone(),
                class: c.class.clone().unwrap_or_default(),
            })
            .collect(),
    })
}
