//! Claims about an account, by scope (OpenID Connect Core §5.4), for ID tokens and userinfo.
//! Names and meanings: `docs/claims.md`.

use serde_json::{json, Map, Value};

use crate::accounts::affiliations::Affiliations;
use crate::accounts::{Account, Profile};
use crate::oidc::scope::Scopes;
use crate::store::DirectoryStore;

/// Scopes whose claims come from the establishments' records.
const DIRECTORY_SCOPES: [&str; 4] = ["establishments", "ine", "children", "fr_edu_vecteur"];

/// `sub` plus the claims the scopes release; the establishments' records are read only when a
/// scope needs them.
pub async fn for_account(
    directory: &dyn DirectoryStore,
    account: &Account,
    scopes: &Scopes,
) -> anyhow::Result<Map<String, Value>> {
    let affiliations = if DIRECTORY_SCOPES.iter().any(|s| scopes.contains(s)) {
        directory.affiliations(&account.id).await?
    } else {
        Affiliations::default()
    };
    Ok(for_scopes(account, &affiliations, scopes))
}

pub fn for_scopes(
    account: &Account,
    affiliations: &Affiliations,
    scopes: &Scopes,
) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(account.id));
    if scopes.contains("profile") {
        claims.insert("given_name".into(), json!(account.given_name));
        claims.insert("family_name".into(), json!(account.family_name));
        claims.insert(
            "name".into(),
            json!(format!("{} {}", account.given_name, account.family_name)),
        );
        claims.insert("educonnect_profile".into(), json!(account.profile.as_str()));
    }
    if scopes.contains("email") {
        if let Some(email) = &account.verified_email {
            // Confirmed by a code sent there (activation, Mon compte).
            claims.insert("email".into(), json!(email));
            claims.insert("email_verified".into(), json!(true));
        } else if let Some(email) = &account.email {
            claims.insert("email".into(), json!(email));
            // From school records: nobody proved they receive mail there.
            claims.insert("email_verified".into(), json!(false));
        }
    }
    if scopes.contains("phone") {
        // As for `email`: the account's own number, confirmed by an SMS code (Mon compte),
        // before the one Siècle gives, which nobody confirmed.
        if let Some(phone) = &account.verified_phone {
            claims.insert("phone_number".into(), json!(phone));
            claims.insert("phone_number_verified".into(), json!(true));
        } else if let Some(phone) = &account.phone {
            claims.insert("phone_number".into(), json!(phone));
            claims.insert("phone_number_verified".into(), json!(false));
        }
    }
    if scopes.contains("establishments") {
        claims.insert(
            "educonnect_establishments".into(),
            establishments(affiliations),
        );
    }
    if scopes.contains("ine") {
        if let Some(ine) = &affiliations.ine {
            claims.insert("educonnect_ine".into(), json!(ine));
        }
    }
    if scopes.contains("children") && account.profile != Profile::Pupil {
        let children: Vec<Value> = affiliations
            .children
            .iter()
            .map(|c| {
                json!({
                    "sub": c.account_id,
                    "given_name": c.given_name,
                    "family_name": c.family_name,
                    "uai": c.enrolment.uai,
                    "class": c.enrolment.division,
                    "legal_guardian": c.legal,
                })
            })
            .collect();
        claims.insert("educonnect_children".into(), json!(children));
    }
    if scopes.contains("fr_edu_vecteur") {
        claims.insert("FrEduVecteur".into(), json!(vectors(account, affiliations)));
    }
    claims
}

/// For a pupil each establishment with the class; for a guardian each establishment that
/// records them.
fn establishments(affiliations: &Affiliations) -> Value {
    let mut list: Vec<Value> = affiliations
        .enrolments
        .iter()
        .map(|e| json!({ "uai": e.uai, "class": e.division }))
        .collect();
    for uai in affiliations.establishments() {
        if !affiliations.enrolments.iter().any(|e| e.uai == uai) {
            list.push(json!({ "uai": uai }));
        }
    }
    json!(list)
}

