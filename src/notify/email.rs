//! A notification by e-mail: the letter's content (`letters::wording`, the same sentences) as a
//! French e-mail in plain text and HTML, sealed for the outbox. Every value written into the
//! HTML is escaped: names and establishment names come from Siècle exports and the
//! administration API.

use super::from_notified::{self, Context};
use super::letters::{wording, Letter, LetterPassword};
use crate::accounts::temporary::TemporaryPassword;
use crate::establishments::model::NotificationTarget;
use crate::establishments::{self, Compose};
use crate::outbox::{Email, Outgoing, Purpose};
use crate::tokens::kek::Kek;

/// Makes the notification e-mails of one notification (`establishments::Compose`).
pub struct Composer<'a> {
    pub kek: &'a Kek,
    pub context: Context,
}

impl Compose for Composer<'_> {
    fn compose(
        &self,
        target: &NotificationTarget,
        password: Option<&TemporaryPassword>,
        now_ms: i64,
    ) -> anyhow::Result<Outgoing> {
        let to = establishments::address(target)
            .ok_or_else(|| anyhow::anyhow!("account {} has no address", target.account.id))?;
        let letter = from_notified::letter(target, password, &self.context)?;
        Outgoing::email(
            self.kek,
            &email(&letter, to),
            Purpose::Notification,
            Some(&target.account.id),
            now_ms,
        )
    }
}

/// The e-mail to `to` saying what `letter` says.
pub fn email(letter: &Letter, to: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: format!("{} – {}", wording::TITLE, letter.establishment.name),
        text: text(letter),
        html: html(letter),
    }
}

/// The lines "label : value" of the letter's box: the identifier and the password (or the
/// sentence saying the current one stays valid).
fn credentials(letter: &Letter) -> (Vec<(&'static str, String)>, String) {
    let mut values = vec![("Identifiant", letter.login.as_str().to_owned())];
    let after = match &letter.password {
        LetterPassword::Temporary {
            password,
            valid_until,
        } => {
            if let Some(label) = wording::password_label(&letter.password) {
                values.push((label, password.expose().to_owned()));
            }
            wording::validity(*valid_until)
        }
        LetterPassword::Unchanged => wording::PASSWORD_UNCHANGED.to_owned(),
    };
    (values, after)
}

fn children(letter: &Letter) -> Vec<String> {
    letter
        .children
        .iter()
        .map(|c| format!("{} {} ({})", c.given_name, c.family_name, c.class))
        .collect()
}

fn text(letter: &Letter) -> String {
    let mut out = format!(
        "Bonjour {} {},\n\n{}\n\n{} (UAI {})\nProfil : {}\n\n",
        letter.given_name,
        letter.family_name,
        wording::INTRODUCTION,
        letter.establishment.name,
        letter.establishment.uai,
        wording::profile_label(letter.profile),
    );
    let (values, after) = credentials(letter);
    for (label, value) in values {
        out += &format!("{label} : {value}\n");
    }
    out += &format!("\n{after}\n\n");
    let (title, steps) = wording::steps(letter);
    out += &format!("{title} :\n");
    for (n, step) in steps.iter().enumerate() {
        out += &format!("{}. {step}\n", n + 1);
    }
    if !letter.children.is_empty() {
        out += &format!("\n{} :\n", wording::children_heading(letter.profile));
        for child in children(letter) {
            out += &format!("- {child}\n");
        }
    }
    out += &format!(
        "\n{}\n\n{}\n",
        wording::KEEP_SAFE,
        wording::issued_on(letter)
    );
    out
}

fn html(letter: &Letter) -> String {
    let e = escape;
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"fr\">\n<head><meta charset=\"utf-8\"><title>{}</title>\
         </head>\n<body>\n<h1>{}</h1>\n<p>{} (UAI {})<br>{}</p>\n<p>Bonjour {} {},</p>\n\
         <p>{}</p>\n<p>Profil : {}</p>\n<ul>\n",
        e(wording::TITLE),
        e(wording::TITLE),
        e(&letter.establishment.name),
        e(letter.establishment.uai.as_str()),
        e(&wording::issued_on(letter)),
        e(&letter.given_name),
        e(&letter.family_name),
        e(wording::INTRODUCTION),
        e(wording::profile_label(letter.profile)),
    );
    let (values, after) = credentials(letter);
    for (label, value) in values {
        out += &format!("<li>{} : <strong>{}</strong></li>\n", e(label), e(&value));
    }
    out += &format!("</ul>\n<p>{}</p>\n", e(&after));
    let (title, steps) = wording::steps(letter);
    out += &format!("<h2>{}</h2>\n<ol>\n", e(title));
    for step in &steps {
        out += &format!("<li>{}</li>\n", e(step));
    }
    out += "</ol>\n";
    if !letter.children.is_empty() {
        out += &format!(
            "<h2>{}</h2>\n<ul>\n",
            e(wording::children_heading(letter.profile))
        );
        for child in children(letter) {
            out += &format!("<li>{}</li>\n", e(&child));
        }
        out += "</ul>\n";
    }
    out += &format!("<p>{}</p>\n</body>\n</html>\n", e(wording::KEEP_SAFE));
    out
}

