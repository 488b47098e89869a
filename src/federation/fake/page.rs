//! The fake's two pages, in French: the choice of a test identity, and an error. Tiny and
//! self-contained (no stylesheet, no script); every text inserted is escaped.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::identities::IDENTITIES;

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

fn document(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} – FranceConnect (simulation)</title></head>\
         <body><main><p><strong>FranceConnect — simulation pour la démonstration et les tests\
         </strong></p><h1>{title}</h1>{body}</main></body></html>",
        title = escape(title),
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; frame-ancestors 'none'",
            ),
        ],
        html,
    )
        .into_response()
}

/// The identity-choice page of the interaction `id`.
pub(super) fn choice(id: &str) -> Response {
    let id = escape(id);
    let mut body = String::from(
        "<p>Aucun mot de passe ici : choisissez l'identité avec laquelle FranceConnect vous \
         connecte.</p><ul>",
    );
    for identity in &IDENTITIES {
        body.push_str(&format!(
            "<li><a href=\"/api/v2/interaction/{id}/{key}\">Continuer en tant que {name}</a> \
             — {description}</li>",
            key = escape(identity.key),
            name = escape(&identity.full_name()),
            description = escape(identity.description),
        ));
    }
    body.push_str(&format!(
        "</ul><p><a href=\"/api/v2/interaction/{id}/annuler\">Annuler et revenir au service</a></p>\
         <p><a href=\"/api/v2/interaction/{id}/erreur\">Simuler une erreur de FranceConnect</a></p>"
    ));
    document(StatusCode::OK, "Choisissez une identité de test", &body)
}

pub(super) fn error(status: StatusCode, message: &str) -> Response {
    let body = format!("<p>{}</p>", escape(message));
    document(status, "Requête refusée", &body)
}
