//! axe-core, the reference WCAG rule engine, run in the page a browser test shows: every page a
//! person can see must have no WCAG 2.1 A or AA violation.
//!
//! axe-core is pinned by `tests/axe/package-lock.json` and installed with `npm ci` into
//! `tests/axe/node_modules` (git-ignored). When that copy is missing or is not the locked version,
//! the first test that needs it installs it (npm must be on the PATH); a failed install fails the
//! test with the command to run by hand: accessibility tests never skip.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use fantoccini::Client;
use serde_json::Value;

/// The rules of WCAG 2.0 and 2.1, levels A and AA (axe's tags).
const RUN: &str = "const done = arguments[arguments.length - 1];
    axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
        .then(results => done(results), error => done({error: String(error)}));";

const INSTALL_BY_HAND: &str = "npm ci --prefix tests/axe (Debian: apt-get install npm)";

fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/axe")
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// The version `package-lock.json` pins.
fn locked_version(folder: &Path) -> String {
    let lock = read_json(&folder.join("package-lock.json")).expect("tests/axe/package-lock.json");
    lock["packages"]["node_modules/axe-core"]["version"]
        .as_str()
        .expect("package-lock.json pins axe-core")
        .to_owned()
}

fn installed_version(folder: &Path) -> Option<String> {
    let package = read_json(&folder.join("node_modules/axe-core/package.json"))?;
    package["version"].as_str().map(str::to_owned)
}

/// `npm ci` into a staging folder of its own, then moved into place: tests run in parallel
/// processes, and only whole installs ever appear at `node_modules` (the first one moved wins).
fn install(folder: &Path) {
    let staging = tempfile::Builder::new()
        .prefix(".install-")
        .tempdir_in(folder)
        .expect("staging folder in tests/axe");
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(folder.join(file), staging.path().join(file)).expect("copy the npm manifest");
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(staging.path())
        .status()
        .unwrap_or_else(|e| {
            panic!("npm could not start ({e}); install axe-core: {INSTALL_BY_HAND}")
        });
    assert!(
        status.success(),
        "npm ci failed ({status}); install axe-core: {INSTALL_BY_HAND}"
    );
    let target = folder.join("node_modules");
    if target.exists() {
        // An install of another version: moved aside, removed with the staging folder.
        let _ = std::fs::rename(&target, staging.path().join("replaced"));
    }
    let _ = std::fs::rename(staging.path().join("node_modules"), &target);
}

/// axe.min.js of the locked version, installed first if needed.
fn source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let folder = folder();
        let locked = locked_version(&folder);
        if installed_version(&folder).as_deref() != Some(locked.as_str()) {
            install(&folder);
        }
        let installed = installed_version(&folder);
        assert_eq!(
            installed.as_deref(),
            Some(locked.as_str()),
            "tests/axe/node_modules does not hold axe-core {locked}; install it: {INSTALL_BY_HAND}"
        );
        let path = folder.join("node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{} ({e}); install it: {INSTALL_BY_HAND}", path.display()))
    })
}

/// Runs axe-core's WCAG 2.1 A and AA rules on the page `client` shows; returns the violations.
/// Scripts run by WebDriver are not subject to the page's Content-Security-Policy; axe is checked
/// to have run (some rule passed), so a page where it could not run never passes.
pub async fn violations(client: &Client) -> Vec<Value> {
    client
        .execute(source(), vec![])
        .await
        .expect("axe-core injected");
    let results = client
        .execute_async(RUN, vec![])
        .await
        .expect("axe.run answers");
    assert!(
        results["error"].is_null(),
        "axe.run failed: {}",
        results["error"]
    );
    assert_eq!(results["testEngine"]["name"], "axe-core", "{results}");
    let passes = results["passes"].as_array().map_or(0, Vec::len);
    assert!(passes > 0, "axe-core ran no rule on the page: {results}");
    results["violations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Fails with each violation (rule, impact, help, and every offending node: its CSS target, its
/// HTML, what to fix) unless the page `client` shows has none. `page` names it in the message.
pub async fn assert_no_violations(client: &Client, page: &str) {
    let found = violations(client).await;
    if found.is_empty() {
        return;
    }
    let url = client
        .current_url()
        .await
        .map(String::from)
        .unwrap_or_default();
    let mut report = format!("{page} ({url}): {} WCAG 2.1 A/AA violation(s)", found.len());
    for violation in &found {
        report.push_str(&format!(
            "\n- {} ({}): {} [{}]",
            text(&violation["id"]),
            text(&violation["impact"]),
            text(&violation["help"]),
            text(&violation["helpUrl"]),
        ));
        for node in violation["nodes"].as_array().into_iter().flatten() {
            report.push_str(&format!(
                "\n    {} {}\n      {}",
                node["target"],
                text(&node["html"]),
                text(&node["failureSummary"]).replace('\n', "\n      "),
            ));
        }
    }
    panic!("{report}");
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("?")
}