/// Text as HTML element content or attribute value.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{LoginId, Profile};
    use crate::notify::letters::{Child, EstablishmentHeading};
    use crate::secrets::Secret;
    use crate::siecle::{Date, Uai};

    fn letter(password: LetterPassword) -> Letter {
        Letter {
            establishment: EstablishmentHeading {
                name: "Collège <Émile> & \"Zola\"".into(),
                uai: Uai::parse("0751234J").unwrap(),
            },
            given_name: "Hélène".into(),
            family_name: "L'Ecuyer<script>".into(),
            profile: Profile::Guardian,
            login: LoginId::parse("h.lecuyer01").unwrap(),
            password,
            service_url: "https://educonnect.example.fr".into(),
            issued_on: Date {
                year: 2026,
                month: 12,
                day: 1,
            },
            children: vec![Child {
                given_name: "Zoé".into(),
                family_name: "L'Ecuyer".into(),
                class: "6B".into(),
            }],
        }
    }

    fn temporary() -> LetterPassword {
        LetterPassword::Temporary {
            password: Secret::from_presented("kxpr-7mwd-4tfa"),
            valid_until: Date {
                year: 2027,
                month: 3,
                day: 1,
            },
        }
    }

    #[test]
    fn the_email_says_what_the_letter_says_in_both_parts() {
        let email = email(&letter(temporary()), "helene@example.org");
        assert_eq!(email.to, "helene@example.org");
        assert!(email.subject.starts_with("Votre compte EduConnect"));
        for part in [&email.text, &email.html] {
            assert!(part.contains("h.lecuyer01"), "{part}");
            assert!(part.contains("kxpr-7mwd-4tfa"), "{part}");
            assert!(part.contains("1er mars 2027"), "{part}");
            assert!(part.contains("Représentant légal"), "{part}");
            assert!(part.contains("Zoé"), "{part}");
            assert!(part.contains("https://educonnect.example.fr"), "{part}");
        }
        let kept = email_without_password();
        assert!(!kept.text.contains("Mot de passe provisoire"));
        assert!(kept
            .text
            .contains("votre mot de passe actuel reste valable"));
    }

    fn email_without_password() -> Email {
        email(&letter(LetterPassword::Unchanged), "helene@example.org")
    }

    #[test]
    fn names_are_escaped_in_the_html() {
        let html = email(&letter(temporary()), "h@example.org").html;
        assert!(!html.contains("<script>"));
        assert!(html.contains("L&#39;Ecuyer&lt;script&gt;"));
        assert!(html.contains("Collège &lt;Émile&gt; &amp; &quot;Zola&quot;"));
        assert!(!html.contains("<Émile>"));
        let text = email(&letter(temporary()), "h@example.org").text;
        assert!(
            text.contains("L'Ecuyer<script>"),
            "plain text is not escaped"
        );
    }
}
