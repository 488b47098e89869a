//! A headless Chromium driven over WebDriver, one per test: its own chromedriver on a free port,
//! its own profile directory, both shut down on drop (even when the test panics). chromedriver
//! stays in the test's process group, so the test runner's own cleanup (timeout, Ctrl-C) reaches
//! it and its browser too. A missing Chromium or chromedriver fails the test: browser tests never
//! skip.
//!
//! `EDUCONNECT_TEST_CHROMIUM` (default `/usr/bin/chromium`) and `EDUCONNECT_TEST_CHROMEDRIVER`
//! (default `/usr/bin/chromedriver`) point at them.

use std::io::{BufRead, Write};
use std::net::{SocketAddr, TcpStream};
use std::ops::Deref;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long chromedriver and then the browser session may take to start on a loaded machine.
const START_TIMEOUT: Duration = Duration::from_secs(60);

fn binary(variable: &str, default: &str) -> String {
    let path = std::env::var(variable).unwrap_or_else(|_| default.into());
    assert!(
        Path::new(&path).exists(),
        "{path} is missing: install the Debian packages chromium and chromium-driver, or set {variable}"
    );
    path
}

/// A browser session; derefs to the fantoccini `Client`. Fields drop in order: the session, then
/// chromedriver, then the profile directory.
pub struct Chromium {
    client: Client,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

impl Deref for Chromium {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Chromium {
    pub async fn start() -> Chromium {
        let chromium = binary("EDUCONNECT_TEST_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = binary("EDUCONNECT_TEST_CHROMEDRIVER", "/usr/bin/chromedriver");
        let profile = tempfile::tempdir().expect("profile directory");
        let driver = Driver::start(&chromedriver).await;
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                // No password manager bubble over the login form.
                "prefs": {
                    "credentials_enable_service": false,
                    "profile.password_manager_enabled": false,
                },
            },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object")
        };
        let mut builder = ClientBuilder::native();
        builder.capabilities(capabilities);
        let webdriver = format!("http://127.0.0.1:{}", driver.port);
        let client = tokio::time::timeout(START_TIMEOUT, builder.connect(&webdriver))
            .await
            .expect("Chromium starts in time")
            .expect("Chromium starts");
        // Page loads fail after a minute instead of chromedriver's five.
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(30)),
                Some(START_TIMEOUT),
                Some(Duration::ZERO),
            ))
            .await
            .expect("set timeouts");
        Chromium {
            client,
            _driver: driver,
            _profile: profile,
        }
    }

    /// Ends the session the WebDriver way (Chromium exits); dropping shuts chromedriver down.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// A running chromedriver, shut down on drop.
struct Driver {
    process: Child,
    port: u16,
}

impl Driver {
    /// Starts chromedriver on a free port; returns once it says it listens. Another process may
    /// take the port between our probe and chromedriver's bind: then chromedriver exits and we
    /// try again.
    async fn start(chromedriver: &str) -> Driver {
        let mut output = Vec::new();
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let process = Command::new(chromedriver)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver starts");
            let mut driver = Driver { process, port };
            let stdout = driver.process.stdout.take().expect("piped");
            let mut lines = BufReader::new(stdout).lines();
            let started = tokio::time::timeout(START_TIMEOUT, async {
                while let Ok(Some(line)) = lines.next_line().await {
                    let ready = line.contains("started successfully");
                    output.push(line);
                    if ready {
                        return true;
                    }
                }
                false
            })
            .await
            .expect("chromedriver starts in time");
            if started {
                // Keep reading so chromedriver never blocks on a full pipe.
                tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
                return driver;
            }
            // Reaped here, so that drop does not ask whoever holds the port now to shut down.
            let _ = driver.process.kill().await;
        }
        panic!("chromedriver did not start:\n{}", output.join("\n"));
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !matches!(self.process.try_wait(), Ok(None)) {
            return;
        }
        // Killing chromedriver would orphan Chromium; asked to shut down, it closes it first.
        if shutdown(self.port).is_err() {
            let _ = self.process.start_kill();
        }
    }
}

/// chromedriver's `/shutdown`, as a blocking request: `drop` cannot await.
fn shutdown(port: u16) -> std::io::Result<()> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut status = String::new();
    std::io::BufReader::new(stream).read_line(&mut status)?;
    if status.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(std::io::Error::other(status))
    }
}
