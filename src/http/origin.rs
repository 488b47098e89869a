//! Review #13.2: the state-changing forms of browsers (login, consent, logout confirmation,
//! `/compte`) are accepted only when they come from our own pages. A cookie bound to the
//! browser already stops a form submitted with another browser's values; this also stops a
//! page elsewhere from making the browser submit one of our forms at all (SameSite=Lax does not
//! stop a top-level cross-site POST).
//!
//! Browsers that send Fetch Metadata say where a request comes from (`Sec-Fetch-Site`); others
//! send `Origin` on a POST. A request with neither (not from a browser) is left to the other
//! checks.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::pages;
use crate::app::AppState;

const REFUSED: &str =
    "Ce formulaire ne vient pas d'une page d'EduConnect : il n'a pas été pris en \
     compte. Retournez sur l'application pour vous connecter.";

pub async fn same_origin_forms(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::POST && !from_our_pages(app.issuer(), request.headers()) {
        tracing::warn!(path = %request.uri().path(), "cross-site form refused");
        return pages::error_page(StatusCode::FORBIDDEN, REFUSED);
    }
    next.run(request).await
}

fn from_our_pages(issuer: &str, headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    // Fetch Metadata: `same-origin` from our pages, `none` when the person acted directly.
    if let Some(site) = header("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match header("origin") {
        Some(origin) => Some(origin) == origin_of(issuer).as_deref(),
        None => true,
    }
}

/// `scheme://host[:port]` of the issuer, as browsers write it in `Origin`.
fn origin_of(issuer: &str) -> Option<String> {
    let url = url::Url::parse(issuer).ok()?;
    Some(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::from_our_pages;
    use axum::http::HeaderMap;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn only_our_own_pages_may_submit_a_form() {
        let issuer = "https://educonnect.example/";
        assert!(from_our_pages(
            issuer,
            &headers(&[("sec-fetch-site", "same-origin")])
        ));
        assert!(from_our_pages(
            issuer,
            &headers(&[("sec-fetch-site", "none")])
        ));
        assert!(!from_our_pages(
            issuer,
            &headers(&[("sec-fetch-site", "cross-site")])
        ));
        assert!(!from_our_pages(
            issuer,
            &headers(&[("sec-fetch-site", "same-site")])
        ));
        // Fetch Metadata wins over Origin.
        assert!(!from_our_pages(
            issuer,
            &headers(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://educonnect.example")
            ])
        ));
        assert!(from_our_pages(
            issuer,
            &headers(&[("origin", "https://educonnect.example")])
        ));
        assert!(!from_our_pages(
            issuer,
            &headers(&[("origin", "https://evil.example")])
        ));
        assert!(!from_our_pages(issuer, &headers(&[("origin", "null")])));
        assert!(!from_our_pages(
            issuer,
            &headers(&[("origin", "https://educonnect.example:8443")])
        ));
        assert!(from_our_pages(issuer, &headers(&[])));
        let local = "http://127.0.0.1:8080";
        assert!(from_our_pages(
            local,
            &headers(&[("origin", "http://127.0.0.1:8080")])
        ));
    }
}
