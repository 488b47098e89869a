//! Server-rendered pages (French), compiled and type-checked by askama.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

#[derive(Template)]
#[template(path = "public/login.html")]
pub struct LoginPage<'a> {
    pub client_name: &'a str,
    pub tx: &'a str,
    pub csrf: &'a str,
    pub login: &'a str,
    pub message: Option<&'a str>,
    /// FranceConnect is enabled: its button is offered (guardians).
    pub franceconnect: bool,
}

#[derive(Template)]
#[template(path = "public/consent.html")]
pub struct ConsentPage<'a> {
    pub client_name: &'a str,
    pub tx: &'a str,
    pub csrf: &'a str,
    pub scopes: Vec<&'a str>,
}

#[derive(Template)]
#[template(path = "public/error.html")]
pub struct ErrorPage<'a> {
    pub message: &'a str,
}

#[derive(Template)]
#[template(path = "public/logout_confirm.html")]
pub struct LogoutConfirmPage<'a> {
    pub csrf: &'a str,
}

#[derive(Template)]
#[template(path = "public/logged_out.html")]
pub struct LoggedOutPage;

#[derive(Template)]
#[template(path = "public/form_post.html")]
pub struct FormPostPage<'a> {
    pub action: &'a str,
    pub fields: Vec<(&'a str, &'a str)>,
}

/// The one inline script of the form_post page, allowed by its hash in the CSP.
const FORM_POST_SCRIPT_HASH: &str = "'sha256-ePniVEkSivX/c7XWBGafqh8tSpiRrKiqYeqbG7N1TOE='";

pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            response.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
                ),
            );
            response
        }
        Err(error) => {
            tracing::error!(%error, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "erreur interne").into_response()
        }
    }
}

/// `render`, for a page that loads our own scripts (`/static/js/`: the back-office's password
/// field "Afficher"); still no inline script.
pub fn render_with_script(status: StatusCode, page: &impl Template) -> Response {
    let mut response = render(status, page);
    if response.status() == status {
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
    }
    response
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    render(status, &ErrorPage { message })
}

pub fn form_post(page: &FormPostPage<'_>) -> Response {
    let mut response = render(StatusCode::OK, page);
    let csp = format!("default-src 'none'; script-src {FORM_POST_SCRIPT_HASH}; frame-ancestors 'none'; base-uri 'none'");
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use sha2::Digest;

    #[test]
    fn csp_hash_matches_the_form_post_script() {
        let script = "document.forms[0].submit()";
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script));
        assert_eq!(FORM_POST_SCRIPT_HASH, format!("'sha256-{hash}'"));
        let page = FormPostPage {
            action: "https://rp.example/cb",
            fields: vec![("code", "x")],
        }
        .render()
        .unwrap();
        assert!(page.contains(&format!("<script>{script}</script>")));
    }
}
