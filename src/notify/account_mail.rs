//! E-mails about an account's security, in French, as plain text and HTML (askama templates
//! under `templates/email/`, the HTML escaped): the code that confirms an address, the notice
//! that the password changed, a forgotten password's link, a forgotten identifier. Composed
//! here, queued by the caller (`crate::outbox`).

use askama::Template;

use crate::accounts::Account;
use crate::outbox::Email;
use crate::secrets::Secret;
use crate::siecle::Date;

use super::letters::french_date;

#[derive(Template)]
#[template(path = "email/code.txt")]
struct CodeText<'a> {
    given_name: &'a str,
    family_name: &'a str,
    login: &'a str,
    code: &'a str,
    minutes: u64,
}

#[derive(Template)]
#[template(path = "email/code.html")]
struct CodeHtml<'a> {
    given_name: &'a str,
    family_name: &'a str,
    login: &'a str,
    code: &'a str,
    minutes: u64,
}

/// The code confirming `to` for `account`, valid `minutes`.
pub fn code(to: &str, account: &Account, code: &Secret, minutes: u64) -> anyhow::Result<Email> {
    let (given_name, family_name, login) =
        (&*account.given_name, &*account.family_name, &*account.login);
    let code = code.expose();
    Ok(Email {
        to: to.to_owned(),
        subject: format!("Votre code de confirmation EduConnect : {code}"),
        text: CodeText {
            given_name,
            family_name,
            login,
            code,
            minutes,
        }
        .render()?,
        html: CodeHtml {
            given_name,
            family_name,
            login,
            code,
            minutes,
        }
        .render()?,
    })
}

#[derive(Template)]
#[template(path = "email/password_changed.txt")]
struct ChangedText<'a> {
    given_name: &'a str,
    family_name: &'a str,
    login: &'a str,
    when: &'a str,
}

#[derive(Template)]
#[template(path = "email/password_changed.html")]
struct ChangedHtml<'a> {
    given_name: &'a str,
    family_name: &'a str,
    login: &'a str,
    when: &'a str,
}

/// Tells `to` that `account`'s password changed at `at_ms`.
pub fn password_changed(to: &str, account: &Account, at_ms: i64) -> anyhow::Result<Email> {
    let (given_name, family_name, login) =
        (&*account.given_name, &*account.family_name, &*account.login);
    let minutes_of_day = at_ms.rem_euclid(86_400_000) / 60_000;
    let when = format!(
        "{} à {:02} h {:02} (UTC)",
        french_date(Date::from_epoch_ms(at_ms)),
        minutes_of_day / 60,
        minutes_of_day % 60
    );
    let when = when.as_str();
    Ok(Email {
        to: to.to_owned(),
        subject: "Le mot de passe de votre compte EduConnect a changé".into(),
        text: ChangedText {
            given_name,
            family_name,
            login,
            when,
        }
        .render()?,
        html: ChangedHtml {
            given_name,
            family_name,
            login,
            when,
        }
        .render()?,
    })
}

#[derive(Template)]
#[template(path = "email/recovery_link.txt")]
struct LinkText<'a> {
    given_name: &'a str,
    family_name: &'a str,
    login: &'a str,
    link: &'a str,
    minutes: u64,
}

#[derive(Template)]
#[template(path = "email/recovery_link.html")]
struct LinkHtml<'a> {
    given_name: &'a str,
    family_name: &'a str,
    login: &'a str,
    link: &'a str,
    minutes: u64,
}

/// The single-use link that lets `account` choose a new password, valid `minutes`.
pub fn recovery_link(
    to: &str,
    account: &Account,
    link: &Secret,
    minutes: u64,
) -> anyhow::Result<Email> {
    let (given_name, family_name, login) =
        (&*account.given_name, &*account.family_name, &*account.login);
    let link = link.expose();
    Ok(Email {
        to: to.to_owned(),
        subject: "Réinitialisation de votre mot de passe EduConnect".into(),
        text: LinkText {
            given_name,
            family_name,
            login,
            link,
            minutes,
        }
        .render()?,
        html: LinkHtml {
            given_name,
            family_name,
            login,
            link,
            minutes,
        }
        .render()?,
    })
}

#[derive(Template)]
#[template(path = "email/identifiers.txt")]
struct IdentifiersText<'a> {
    logins: &'a [String],
}

#[derive(Template)]
#[template(path = "email/identifiers.html")]
struct IdentifiersHtml<'a> {
    logins: &'a [String],
}

/// The identifiers of the accounts whose confirmed address is `to`.
pub fn identifiers(to: &str, logins: &[String]) -> anyhow::Result<Email> {
    Ok(Email {
        to: to.to_owned(),
        subject: "Votre identifiant EduConnect".into(),
        text: IdentifiersText { logins }.render()?,
        html: IdentifiersHtml { logins }.render()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{LoginId, Profile};

    #[test]
    fn the_html_part_is_escaped_and_the_text_part_is_not() {
        let account = Account::new(
            LoginId::parse("c.martin02").unwrap(),
            Profile::Guardian,
            "Zoé <b>",
            "D'Arc & fils",
            0,
        );
        let email = code(
            "zoe@exemple.fr",
            &account,
            &Secret::from_presented("042917"),
            10,
        )
        .unwrap();
        assert!(email.subject.ends_with("042917"));
        assert!(email.text.contains("Bonjour Zoé <b> D'Arc & fils,"));
        assert!(email.text.contains("    042917\n"));
        assert!(email.text.contains("valable 10 minutes"));
        assert!(email.html.contains("Zoé &#60;b&#62;") || email.html.contains("Zoé &lt;b&gt;"));
        assert!(!email.html.contains("<b>"));
        let changed = password_changed("zoe@exemple.fr", &account, 1_796_000_000_000).unwrap();
        // 1_796_000_000_000 ms: 30 November 2026, 00:53 UTC.
        assert!(
            changed.text.contains("le 30 novembre 2026 à 00 h 53 (UTC)"),
            "{}",
            changed.text
        );
    }
}
