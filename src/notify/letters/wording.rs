//! The French text of a letter: labels, dates, the activation steps. Kept apart from the
//! layout so that the wording can be read (and reviewed by establishments) in one place.

use super::{Letter, LetterPassword};
use crate::accounts::Profile;
use crate::siecle::Date;

pub(in crate::notify) const TITLE: &str = "Votre compte EduConnect";

pub(in crate::notify) const INTRODUCTION: &str =
    "EduConnect est le compte unique qui vous donne accès à \
l'espace numérique de travail (ENT) de votre établissement et aux services en ligne de la \
Scolarité. Ce courrier vous donne votre identifiant et la marche à suivre.";

/// What an active account notified without a reset reads instead of a password (FAQ:
/// "an active account can be notified with or without a reset").
pub(in crate::notify) const PASSWORD_UNCHANGED: &str =
    "Votre compte est déjà activé : votre mot de passe \
actuel reste valable et rien ne change pour vous. Ce courrier vous rappelle seulement votre \
identifiant.";

pub(in crate::notify) const KEEP_SAFE: &str =
    "Conservez ce courrier en lieu sûr et ne communiquez votre \
mot de passe à personne : ni l'établissement ni EduConnect ne vous le demanderont jamais. En cas \
de perte, demandez un nouveau courrier à l'établissement.";

pub(in crate::notify) fn profile_label(profile: Profile) -> &'static str {
    match profile {
        Profile::Pupil => "Élève",
        Profile::Guardian => "Représentant légal",
        Profile::PersonInCharge => "Personne en charge",
    }
}

/// `1er mars 2027`, `15 septembre 2026`: the date as French letters write it.
pub fn french_date(date: Date) -> String {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let month = MONTHS[usize::from(date.month.clamp(1, 12)) - 1];
    match date.day {
        1 => format!("1er {month} {}", date.year),
        day => format!("{day} {month} {}", date.year),
    }
}

pub(in crate::notify) fn issued_on(letter: &Letter) -> String {
    format!("Le {}", french_date(letter.issued_on))
}

pub(in crate::notify) fn password_label(password: &LetterPassword) -> Option<&'static str> {
    match password {
        LetterPassword::Temporary { .. } => Some("Mot de passe provisoire"),
        LetterPassword::Unchanged => None,
    }
}

/// Issue #15: valid three months from its letter, and only until the account is activated.
pub(in crate::notify) fn validity(valid_until: Date) -> String {
    format!(
        "Ce mot de passe provisoire est valable jusqu'au {}, pour votre première connexion \
         seulement : vous en choisirez alors un nouveau.",
        french_date(valid_until)
    )
}

/// The numbered steps, for a first login with a temporary password or a usual login.
pub(in crate::notify) fn steps(letter: &Letter) -> (&'static str, Vec<String>) {
    let go_to = format!(
        // No full stop after the address: it would be copied with it.
        "Rendez-vous sur l'ENT de votre établissement, ou à l'adresse {}",
        letter.service_url
    );
    let click = "Choisissez « Se connecter avec EduConnect ».".to_owned();
    match letter.password {
        LetterPassword::Unchanged => (
            "Pour vous connecter",
            vec![
                go_to,
                click,
                "Saisissez votre identifiant et votre mot de passe habituel.".to_owned(),
            ],
        ),
        LetterPassword::Temporary { .. } => {
            let email = match letter.profile {
                // FAQ: one e-mail per pupil account, at any age; optional for a pupil.
                Profile::Pupil => {
                    "Si vous le souhaitez, indiquez une adresse électronique (celle d'un parent \
                     convient) et confirmez-la avec le code qui vous y est envoyé."
                }
                Profile::Guardian | Profile::PersonInCharge => {
                    "Confirmez votre adresse électronique avec le code qui vous y est envoyé, \
                     puis vérifiez la liste des enfants rattachés à votre compte."
                }
            };
            (
                "Pour activer votre compte",
                vec![
                    go_to,
                    click,
                    "Saisissez votre identifiant et votre mot de passe provisoire, tels \
                     qu'écrits ci-dessus."
                        .to_owned(),
                    "Choisissez un nouveau mot de passe, que vous seul connaîtrez.".to_owned(),
                    email.to_owned(),
                ],
            )
        }
    }
}

pub(in crate::notify) fn children_heading(profile: Profile) -> &'static str {
    match profile {
        Profile::Guardian => "Vos enfants dans cet établissement",
        Profile::Pupil | Profile::PersonInCharge => {
            "Élèves dont vous avez la charge dans cet établissement"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_the_french_way() {
        let date = |year, month, day| french_date(Date { year, month, day });
        assert_eq!(date(2027, 3, 1), "1er mars 2027");
        assert_eq!(date(2026, 12, 15), "15 décembre 2026");
        assert_eq!(date(2026, 8, 31), "31 août 2026");
    }
}
