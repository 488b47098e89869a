//! A PostgreSQL 15 and a Redis of the test's own, on free ports, that a test may stop, restart
//! and kill (the shared ones must not be touched). Each waits until it answers, within a timeout,
//! and is killed when dropped. Missing binaries fail the test, they never skip it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
const READY_WITHIN: Duration = Duration::from_secs(30);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Runs `command` to completion (off the runtime's worker: the provider runs on it too).
fn run(command: &mut Command) {
    let output = tokio::task::block_in_place(|| command.output())
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Waits until `ready` holds, or panics naming `what`.
async fn wait_until<F: std::future::Future<Output = bool>>(what: &str, ready: impl Fn() -> F) {
    let deadline = Instant::now() + READY_WITHIN;
    while !ready().await {
        assert!(
            Instant::now() < deadline,
            "{what} did not answer within {READY_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A PostgreSQL cluster in a temporary directory. PostgreSQL refuses to run as root: as root,
/// its commands run as the `postgres` user.
pub struct Postgres {
    dir: tempfile::TempDir,
    pub port: u16,
}

impl Postgres {
    pub async fn start() -> Postgres {
        let initdb = Path::new(PG_BIN).join("initdb");
        assert!(
            initdb.exists(),
            "{} is missing: install postgresql-15 (the resilience tests start their own server)",
            initdb.display()
        );
        let dir = tempfile::Builder::new()
            .prefix("edu-pg-")
            .tempdir_in("/tmp")
            .expect("temp dir");
        if is_root() {
            run(Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path()));
        }
        let pg = Postgres {
            dir,
            port: free_port(),
        };
        run(pg
            .command("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(pg.data()));
        pg.ctl(&["start"]);
        pg.wait_ready().await;
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let program = Path::new(PG_BIN).join(program);
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    /// `pg_ctl <action>`, waiting for it to complete.
    fn ctl(&self, action: &[&str]) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50",
            self.port,
            self.dir.path().display()
        );
        run(self
            .command("pg_ctl")
            .args(action)
            .args(["-w", "-t", "30", "-D"])
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("log"))
            .args(["-o", &options])
            .stdout(Stdio::null()));
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// True when a new connection runs a query.
    pub async fn answers(&self) -> bool {
        use sqlx::Connection;
        match sqlx::PgConnection::connect(&self.url()).await {
            Ok(mut conn) => sqlx::query("SELECT 1").execute(&mut conn).await.is_ok(),
            Err(_) => false,
        }
    }

    async fn wait_ready(&self) {
        wait_until("PostgreSQL", || self.answers()).await;
    }

    /// A fast restart (`pg_ctl restart -m fast`): every session is ended.
    pub async fn restart(&self) {
        self.ctl(&["restart", "-m", "fast"]);
        self.wait_ready().await;
    }

    pub fn stop(&self) {
        self.ctl(&["stop", "-m", "fast"]);
    }

    pub async fn start_again(&self) {
        self.ctl(&["start"]);
        self.wait_ready().await;
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["stop", "-m", "immediate", "-D"])
            .arg(self.data())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// A `redis-server` without persistence: a restart loses every key, as a crash would.
pub struct Redis {
    pub port: u16,
    child: Option<Child>,
}

impl Redis {
    pub async fn start() -> Redis {
        let mut redis = Redis {
            port: free_port(),
            child: None,
        };
        redis.start_again().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub async fn start_again(&mut self) {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run redis-server (install redis-server): {e}"));
        self.child = Some(child);
        wait_until("Redis", || self.answers()).await;
    }

    /// True when Redis answers a `PING`.
    pub async fn answers(&self) -> bool {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await else {
            return false;
        };
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").await.is_ok()
            && stream.read_exact(&mut reply).await.is_ok()
            && &reply == b"+PONG\r\n"
    }

    /// Kills the server (SIGKILL: as a crash), and waits until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}
