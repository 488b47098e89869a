//! The scenarios. Each worker owns one connection and its own state and loops on `step` until
//! the deadline; every response is validated, and anything but the expected answer is an error.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use anyhow::{anyhow, bail, ensure, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hyper::header::SET_COOKIE;
use hyper::{Method, StatusCode};
use jsonwebtoken::{DecodingKey, Validation};
use sha2::{Digest, Sha256};

use crate::http::{basic, Conn, Response};
use crate::seed::{account_login, ClientCreds, Seeded};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scenario {
    Login,
    Refresh,
    ClientCredentials,
    Introspection,
    Userinfo,
    Discovery,
    Jwks,
}

impl Scenario {
    pub const ALL: [Scenario; 7] = [
        Scenario::Login,
        Scenario::Refresh,
        Scenario::ClientCredentials,
        Scenario::Introspection,
        Scenario::Userinfo,
        Scenario::Discovery,
        Scenario::Jwks,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Login => "login",
            Scenario::Refresh => "refresh",
            Scenario::ClientCredentials => "client_credentials",
            Scenario::Introspection => "introspection",
            Scenario::Userinfo => "userinfo",
            Scenario::Discovery => "discovery",
            Scenario::Jwks => "jwks",
        }
    }

    pub fn parse(name: &str) -> anyhow::Result<Scenario> {
        Scenario::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| anyhow!("unknown scenario {name}"))
    }
}

/// Everything the workers share: where the provider is, its endpoints (from discovery), the
/// seeded clients and accounts, and the verification keys (from the JWKS).
pub struct Target {
    pub addr: SocketAddr,
    pub issuer: String,
    pub authorize: String,
    pub token: String,
    pub userinfo: String,
    pub introspection: String,
    pub jwks: String,
    pub discovery: String,
    pub ent: ClientCreds,
    pub service: ClientCreds,
    pub account_prefix: String,
    pub accounts: u64,
    pub password: String,
    next_account: AtomicU64,
    keys: RwLock<HashMap<String, Arc<(DecodingKey, jsonwebtoken::Algorithm)>>>,
}

/// The path (and query) of an absolute URL of the provider.
fn path_of(url: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(url)?;
    Ok(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    })
}

