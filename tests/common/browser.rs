//! A cookie-keeping HTTP user agent that follows the provider's pages the way a browser would:
//! it stops at redirects to the RP and fills in our login and consent forms.

use reqwest::header::LOCATION;
use url::Url;

pub struct Browser {
    pub http: reqwest::Client,
}

/// One step of the flow as the browser sees it.
pub enum Step {
    /// A redirect to somewhere outside the provider (the RP).
    Left(Url),
    /// A page of the provider.
    Page { status: u16, url: Url, body: String },
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Browser {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser { http }
    }

    /// Follows redirects within `issuer` until a page answers or a redirect leaves.
    pub async fn follow(&self, issuer: &str, response: reqwest::Response) -> Step {
        let mut response = response;
        for _ in 0..10 {
            let url = response.url().clone();
            if response.status().is_redirection() {
                let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
                let next = url.join(&location).unwrap();
                if !next.as_str().starts_with(issuer) {
                    return Step::Left(next);
                }
                response = self.http.get(next).send().await.unwrap();
            } else {
                let status = response.status().as_u16();
                return Step::Page {
                    status,
                    url,
                    body: response.text().await.unwrap(),
                };
            }
        }
        panic!("too many redirects");
    }

    pub async fn get(&self, issuer: &str, url: &str) -> Step {
        let response = self.http.get(url).send().await.unwrap();
        self.follow(issuer, response).await
    }

    pub async fn post(&self, issuer: &str, url: &str, form: &[(&str, &str)]) -> Step {
        let response = self.http.post(url).form(form).send().await.unwrap();
        self.follow(issuer, response).await
    }

    /// Submits the login page shown at `step` with these credentials.
    pub async fn submit_login(
        &self,
        issuer: &str,
        step: Step,
        login: &str,
        password: &str,
    ) -> Step {
        let Step::Page { body, .. } = step else {
            panic!("expected the login page")
        };
        let tx = hidden(&body, "tx").expect("login page has a transaction");
        let csrf = hidden(&body, "csrf").expect("login page has a CSRF token");
        self.post(
            issuer,
            &format!("{issuer}/login"),
            &[
                ("tx", &tx),
                ("csrf", &csrf),
                ("login", login),
                ("password", password),
            ],
        )
        .await
    }

    /// Answers the consent page shown at `step`.
    pub async fn submit_consent(&self, issuer: &str, step: Step, approve: bool) -> Step {
        let Step::Page { body, .. } = step else {
            panic!("expected the consent page")
        };
        let tx = hidden(&body, "tx").expect("consent page has a transaction");
        let csrf = hidden(&body, "csrf").expect("consent page has a CSRF token");
        let decision = if approve { "approve" } else { "deny" };
        self.post(
            issuer,
            &format!("{issuer}/consent"),
            &[("tx", &tx), ("csrf", &csrf), ("decision", decision)],
        )
        .await
    }

    /// From an authorization URL to the RP redirect, logging in if asked.
    pub async fn authorize(
        &self,
        issuer: &str,
        auth_url: &str,
        login: &str,
        password: &str,
    ) -> Url {
        let mut step = self.get(issuer, auth_url).await;
        if let Step::Page { ref body, .. } = step {
            if body.contains("name=\"password\"") {
                step = self.submit_login(issuer, step, login, password).await;
            }
        }
        if let Step::Page { ref body, .. } = step {
            if body.contains("name=\"decision\"") {
                step = self.submit_consent(issuer, step, true).await;
            }
        }
        match step {
            Step::Left(url) => url,
            Step::Page { status, url, body } => panic!("stuck on {url} ({status}): {body}"),
        }
    }
}

/// The value of the hidden input `name` of a page of ours.
pub fn hidden(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(
        body[start..end]
            .replace("&amp;", "&")
            .replace("&#x2d;", "-")
            .replace("&#x5f;", "_"),
    )
}

/// The value of query parameter `name`.
pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