/// The identity vectors ENTs match accounts with: `4|family name|given name|ELEVE_ID|UAI` for
/// a pupil in each establishment, and for a legal guardian one
/// `2|family name|given name|child's ELEVE_ID|child's UAI` per child, with the guardian's names
/// as the child's establishment records them. Persons in charge who are not legal guardians get
/// none.
fn vectors(account: &Account, affiliations: &Affiliations) -> Vec<String> {
    match account.profile {
        Profile::Pupil => affiliations
            .enrolments
            .iter()
            .map(|e| {
                format!(
                    "4|{}|{}|{}|{}",
                    account.family_name, account.given_name, e.eleve_id, e.uai
                )
            })
            .collect(),
        Profile::Guardian | Profile::PersonInCharge => affiliations
            .children
            .iter()
            .filter(|c| c.legal)
            .map(|c| {
                format!(
                    "2|{}|{}|{}|{}",
                    c.guardian_family_name,
                    c.guardian_given_name,
                    c.enrolment.eleve_id,
                    c.enrolment.uai
                )
            })
            .collect(),
    }
}

/// Every claim name this provider can release, for discovery.
pub const SUPPORTED: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "sid",
    "at_hash",
    "given_name",
    "family_name",
    "name",
    "educonnect_profile",
    "email",
    "email_verified",
    "phone_number",
    "phone_number_verified",
    "educonnect_establishments",
    "educonnect_ine",
    "educonnect_children",
    "FrEduVecteur",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::affiliations::{Child, Enrolment, PersonRecord};
    use crate::accounts::LoginId;

    fn account(profile: Profile, given: &str, family: &str) -> Account {
        Account::new(
            LoginId::parse("x.test01").unwrap(),
            profile,
            given,
            family,
            0,
        )
    }

    #[test]
    fn a_pupil_gets_one_vector_per_establishment_and_the_ine_only_with_its_scope() {
        let pupil = account(Profile::Pupil, "Léa", "DAVID");
        let affiliations = Affiliations {
            ine: Some("036611830FG".into()),
            enrolments: vec![Enrolment {
                uai: "2530829B".into(),
                eleve_id: "100685".into(),
                division: Some("3A".into()),
            }],
            ..Affiliations::default()
        };
        let claims = for_scopes(
            &pupil,
            &affiliations,
            &Scopes::parse("openid establishments fr_edu_vecteur"),
        );
        assert_eq!(
            claims["FrEduVecteur"],
            json!(["4|DAVID|Léa|100685|2530829B"])
        );
        assert_eq!(
            claims["educonnect_establishments"],
            json!([{ "uai": "2530829B", "class": "3A" }])
        );
        assert!(!claims.contains_key("educonnect_ine"));
        let claims = for_scopes(&pupil, &affiliations, &Scopes::parse("openid ine"));
        assert_eq!(claims["educonnect_ine"], json!("036611830FG"));
    }

    #[test]
    fn a_guardian_gets_a_vector_per_child_with_the_childs_establishment() {
        let guardian = account(Profile::Guardian, "Marie", "DAVID");
        let child = |uai: &str, eleve_id: &str, legal: bool| Child {
            account_id: format!("sub-{eleve_id}"),
            given_name: "Léo".into(),
            family_name: "DAVID".into(),
            enrolment: Enrolment {
                uai: uai.into(),
                eleve_id: eleve_id.into(),
                division: None,
            },
            legal,
            guardian_family_name: "DAVID".into(),
            guardian_given_name: if uai == "5433012Y" {
                "Marie-Anne"
            } else {
                "Marie"
            }
            .into(),
        };
        let affiliations = Affiliations {
            records: vec![PersonRecord {
                uai: "2530829B".into(),
                family_name: "DAVID".into(),
                given_name: "Marie".into(),
            }],
            children: vec![
                child("2530829B", "100784", true),
                child("5433012Y", "200001", true),
                child("5433012Y", "200002", false),
            ],
            ..Affiliations::default()
        };
        let claims = for_scopes(
            &guardian,
            &affiliations,
            &Scopes::parse("openid children fr_edu_vecteur"),
        );
        assert_eq!(
            claims["FrEduVecteur"],
            json!([
                "2|DAVID|Marie|100784|2530829B",
                "2|DAVID|Marie-Anne|200001|5433012Y"
            ])
        );
        assert_eq!(claims["educonnect_children"].as_array().unwrap().len(), 3);
    }
}
