//! A provider with one confidential ENT, one pupil account, a browser and an `openidconnect` RP.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreTokenResponse,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope,
};
use url::Url;

use crate::common::browser::{param, Browser};
use crate::common::{Backend, TestOp, REDIRECT_URI};
use educonnect::accounts::Profile;
use educonnect::config::Config;
use educonnect::secrets::Secret;

pub type Rp = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

pub const LOGIN: &str = "l.martin01";
pub const PASSWORD: &str = "Correct-Horse-9";
pub const CLIENT_ID: &str = "ent-hdf";

pub struct Fixture {
    pub op: TestOp,
    pub secret: Secret,
    pub rp: Rp,
    pub http: reqwest::Client,
    pub browser: Browser,
    pub sub: String,
}

/// An authorization request the RP is about to send, with what it must remember.
pub struct Pending {
    pub url: Url,
    pub verifier: PkceCodeVerifier,
    pub nonce: Nonce,
    pub state: CsrfToken,
}

/// A plain HTTP client that does not follow redirects.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl Fixture {
    pub async fn new(backend: Backend) -> Fixture {
        Self::with(backend, |_| {}).await
    }

    pub async fn with(backend: Backend, configure: impl FnOnce(&mut Config)) -> Fixture {
        let op = TestOp::start_with(backend, configure).await;
        let (_, secret) = op.confidential_client(CLIENT_ID).await;
        let account = op.account(LOGIN, PASSWORD, Profile::Pupil).await;
        let http = http();
        let rp = rp_for(&op, &http, CLIENT_ID, Some(&secret)).await;
        Fixture {
            op,
            secret,
            rp,
            http,
            browser: Browser::new(),
            sub: account.id,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.op.issuer
    }

    /// An authorization request with PKCE S256, state and nonce; `extra` adds parameters.
    pub fn request(&self, scopes: &[&str], extra: &[(&str, &str)]) -> Pending {
        pending(&self.rp, scopes, extra)
    }

    /// Logs in through the pages and returns the redirect back to the RP.
    pub async fn authorize(&self, pending: &Pending) -> Url {
        self.browser
            .authorize(self.issuer(), pending.url.as_str(), LOGIN, PASSWORD)
            .await
    }

    /// The whole code flow: a code, exchanged by the RP.
    pub async fn login(&self, scopes: &[&str]) -> (CoreTokenResponse, Pending) {
        let pending = self.request(scopes, &[]);
        let back = self.authorize(&pending).await;
        assert_eq!(
            param(&back, "state").as_deref(),
            Some(pending.state.secret().as_str())
        );
        let code = param(&back, "code").expect("a code");
        let tokens = self
            .exchange(&code, &pending)
            .await
            .expect("token exchange succeeds");
        (tokens, pending)
    }

    /// The whole code flow for another relying party `rp` of this provider.
    pub async fn login_as(&self, rp: &Rp, scopes: &[&str]) -> (CoreTokenResponse, Pending) {
        let pending = pending(rp, scopes, &[]);
        let back = self.authorize(&pending).await;
        let code = crate::common::browser::param(&back, "code").expect("a code");
        let tokens = rp
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.secret().clone()))
            .request_async(&self.http)
            .await
            .expect("token exchange succeeds");
        (tokens, pending)
    }

    /// The status of a client credentials request authenticated by `private_key_jwt`.
    pub async fn assertion_status(&self, assertion: &str) -> u16 {
        self.http
            .post(self.op.url("/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion),
            ])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    pub async fn exchange(
        &self,
        code: &str,
        pending: &Pending,
    ) -> Result<CoreTokenResponse, String> {
        self.rp
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .unwrap()
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.secret().clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| format!("{e:?}"))
    }

    /// A raw POST to the token endpoint with HTTP Basic client authentication.
    pub async fn token_raw(&self, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
        let response = self
            .http
            .post(self.op.url("/token"))
            .basic_auth(CLIENT_ID, Some(self.secret.expose()))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    pub async fn introspect(&self, token: &str) -> serde_json::Value {
        self.http
            .post(self.op.url("/introspect"))
            .basic_auth(CLIENT_ID, Some(self.secret.expose()))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn userinfo_status(&self, access_token: &str) -> u16 {
        self.http
            .get(self.op.url("/userinfo"))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

pub async fn rp_for(
    op: &TestOp,
    http: &reqwest::Client,
    client_id: &str,
    secret: Option<&Secret>,
) -> Rp {
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(op.issuer.clone()).unwrap(), http)
            .await
            .expect("discovery");
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.to_owned()),
        secret.map(|s| ClientSecret::new(s.expose().to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.to_owned()).unwrap())
}

pub fn pending(rp: &Rp, scopes: &[&str], extra: &[(&str, &str)]) -> Pending {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in scopes {
        request = request.add_scope(Scope::new((*scope).to_owned()));
    }
    for (name, value) in extra {
        request = request.add_extra_param(*name, *value);
    }
    let (url, state, nonce) = request.url();
    Pending {
        url,
        verifier,
        nonce,
        state,
    }
}

/// The access token of a token response, as a string.
pub fn access(tokens: &CoreTokenResponse) -> String {
    tokens.access_token().secret().clone()
}

pub fn refresh(tokens: &CoreTokenResponse) -> String {
    tokens
        .refresh_token()
        .expect("a refresh token")
        .secret()
        .clone()
}
