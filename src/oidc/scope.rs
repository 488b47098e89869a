//! Scopes (RFC 6749 §3.3): parsed once, restricted to what the client registered.

/// Scopes this provider knows (`docs/claims.md`).
pub const SUPPORTED: [&str; 9] = [
    "openid",
    "profile",
    "email",
    "phone",
    "offline_access",
    "establishments",
    "ine",
    "children",
    "fr_edu_vecteur",
];

/// What a scope gives, in French, for the consent page; `None` for `openid`, which gives
/// nothing by itself.
pub fn label(scope: &str) -> Option<&'static str> {
    Some(match scope {
        "profile" => "vos nom, prénom et profil (élève, responsable)",
        "email" => "votre adresse électronique",
        "phone" => "votre numéro de téléphone",
        "offline_access" => "un accès qui dure après votre déconnexion",
        "establishments" => "vos établissements et, pour un élève, sa classe",
        "ine" => "votre identifiant national élève (INE)",
        "children" => "vos enfants, avec leur établissement et leur classe",
        "fr_edu_vecteur" => "les identifiants qui relient votre compte à celui de l'ENT",
        _ => return None,
    })
}

/// An ordered set of scope names.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Scopes(Vec<String>);

impl Scopes {
    pub fn parse(raw: &str) -> Scopes {
        let mut scopes: Vec<String> = Vec::new();
        for s in raw.split(' ').filter(|s| !s.is_empty()) {
            if !scopes.iter().any(|known| known == s) {
                scopes.push(s.to_owned());
            }
        }
        Scopes(scopes)
    }

    /// RFC 6749 §3.3: the server may fully or partially ignore requested scopes; we keep those
    /// the client registered and this provider knows.
    pub fn restricted_to(&self, allowed: &[String]) -> Scopes {
        Scopes(
            self.0
                .iter()
                .filter(|s| allowed.contains(s) && SUPPORTED.contains(&s.as_str()))
                .cloned()
                .collect(),
        )
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    pub fn is_subset_of(&self, other: &Scopes) -> bool {
        self.0.iter().all(|s| other.contains(s))
    }

    pub fn without(&self, scope: &str) -> Scopes {
        Scopes(self.0.iter().filter(|s| *s != scope).cloned().collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn as_vec(&self) -> &[String] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unregistered_and_unknown_scopes_are_dropped() {
        let allowed = vec![
            "openid".to_owned(),
            "profile".to_owned(),
            "custom".to_owned(),
        ];
        let scopes = Scopes::parse("openid  email profile custom openid").restricted_to(&allowed);
        assert_eq!(scopes.to_string(), "openid profile");
    }
}
