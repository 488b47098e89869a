//! The fake FranceConnect's test identities, as its identity-choice page offers them. Invented
//! people of the demo export (`demo/siecle/`): the demo guardian Claire Martin, her partner
//! Julien Martin (a guardian with no password yet: the tie by SMS), Nadia Benali, whose birth
//! name differs from the name Siècle knows (her usage name, `preferred_username`, is that one),
//! and Sandrine Durand, whom no guardian record names (a tie must be refused).

use sha2::{Digest, Sha256};

/// One person FranceConnect could vouch for: the *identité pivot* and the contact it returns.
#[derive(Clone, Copy, Debug)]
pub struct TestIdentity {
    /// Stable key of the identity (in the choice page's links; the `sub` derives from it).
    pub key: &'static str,
    /// What the choice page says of this identity.
    pub description: &'static str,
    pub given_name: &'static str,
    pub family_name: &'static str,
    pub preferred_username: &'static str,
    pub birthdate: &'static str,
    pub gender: &'static str,
    /// INSEE code of the birth town; empty when born abroad (FranceConnect's convention).
    pub birthplace: &'static str,
    pub birthcountry: &'static str,
    pub email: &'static str,
}

pub const IDENTITIES: [TestIdentity; 4] = [
    TestIdentity {
        key: "claire-martin",
        description: "la représentante légale de démonstration (compte c.martin02)",
        given_name: "Claire",
        family_name: "Martin",
        preferred_username: "",
        birthdate: "1984-03-12",
        gender: "female",
        birthplace: "69123",
        birthcountry: "99100",
        email: "claire.martin@demo.educonnect.invalid",
    },
    TestIdentity {
        key: "julien-martin",
        description: "représentant légal connu de Siècle, sans mot de passe EduConnect",
        given_name: "Julien Paul",
        family_name: "Martin",
        preferred_username: "",
        birthdate: "1982-11-05",
        gender: "male",
        birthplace: "69266",
        birthcountry: "99100",
        email: "julien.martin@demo.educonnect.invalid",
    },
    TestIdentity {
        key: "nadia-benali",
        description: "nom de naissance Haddad, nom d'usage Benali (celui que connaît Siècle)",
        given_name: "Nadia",
        family_name: "Haddad",
        preferred_username: "Benali",
        birthdate: "1987-06-21",
        gender: "female",
        birthplace: "",
        birthcountry: "99350",
        email: "nadia.benali@demo.educonnect.invalid",
    },
    TestIdentity {
        key: "sandrine-durand",
        description: "personne inconnue de Siècle : son nom ne correspond à aucun représentant",
        given_name: "Sandrine",
        family_name: "Durand",
        preferred_username: "",
        birthdate: "1979-09-30",
        gender: "female",
        birthplace: "75056",
        birthcountry: "99100",
        email: "sandrine.durand@example.invalid",
    },
];

pub fn find(key: &str) -> Option<&'static TestIdentity> {
    IDENTITIES.iter().find(|identity| identity.key == key)
}

impl TestIdentity {
    /// FranceConnect's `sub` is pairwise: each service provider sees its own identifier of a
    /// person (64 hex digits and a version suffix).
    pub fn subject(&self, client_id: &str) -> String {
        let digest = Sha256::digest(format!("{}\u{0}{client_id}", self.key).as_bytes());
        format!("{}v1", hex::encode(digest))
    }

    /// The claims a userinfo answer holds for `scopes` (FranceConnect v2: one scope per claim,
    /// and `identite_pivot` for the six civil-status claims).
    pub fn claims(&self, scopes: &[&str]) -> serde_json::Map<String, serde_json::Value> {
        let pivot = scopes.contains(&"identite_pivot");
        let mut claims = serde_json::Map::new();
        for (name, value, in_pivot) in [
            ("given_name", self.given_name, true),
            ("family_name", self.family_name, true),
            ("birthdate", self.birthdate, true),
            ("gender", self.gender, true),
            ("birthplace", self.birthplace, true),
            ("birthcountry", self.birthcountry, true),
            ("email", self.email, false),
            ("preferred_username", self.preferred_username, false),
        ] {
            if scopes.contains(&name) || pivot && in_pivot {
                claims.insert(name.into(), value.into());
            }
        }
        claims
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}
