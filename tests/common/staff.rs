//! Staff for back-office tests: created through the domain functions an operator uses, their
//! second factor enrolled through the store (or through the pages, when that is what a test
//! proves), and a cookie-keeping client that signs in at `/gestion` and posts its forms with
//! their CSRF token, as a browser would.

use educonnect::establishments::{Actor, Scope};
use educonnect::secrets::Secret;
use educonnect::siecle::Uai;
use educonnect::staff::directory::{self, Directory, NewStaff, RoleRequest};
use educonnect::staff::{totp, RoleKind, RoleScope, Staff};
use reqwest::header::LOCATION;

use super::TestOp;

/// A staff member created by an operator, with their initial password.
pub struct TestStaff {
    pub staff: Staff,
    pub password: String,
    /// The TOTP secret, once enrolled.
    pub totp: Option<Vec<u8>>,
}

impl TestStaff {
    /// The code their authenticator shows at the provider's current time.
    pub fn code(&self, op: &TestOp) -> String {
        let secret = self.totp.as_ref().expect("second factor enrolled");
        totp::code_at(secret, (op.app.now_ms() / 1000) as u64).unwrap()
    }
}

fn operator() -> Actor {
    Actor::new("test:operator", Scope::National)
}

pub fn directory(op: &TestOp) -> Directory<'_> {
    Directory {
        staff: &*op.app.durable,
        audit: &*op.app.durable,
        passwords: &op.app.passwords,
    }
}

/// A staff member with `role`, second factor not enrolled.
pub async fn add(op: &TestOp, login: &str, role: RoleRequest) -> TestStaff {
    let new = NewStaff {
        login: login.into(),
        given_name: "Camille".into(),
        family_name: format!("Test {login}"),
        email: format!("{login}@etab.example"),
    };
    let (staff, password) =
        directory::add_staff(&operator(), &directory(op), &new, &role, op.app.now_ms())
            .await
            .expect("staff created");
    TestStaff {
        staff,
        password: password.expose().to_owned(),
        totp: None,
    }
}

/// `add`, with the second factor enrolled.
pub async fn add_enrolled(op: &TestOp, login: &str, role: RoleRequest) -> TestStaff {
    let mut staff = add(op, login, role).await;
    let secret = totp::generate_secret();
    let sealed = totp::seal(op.app.keys.kek(), &staff.staff.id, &secret).unwrap();
    assert!(op
        .app
        .durable
        .enrol_staff_totp(&staff.staff.id, &sealed, op.app.now_ms())
        .await
        .unwrap());
    staff.staff.totp_enrolled_at = Some(op.app.now_ms());
    staff.totp = Some(secret);
    staff
}

pub fn at(kind: RoleKind, uai: &str) -> RoleRequest {
    RoleRequest::at(kind, Uai::parse(uai).unwrap())
}

pub fn delegate(uai: &str, pupils: bool, guardians: bool) -> RoleRequest {
    RoleRequest {
        pupils,
        guardians,
        ..RoleRequest::at(RoleKind::Delegate, Uai::parse(uai).unwrap())
    }
}

pub fn assistance(academy: &'static str) -> RoleRequest {
    RoleRequest {
        kind: RoleKind::Assistance,
        scope: RoleScope::Academy(academy),
        pupils: false,
        guardians: false,
        ends_at: None,
    }
}

/// The value of the hidden field `name` in a page.
pub fn hidden(body: &str, name: &str) -> Option<String> {
    super::browser::hidden(body, name)
}

/// A back-office page as fetched: status, final path, body.
pub struct Page {
    pub status: u16,
    pub path: String,
    pub body: String,
}

/// A browser of the back-office: keeps its cookies, follows redirects within the provider.
pub struct Gestion<'a> {
    op: &'a TestOp,
    pub http: reqwest::Client,
}

impl<'a> Gestion<'a> {
    pub fn new(op: &'a TestOp) -> Gestion<'a> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Gestion { op, http }
    }

    async fn follow(&self, mut response: reqwest::Response) -> Page {
        for _ in 0..10 {
            if response.status().is_redirection() {
                let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
                let next = response.url().join(&location).unwrap();
                assert!(
                    next.as_str().starts_with(&self.op.issuer),
                    "left for {next}"
                );
                response = self.http.get(next).send().await.unwrap();
            } else {
                let status = response.status().as_u16();
                let path = response.url().path().to_owned();
                return Page {
                    status,
                    path,
                    body: response.text().await.unwrap(),
                };
            }
        }
        panic!("too many redirects");
    }

    pub async fn get(&self, path: &str) -> Page {
        let response = self.http.get(self.op.url(path)).send().await.unwrap();
        self.follow(response).await
    }

    /// Posts `form` to `action`, with the CSRF token of the page at `from`.
    pub async fn post_from(&self, from: &str, action: &str, form: &[(&str, &str)]) -> Page {
        let page = self.get(from).await;
        let csrf = hidden(&page.body, "csrf")
            .unwrap_or_else(|| panic!("no csrf at {from}: {}", page.body));
        self.post(action, &csrf, form).await
    }

    /// Posts `form` to `action` with this CSRF token.
    pub async fn post(&self, action: &str, csrf: &str, form: &[(&str, &str)]) -> Page {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf", csrf));
        let response = self
            .http
            .post(self.op.url(action))
            .header("origin", &self.op.issuer)
            .form(&fields)
            .send()
            .await
            .unwrap();
        self.follow(response).await
    }

    /// Signs in with the password; the page it lands on.
    pub async fn sign_in_password(&self, who: &TestStaff) -> Page {
        self.post_from(
            "/gestion",
            "/gestion/connexion",
            &[("login", &who.staff.login), ("password", &who.password)],
        )
        .await
    }

    /// Signs in with the password only (the second factor enrolled but not presented).
    pub async fn sign_in(&self, who: &TestStaff) -> Page {
        let page = self.sign_in_password(who).await;
        assert_eq!(page.path, "/gestion/accueil", "{}", page.body);
        page
    }

    /// Signs in and presents the second factor.
    pub async fn sign_in_strong(&self, who: &TestStaff) -> Page {
        self.sign_in(who).await;
        self.step_up(who, "/gestion/accueil").await
    }

    /// Presents the second factor, then back to `suite`.
    pub async fn step_up(&self, who: &TestStaff, suite: &str) -> Page {
        let code = who.code(self.op);
        let page = self
            .get(&format!("/gestion/second-facteur?suite={suite}"))
            .await;
        let csrf = hidden(&page.body, "csrf").expect("second factor form");
        let page = self
            .post(
                "/gestion/second-facteur",
                &csrf,
                &[("code", &code), ("suite", suite)],
            )
            .await;
        assert_ne!(page.path, "/gestion/second-facteur", "{}", page.body);
        page
    }
}

/// A fresh secret for a password form (tests never reuse the staff's).
pub fn secret(value: &str) -> Secret {
    Secret::from_presented(value)
}