impl Target {
    /// Reads the discovery document and the JWKS of the provider at `issuer`.
    pub async fn discover(issuer: &str, seeded: Seeded) -> anyhow::Result<Target> {
        let url = url::Url::parse(issuer)?;
        let addr = tokio::net::lookup_host((
            url.host_str().context("issuer host")?,
            url.port_or_known_default().context("issuer port")?,
        ))
        .await?
        .next()
        .context("issuer address")?;
        let mut conn = Conn::new(addr);
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            url.path().trim_end_matches('/')
        );
        let doc = conn
            .get(&discovery, None)
            .await?
            .expect_json(StatusCode::OK)?;
        let endpoint = |name: &str| -> anyhow::Result<String> {
            path_of(
                doc[name]
                    .as_str()
                    .with_context(|| format!("discovery lacks {name}"))?,
            )
        };
        let target = Target {
            addr,
            issuer: doc["issuer"].as_str().context("issuer")?.to_owned(),
            authorize: endpoint("authorization_endpoint")?,
            token: endpoint("token_endpoint")?,
            userinfo: endpoint("userinfo_endpoint")?,
            introspection: endpoint("introspection_endpoint")?,
            jwks: endpoint("jwks_uri")?,
            discovery,
            ent: seeded.ent,
            service: seeded.service,
            account_prefix: crate::seed::ACCOUNT_PREFIX.into(),
            accounts: seeded.accounts,
            password: seeded.password,
            next_account: AtomicU64::new(0),
            keys: RwLock::new(HashMap::new()),
        };
        ensure!(
            target.issuer == issuer.trim_end_matches('/'),
            "issuer mismatch"
        );
        target.load_keys(&mut conn).await?;
        Ok(target)
    }

    async fn load_keys(&self, conn: &mut Conn) -> anyhow::Result<()> {
        let jwks = conn
            .get(&self.jwks, None)
            .await?
            .expect_json(StatusCode::OK)?;
        let mut keys = HashMap::new();
        for jwk in jwks["keys"].as_array().context("jwks keys")? {
            let kid = jwk["kid"].as_str().context("kid")?.to_owned();
            let alg = match jwk["alg"].as_str() {
                Some("RS256") => jsonwebtoken::Algorithm::RS256,
                Some("ES256") => jsonwebtoken::Algorithm::ES256,
                other => bail!("unexpected alg {other:?}"),
            };
            let key = DecodingKey::from_jwk(&serde_json::from_value(jwk.clone())?)?;
            keys.insert(kid, Arc::new((key, alg)));
        }
        *self.keys.write().expect("keys lock") = keys;
        Ok(())
    }

    async fn key(
        &self,
        conn: &mut Conn,
        kid: &str,
    ) -> anyhow::Result<Arc<(DecodingKey, jsonwebtoken::Algorithm)>> {
        if let Some(k) = self.keys.read().expect("keys lock").get(kid) {
            return Ok(k.clone());
        }
        self.load_keys(conn).await?;
        self.keys
            .read()
            .expect("keys lock")
            .get(kid)
            .cloned()
            .with_context(|| format!("kid {kid} not in the JWKS"))
    }

    fn next_login(&self) -> String {
        let n = self.next_account.fetch_add(1, Ordering::Relaxed) % self.accounts;
        account_login(&self.account_prefix, n)
    }

    /// The path of a URL of the provider itself (relative, or absolute on the issuer's origin).
    fn local_path(&self, location: &str) -> Option<String> {
        if location.starts_with('/') {
            return Some(location.to_owned());
        }
        let url = url::Url::parse(location).ok()?;
        let issuer = url::Url::parse(&self.issuer).ok()?;
        (url.origin() == issuer.origin()).then(|| path_of(location).ok())?
    }

    /// Validates an ID token as an RP must (OpenID Connect Core §3.1.3.7): signature by a
    /// published key, `iss`, `aud`, `exp`, `nonce`, and `at_hash` against the access token.
    async fn validate_id_token(
        &self,
        conn: &mut Conn,
        id_token: &str,
        nonce: &str,
        access_token: &str,
    ) -> anyhow::Result<serde_json::Value> {
        let header = jsonwebtoken::decode_header(id_token)?;
        let kid = header.kid.context("ID token without kid")?;
        let key = self.key(conn, &kid).await?;
        ensure!(header.alg == key.1, "ID token alg {:?}", header.alg);
        let mut validation = Validation::new(key.1);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.ent.id]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let claims =
            jsonwebtoken::decode::<serde_json::Value>(id_token, &key.0, &validation)?.claims;
        ensure!(claims["nonce"] == nonce, "nonce mismatch");
        // OPTIONAL in the code flow (OpenID Connect Core §3.1.3.6): educonnect sends it, the
        // reference provider does not; checked whenever present.
        if !claims["at_hash"].is_null() {
            let digest = Sha256::digest(access_token.as_bytes());
            ensure!(
                claims["at_hash"] == URL_SAFE_NO_PAD.encode(&digest[..16]),
                "at_hash mismatch"
            );
        }
        Ok(claims)
    }
}

fn random() -> String {
    educonnect::secrets::random_b64(24)
}

/// A browser's share of the login flow: the cookies the provider sets, sent back on the next
/// requests (educonnect's SSO cookie; oidc-provider's interaction cookies).
#[derive(Default)]
struct Browser {
    cookies: Vec<(String, String)>,
}

/// The most redirects a flow may take between two steps.
const MAX_REDIRECTS: usize = 5;

impl Browser {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, response: &Response) {
        for value in response.headers.get_all(SET_COOKIE) {
            let Some((name, rest)) = value.to_str().ok().and_then(|v| v.split_once('=')) else {
                continue;
            };
            let value = rest.split(';').next().unwrap_or_default().trim();
            self.cookies.retain(|(k, _)| k != name.trim());
            if !value.is_empty() {
                self.cookies
                    .push((name.trim().to_owned(), value.to_owned()));
            }
        }
    }

    async fn send(
        &mut self,
        conn: &mut Conn,
        method: Method,
        path: &str,
        form: Option<String>,
    ) -> anyhow::Result<Response> {
        let cookie = self.cookie_header();
        let response = conn.send(method, path, None, Some(&cookie), form).await?;
        self.keep_cookies(&response);
        Ok(response)
    }

    /// Follows the provider's own redirects; stops at the first response that is not one, or at
    /// a redirect that leaves the provider (returned as is).
    async fn follow(
        &mut self,
        target: &Target,
        conn: &mut Conn,
        mut response: Response,
    ) -> anyhow::Result<Response> {
        for _ in 0..MAX_REDIRECTS {
            if !response.status.is_redirection() {
                return Ok(response);
            }
            let location = response.header("location").context("no Location")?;
            let Some(path) = target.local_path(location) else {
                return Ok(response);
            };
            response = self.send(conn, Method::GET, &path, None).await?;
        }
        bail!("more than {MAX_REDIRECTS} redirects")
    }
}

