//! Authorization responses to the RP: redirect with query parameters, or an auto-submitted form
//! (form_post). `iss` is in every response (RFC 9207 §2), `state` echoed untouched, URLs built
//! with `url::Url`.

use url::Url;

use super::request::{ReplyTo, ResponseMode};
use crate::error::OAuthError;

#[derive(Debug, PartialEq, Eq)]
pub struct AuthorizationResponse {
    pub redirect_uri: Url,
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

    /// The redirect target for `query` mode: the registered URI with our parameters appended to
    /// any query it already has.
    pub fn redirect_url(&self) -> Url {
        let mut url = self.redirect_uri.clone();
        url.query_pairs_mut()
            .extend_pairs(self.params.iter().map(|(k, v)| (*k, v.as_str())));
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_is_echoed_encoded_and_iss_always_present() {
        let reply = ReplyTo {
            redirect_uri: Url::parse("https://ent.example/cb?tenant=1").unwrap(),
            response_mode: ResponseMode::Query,
            state: Some("a&b=c d".into()),
        };
        let url = AuthorizationResponse::code(&reply, "https://op.example", "xyz").redirect_url();
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
