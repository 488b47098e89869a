//! A real SMTP server process on loopback (Debian's `python3-aiosmtpd`, driven by
//! `smtp_server.py` beside this file), for the tests of what the provider sends by e-mail.
//!
//! ```ignore
//! let smtp = SmtpServer::start().await;            // accepts everything, on a free port
//! config.smtp.url = smtp.url();                     // point the provider at it
//! let mail = smtp.wait_for(1).await;                // the messages it received, in order
//! assert_eq!(mail[0].subject, "Votre compte EduConnect");
//! ```
//!
//! `SmtpServer::refusing("550 5.1.1 ...")` answers every recipient with that reply;
//! `SmtpServer::start_on(port)` listens on a given port (bring a server up where the provider
//! was already pointed, with `free_port()`); `SmtpDown::hold()` keeps a port whose server is
//! down (every connection closed before the greeting) so that no other test's server can take
//! it meanwhile, and `up()` starts the server there. The process is killed when the value is
//! dropped.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::AsyncBufReadExt;

/// One message as the server received it, parsed by Python's `email` package.
#[derive(Clone, Debug, Deserialize)]
pub struct Received {
    /// The envelope's sender and recipients (`MAIL FROM`, `RCPT TO`).
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// Headers as decoded (RFC 2047 words decoded).
    pub from: String,
    pub to: String,
    pub subject: String,
    /// The `Subject` header as it travelled (encoded words, ASCII).
    pub raw_subject: String,
    pub message_id: String,
    /// The top-level type (`multipart/alternative`).
    pub content_type: String,
    /// The text/plain and text/html parts, decoded.
    pub text: Option<String>,
    pub html: Option<String>,
    /// The whole message as received.
    pub raw: String,
}

pub struct SmtpServer {
    port: u16,
    dir: tempfile::TempDir,
    _child: tokio::process::Child,
}

/// A port where the SMTP server is down: each connection is closed before the server's
/// greeting. Holding the port (rather than leaving it free) keeps the tests that run beside
/// from binding it meanwhile.
pub struct SmtpDown {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpDown {
    pub async fn hold() -> SmtpDown {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            while let Ok((connection, _)) = listener.accept().await {
                drop(connection);
            }
        });
        SmtpDown { port, task }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The server comes up on the same port.
    pub async fn up(self) -> SmtpServer {
        self.task.abort();
        let _ = self.task.await;
        SmtpServer::start_on(self.port).await
    }
}

/// A loopback port nobody listens on (at the time of asking).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpServer {
    /// A server that accepts every message, on a free port.
    pub async fn start() -> SmtpServer {
        Self::spawn(None, None).await
    }

    /// A server that accepts every message, on `port`.
    pub async fn start_on(port: u16) -> SmtpServer {
        Self::spawn(Some(port), None).await
    }

    /// A server that answers every `RCPT TO` with `reply` (`"550 5.1.1 ..."`, `"451 ..."`).
    pub async fn refusing(reply: &str) -> SmtpServer {
        Self::spawn(None, Some(reply)).await
    }

    async fn spawn(port: Option<u16>, refuse: Option<&str>) -> SmtpServer {
        let dir = tempfile::tempdir().unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/common/smtp_server.py");
        // Debian's interpreter, where python3-aiosmtpd is installed (not a pyenv one on PATH).
        let mut command = tokio::process::Command::new("/usr/bin/python3");
        command
            .arg(script)
            .arg(dir.path())
            .args(["--port", &port.unwrap_or(0).to_string()])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true);
        if let Some(reply) = refuse {
            command.args(["--refuse", reply]);
        }
        let mut child = command
            .spawn()
            .expect("/usr/bin/python3 runs tests/common/smtp_server.py (python3-aiosmtpd)");
        let stdout = child.stdout.take().unwrap();
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the SMTP server starts within 20 s")
            .unwrap()
            .expect("the SMTP server prints its port");
        let port: u16 = ready
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from the SMTP server: {ready}"));
        SmtpServer {
            port,
            dir,
            _child: child,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:<port>`, for `smtp.url`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received so far, in the order received.
    pub fn received(&self) -> Vec<Received> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap())
            .collect()
    }

    /// The messages received once there are at least `n` (waits up to 10 s, then panics).
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the SMTP server received {} messages, not {n}",
            self.received().len()
        );
    }
}
