//! A notification's letters: what `establishments::notify` returned, as the letters renderer
//! takes it.

use super::letters::{Child, EstablishmentHeading, Letter, LetterPassword};
use crate::accounts::LoginId;
use crate::establishments::Notified;
use crate::siecle::Date;

/// The letters of `notified`, in the same order; `valid_until` is the temporary passwords'.
pub fn letters(
    notified: &[Notified],
    establishment: &EstablishmentHeading,
    service_url: &str,
    issued_on: Date,
    valid_until: Date,
) -> anyhow::Result<Vec<Letter>> {
    notified
        .iter()
        .map(|n| {
            let account = &n.target.account;
            Ok(Letter {
                establishment: establishment.clone(),
                given_name: account.given_name.clone(),
                family_name: account.family_name.clone(),
                profile: account.profile,
                login: LoginId::parse(&account.login)
                    .ok_or_else(|| anyhow::anyhow!("stored login {} is invalid", account.login))?,
                password: match &n.password {
                    Some(password) => LetterPassword::Temporary {
                        password: password.shown(),
                        valid_until,
                    },
                    None => LetterPassword::Unchanged,
                },
                service_url: service_url.to_owned(),
                issued_on,
                children: n
                    .target
                    .children
                    .iter()
                    .map(|c| Child {
                        given_name: c.given_name.clone(),
                        family_name: c.family_name.clone(),
                        class: c.class.clone().unwrap_or_default(),
                    })
                    .collect(),
            })
        })
        .collect()
}
