//! Authorization responses to the RP: redirect with query parameters, or an auto-submitted form
//! (form_post). `iss` is in every response (RFC 9207 §2), `state` echoed untouched, parameters
//! encoded by `url`'s form serializer onto the redirect URI exactly as registered.

use super::request::{ReplyTo, ResponseMode};
use crate::error::OAuthError;

#[derive(Debug, PartialEq, Eq)]
pub struct AuthorizationResponse {
    /// Exactly as registered.
    pub redirect_uri: String,
    pub mode: ResponseMode,
    pub params: Vec<(&'static str, String)>,
}

impl AuthorizationResponse {
    fn new(reply: &ReplyTo, issuer: &str, mut params: Vec<(&'static str, String)>) -> Self {
        if let Some(state) = &reply.state {
            params.push(("state", state.clone()));
        }
        params.push(("iss", issuer.to_owned()));
        AuthorizationResponse {
            redirect_uri: reply.redirect_uri.clone(),
            mode: reply.response_mode,
            params,
        }
    }

    pub fn code(reply: &ReplyTo, issuer: &str, code: &str) -> Self {
        Self::new(reply, issuer, vec![("code", code.to_owned())])
    }

    /// RFC 6749 §4.1.2.1.
    pub fn error(reply: &ReplyTo, issuer: &str, error: &OAuthError) -> Self {
        Self::new(
            reply,
            issuer,
            vec![
                ("error", error.code.as_str().to_owned()),
                ("error_description", error.description.to_string()),
            ],
        )
    }

    /// The redirect target for `query` mode: the registered URI, character for character (review
    /// #13.8: a normalized `Url` would turn `http://127.0.0.1:9999` into `…:9999/`), with our
    /// parameters appended to any query it already has. Registered URIs have no fragment.
    pub fn redirect_url(&self) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.params.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        let separator = match self.redirect_uri.rfind('?') {
            None => "?",
            Some(_) if self.redirect_uri.ends_with(['?', '&']) => "",
            Some(_) => "&",
        };
        format!("{}{separator}{query}", self.redirect_uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    fn reply(redirect_uri: &str) -> ReplyTo {
        ReplyTo {
            redirect_uri: redirect_uri.into(),
            response_mode: ResponseMode::Query,
            state: Some("a&b=c d".into()),
        }
    }

    #[test]
    fn the_registered_uri_is_kept_character_for_character() {
        for (registered, expected) in [
            ("http://127.0.0.1:9999", "http://127.0.0.1:9999?code=xyz"),
            (
                "http://host.example:80/cb",
                "http://host.example:80/cb?code=xyz",
            ),
            (
                "https://écoles.example/cb",
                "https://écoles.example/cb?code=xyz",
            ),
            ("https://ent.example/cb?", "https://ent.example/cb?code=xyz"),
            (
                "https://ent.example/cb?t=1",
                "https://ent.example/cb?t=1&code=xyz",
            ),
        ] {
            let url =
                AuthorizationResponse::code(&reply(registered), "https://op", "xyz").redirect_url();
            assert!(url.starts_with(expected), "{url}");
        }
    }

    #[test]
    fn state_is_echoed_encoded_and_iss_always_present() {
        let reply = reply("https://ent.example/cb?tenant=1");
        let url = AuthorizationResponse::code(&reply, "https://op.example", "xyz").redirect_url();
        let url = Url::parse(&url).unwrap();
        let pairs: Vec<_> = url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            vec![
                ("tenant".into(), "1".into()),
                ("code".into(), "xyz".into()),
                ("state".into(), "a&b=c d".into()),
                ("iss".into(), "https://op.example".into())
            ]
        );
    }
}
