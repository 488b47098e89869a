//! What the back-office's browser tests share: typing into a field, waiting for a text, signing
//! in (and out), presenting the second factor, reading a downloaded PDF.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::Locator;

use super::chromium::Chromium;
use super::common::staff::TestStaff;
use super::common::TestOp;
use super::{wait_for, WAIT};

pub async fn type_into(browser: &Chromium, css: &str, text: &str) {
    let field = wait_for(browser, css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

pub async fn press(browser: &Chromium, css: &str) {
    wait_for(browser, css).await.click().await.unwrap();
}

pub async fn choose(browser: &Chromium, css: &str, value: &str) {
    wait_for(browser, css)
        .await
        .select_by_value(value)
        .await
        .unwrap();
}

/// Waits until an element of `css` says `expected`, as shown (case aside: badges are set in
/// capitals); a fresh lookup each time, so the page a form was submitted from never passes for
/// the next one.
pub async fn wait_for_text(browser: &Chromium, css: &str, expected: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = match browser.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.to_lowercase().contains(&expected.to_lowercase()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no « {expected} » in {css}: « {text} » at {}:\n{}",
            browser.current_url().await.unwrap(),
            browser.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the page's `h1` says `expected`.
pub async fn wait_for_title(browser: &Chromium, expected: &str) {
    wait_for_text(browser, "main h1", expected).await
}

/// Signs in afresh with the password (the browser's cookies forgotten), to go to `suite`.
pub async fn sign_in(browser: &Chromium, op: &TestOp, login: &str, password: &str, suite: &str) {
    browser.delete_all_cookies().await.unwrap();
    browser
        .goto(&op.url(&format!("/gestion?suite={suite}")))
        .await
        .unwrap();
    type_into(browser, "#login", login).await;
    type_into(browser, "#password", password).await;
    press(
        browser,
        "form[action='/gestion/connexion'] button[type=submit]",
    )
    .await;
}

/// Signs in afresh with the password of a staff member made by the test, to the home page.
pub async fn sign_in_as(browser: &Chromium, op: &TestOp, who: &TestStaff) {
    sign_in(
        browser,
        op,
        &who.staff.login,
        &who.password,
        "/gestion/accueil",
    )
    .await;
    wait_for_title(browser, "Bonjour").await;
}

/// Types the code on the second factor's page.
pub async fn present_code(browser: &Chromium, code: &str) {
    type_into(browser, "#code", code).await;
    press(
        browser,
        "form[action='/gestion/second-facteur'] button[type=submit]",
    )
    .await;
}

/// The code of the secret the enrolment page shows, now.
pub async fn enrolment_code(browser: &Chromium, op: &TestOp) -> (Vec<u8>, String) {
    let base32 = wait_for(browser, "#cle-otp").await.text().await.unwrap();
    let secret = educonnect::staff::totp::from_base32(&base32).expect("base32 shown");
    let code = educonnect::staff::totp::code_at(&secret, (op.app.now_ms() / 1000) as u64).unwrap();
    (secret, code)
}

pub async fn sign_out(browser: &Chromium) {
    press(
        browser,
        "form[action='/gestion/deconnexion'] button[type=submit]",
    )
    .await;
    wait_for_title(browser, "Connexion à l'espace de gestion").await;
}

/// chromedriver's `goog/cdp/execute`: a DevTools command in the session's browser.
#[derive(Debug)]
struct Cdp {
    command: &'static str,
    params: serde_json::Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = serde_json::json!({ "cmd": self.command, "params": self.params });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

/// Downloads go to `dir`, without asking.
pub async fn downloads_to(browser: &Chromium, dir: &Path) {
    browser
        .issue_cmd(Cdp {
            command: "Browser.setDownloadBehavior",
            params: serde_json::json!({
                "behavior": "allow",
                "downloadPath": dir.display().to_string(),
            }),
        })
        .await
        .expect("downloads allowed");
}

/// A PDF downloaded into `dir` that is not in `seen`, once complete.
fn is_complete_pdf(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| {
        bytes.starts_with(b"%PDF")
            && bytes
                .windows(5)
                .rev()
                .take(64)
                .any(|window| window == b"%%EOF")
    })
}

pub async fn downloaded(dir: &Path, seen: &[PathBuf]) -> PathBuf {
    let deadline = Instant::now() + WAIT;
    loop {
        // Chromium reserves the final name with an empty file while the `.crdownload` is being
        // written, then renames over it: the download is done when no `.crdownload` is left and
        // the PDF reads to its end marker.
        let entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        let in_progress = entries
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "crdownload"));
        let done = entries
            .into_iter()
            .find(|p| p.extension().is_some_and(|e| e == "pdf") && !seen.contains(p))
            .filter(|p| !in_progress && is_complete_pdf(p));
        if let Some(done) = done {
            return done;
        }
        assert!(
            Instant::now() < deadline,
            "no download in {}",
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