/// The login page's form: where it posts and its hidden fields (transaction, CSRF token).
struct LoginForm {
    action: String,
    hidden: Vec<(String, String)>,
}

/// The value of `name="..."` in one tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')?;
    Some(&tag[start..start + end])
}

impl LoginForm {
    /// The first `<form method="post">` of the page: its action and its hidden inputs.
    fn parse(html: &str) -> anyhow::Result<LoginForm> {
        let start = html.find("<form").context("no form in the login page")?;
        let form = &html[start..];
        let form = &form[..form.find("</form>").context("unterminated form")?];
        let open = &form[..form.find('>').context("unterminated form tag")?];
        let action = attribute(open, "action")
            .context("form without action")?
            .to_owned();
        let hidden = form
            .split("<input")
            .skip(1)
            .filter_map(|tag| {
                let tag = &tag[..tag.find('>')?];
                (attribute(tag, "type") == Some("hidden")).then(|| {
                    (
                        attribute(tag, "name").unwrap_or_default().to_owned(),
                        attribute(tag, "value").unwrap_or_default().to_owned(),
                    )
                })
            })
            .collect();
        Ok(LoginForm { action, hidden })
    }
}

/// Tokens a user flow ends with.
pub struct UserTokens {
    pub access_token: String,
    pub refresh_token: String,
}

/// The authorization code flow with PKCE, as a browser and an ENT do it: authorize → login page
/// → form POST with its hidden CSRF fields → redirect with the code → token exchange → ID
/// token checked. Cookies and the provider's own redirects are followed as a browser would.
pub async fn login_flow(target: &Target, conn: &mut Conn) -> anyhow::Result<UserTokens> {
    let verifier = educonnect::secrets::random_b64(32);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let (state, nonce) = (random(), random());
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", target.ent.id.as_str()),
            ("redirect_uri", target.ent.redirect_uri.as_str()),
            ("scope", "openid profile"),
            ("state", state.as_str()),
            ("nonce", nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let mut browser = Browser::default();
    let authorize = browser
        .send(
            conn,
            Method::GET,
            &format!("{}?{query}", target.authorize),
            None,
        )
        .await?;
    let page = browser.follow(target, conn, authorize).await?;
    ensure!(page.status == StatusCode::OK, "login page: {}", page.status);
    let form = LoginForm::parse(std::str::from_utf8(&page.body)?)?;
    let login = target.next_login();
    let mut fields = form.hidden;
    fields.extend([
        ("login".to_owned(), login.clone()),
        ("password".to_owned(), target.password.clone()),
        ("action".to_owned(), "login".to_owned()),
    ]);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&fields)
        .finish();
    let action = target
        .local_path(&form.action)
        .with_context(|| format!("the form posts to {}", form.action))?;
    let posted = browser
        .send(conn, Method::POST, &action, Some(body))
        .await?;
    ensure!(
        posted.status.is_redirection(),
        "login of {login}: {} {}",
        posted.status,
        String::from_utf8_lossy(&posted.body[..posted.body.len().min(200)])
    );
    let redirected = browser.follow(target, conn, posted).await?;
    let location = url::Url::parse(
        redirected
            .header("location")
            .with_context(|| format!("login of {login} ended with {}", redirected.status))?,
    )?;
    ensure!(
        location.as_str().starts_with(&target.ent.redirect_uri),
        "redirected elsewhere: {location}"
    );
    let param = |name: &str| {
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    ensure!(
        param("state").as_deref() == Some(state.as_str()),
        "state mismatch"
    );
    // RFC 9207: both providers announce the `iss` authorization response parameter.
    ensure!(
        param("iss").as_deref() == Some(target.issuer.as_str()),
        "iss mismatch"
    );
    let code = param("code").with_context(|| format!("no code in {location}"))?;
    let auth = basic(&target.ent.id, &target.ent.secret);
    let tokens = conn
        .post_form(
            &target.token,
            Some(&auth),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &target.ent.redirect_uri),
                ("code_verifier", &verifier),
            ],
        )
        .await?
        .expect_json(StatusCode::OK)?;
    let access_token = tokens["access_token"].as_str().context("access_token")?;
    let id_token = tokens["id_token"].as_str().context("id_token")?;
    target
        .validate_id_token(conn, id_token, &nonce, access_token)
        .await?;
    Ok(UserTokens {
        access_token: access_token.to_owned(),
        refresh_token: tokens["refresh_token"]
            .as_str()
            .context("refresh_token")?
            .to_owned(),
    })
}

/// One worker's state for its scenario.
pub enum Worker {
    Login,
    /// Its own refresh token chain.
    Refresh {
        refresh_token: String,
    },
    ClientCredentials,
    Introspection {
        token: String,
    },
    Userinfo {
        token: String,
    },
    Discovery,
    Jwks,
}

impl Worker {
    /// Prepares a worker (logs in for the scenarios that need a user's tokens).
    pub async fn prepare(
        scenario: Scenario,
        target: &Target,
        conn: &mut Conn,
    ) -> anyhow::Result<Worker> {
        Ok(match scenario {
            Scenario::Login => Worker::Login,
            Scenario::Refresh => Worker::Refresh {
                refresh_token: login_flow(target, conn).await?.refresh_token,
            },
            Scenario::ClientCredentials => Worker::ClientCredentials,
            Scenario::Introspection => Worker::Introspection {
                token: login_flow(target, conn).await?.access_token,
            },
            Scenario::Userinfo => Worker::Userinfo {
                token: login_flow(target, conn).await?.access_token,
            },
            Scenario::Discovery => Worker::Discovery,
            Scenario::Jwks => Worker::Jwks,
        })
    }

    /// One operation, validated.
    pub async fn step(&mut self, target: &Target, conn: &mut Conn) -> anyhow::Result<()> {
        match self {
            Worker::Login => {
                login_flow(target, conn).await?;
            }
            Worker::Refresh { refresh_token } => {
                let auth = basic(&target.ent.id, &target.ent.secret);
                let body = conn
                    .post_form(
                        &target.token,
                        Some(&auth),
                        &[
                            ("grant_type", "refresh_token"),
                            ("refresh_token", refresh_token),
                        ],
                    )
                    .await?
                    .expect_json(StatusCode::OK)?;
                ensure!(body["access_token"].is_string(), "no access_token");
                ensure!(body["token_type"] == "Bearer", "token_type");
                let next = body["refresh_token"].as_str().context("no refresh_token")?;
                ensure!(next != refresh_token, "refresh token not rotated");
                *refresh_token = next.to_owned();
            }
            Worker::ClientCredentials => {
                let auth = basic(&target.service.id, &target.service.secret);
                let body = conn
                    .post_form(
                        &target.token,
                        Some(&auth),
                        &[("grant_type", "client_credentials")],
                    )
                    .await?
                    .expect_json(StatusCode::OK)?;
                ensure!(body["access_token"].is_string(), "no access_token");
                ensure!(body["token_type"] == "Bearer", "token_type");
                ensure!(
                    body["expires_in"].as_u64().is_some_and(|s| s > 0),
                    "expires_in"
                );
            }
            Worker::Introspection { token } => {
                let auth = basic(&target.ent.id, &target.ent.secret);
                let body = conn
                    .post_form(&target.introspection, Some(&auth), &[("token", token)])
                    .await?
                    .expect_json(StatusCode::OK)?;
                ensure!(body["active"] == true, "token not active: {body}");
                ensure!(body["client_id"] == target.ent.id.as_str(), "client_id");
            }
            Worker::Userinfo { token } => {
                let body = conn
                    .get(&target.userinfo, Some(token))
                    .await?
                    .expect_json(StatusCode::OK)?;
                ensure!(body["sub"].is_string(), "no sub");
            }
            Worker::Discovery => {
                let body = conn
                    .get(&target.discovery, None)
                    .await?
                    .expect_json(StatusCode::OK)?;
                ensure!(body["issuer"] == target.issuer.as_str(), "issuer");
            }
            Worker::Jwks => {
                let body = conn
                    .get(&target.jwks, None)
                    .await?
                    .expect_json(StatusCode::OK)?;
                let keys = body["keys"].as_array().context("keys")?;
                ensure!(
                    !keys.is_empty() && keys.iter().all(|k| k["kid"].is_string()),
                    "keys without kid"
                );
            }
        }
        Ok(())
    }
}
