//! The `educonnect` command as an operator uses it: configuration errors, clients, keys,
//! accounts, and `serve` on the embedded default.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use educonnect::store::sql::SqlStore;
use educonnect::store::{AccountStore, AuditQuery, AuditStore, ClientStore, StaffStore};

fn educonnect(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_educonnect"));
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("cli.db").display()),
        )
        .env("RUST_LOG", "warn");
    command
}

fn run(command: &mut Command) -> (i32, String, String) {
    let output = command.output().expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn invalid_configuration_stops_start_up_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("EDUCONNECT_ISSUER", "http://educonnect.example", "https"),
        (
            "EDUCONNECT_TOKENS__AUTHORIZATION_CODE_SECONDS",
            "3600",
            "authorization_code_seconds",
        ),
        ("EDUCONNECT_PASSWORD__ARGON2_ITERATIONS", "0", "argon2"),
        ("EDUCONNECT_LISTEN", "not-an-address", "listen"),
        ("REDIS_URL", "memcached://x", "redis_url"),
    ];
    for (name, value, expected) in cases {
        let (code, _, stderr) = run(educonnect(dir.path()).env(name, value).arg("serve"));
        assert_eq!(code, 2, "{name}={value}: {stderr}");
        assert!(
            stderr.to_lowercase().contains(expected),
            "{name}={value}: {stderr}"
        );
    }
    let (code, _, stderr) = run(educonnect(dir.path()).args(["--config", "missing.toml", "serve"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("missing.toml"), "{stderr}");
}

#[test]
fn serving_on_postgres_without_smtp_is_refused_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    // Refused before any connection: nothing listens at this address.
    let (code, _, stderr) = run(educonnect(dir.path())
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
        .arg("serve"));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("smtp.url") && stderr.contains("EDUCONNECT_SMTP__URL"),
        "{stderr}"
    );
}

#[tokio::test]
async fn clients_add_prints_the_secret_once_and_stores_only_its_digest() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(educonnect(dir.path()).args([
        "clients",
        "add",
        "--name",
        "ENT Bretagne",
        "--id",
        "ent-bzh",
        "--redirect-uri",
        "https://ent.example/cb",
        "--post-logout-redirect-uri",
        "https://ent.example/bye",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let secret = stdout
        .lines()
        .find_map(|l| l.strip_prefix("client_secret: "))
        .expect("secret printed")
        .trim()
        .to_owned();
    let (_, listed, _) = run(educonnect(dir.path()).args(["clients", "list"]));
    assert!(listed.contains("ent-bzh") && !listed.contains(&secret));
    let store = SqlStore::connect(
        &format!("sqlite://{}", dir.path().join("cli.db").display()),
        1,
    )
    .await
    .unwrap();
    let client = store.client("ent-bzh").await.unwrap().unwrap();
    assert_eq!(
        client.secret_digest,
        Some(educonnect::secrets::Secret::from_presented(&secret).digest())
    );
    let (code, _, stderr) = run(educonnect(dir.path()).args([
        "clients",
        "add",
        "--name",
        "x",
        "--id",
        "ent-bzh",
        "--redirect-uri",
        "https://a.example/cb",
    ]));
    assert_ne!(code, 0);
    assert!(stderr.contains("already exists"), "{stderr}");
    let (code, _, stderr) = run(educonnect(dir.path()).args([
        "clients",
        "add",
        "--name",
        "x",
        "--redirect-uri",
        "http://ent.example/cb",
    ]));
    assert_ne!(code, 0, "plain http outside loopback is refused");
    assert!(stderr.contains("scheme http"), "{stderr}");
    let (code, _, _) = run(educonnect(dir.path()).args(["clients", "remove", "ent-bzh"]));
    assert_eq!(code, 0);
    assert!(store.client("ent-bzh").await.unwrap().is_none());
}

#[test]
fn keys_rotate_publishes_a_new_key_and_keeps_the_old_one_published() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(educonnect(dir.path()).args(["keys", "generate"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("already") || stdout.contains("created"),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(educonnect(dir.path()).args([
        "keys",
        "rotate",
        "--alg",
        "RS256",
        "--publish-ahead",
        "0",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("new RS256 key"), "{stdout}");
    let (_, list, _) = run(educonnect(dir.path()).args(["keys", "list"]));
    let rs256: Vec<&str> = list.lines().filter(|l| l.contains("RS256")).collect();
    assert_eq!(rs256.len(), 2, "{list}");
    assert!(
        rs256.iter().any(|l| l.contains("signing"))
            && rs256.iter().any(|l| l.contains("published (previous)")),
        "{list}"
    );
    let (code, _, stderr) = run(educonnect(dir.path()).args(["keys", "rotate", "--alg", "HS256"]));
    assert_ne!(code, 0);
    assert!(stderr.contains("unknown algorithm"), "{stderr}");
}

#[tokio::test]
async fn accounts_add_creates_an_active_account_with_a_hashed_password() {
    let dir = tempfile::tempdir().unwrap();
    let add = |login: &str, password: &str| {
        run(educonnect(dir.path())
            .env("EDUCONNECT_ACCOUNT_PASSWORD", password)
            .args([
                "accounts",
                "add",
                "--login",
                login,
                "--profile",
                "guardian",
                "--given-name",
                "Chloé",
                "--family-name",
                "Durand",
            ]))
    };
    let (code, stdout, stderr) = add("C.Durand07", "Un-Mot-De-Passe-1");
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("c.durand07"));
    let store = SqlStore::connect(
        &format!("sqlite://{}", dir.path().join("cli.db").display()),
        1,
    )
    .await
    .unwrap();
    let account = store.account_by_login("c.durand07").await.unwrap().unwrap();
    assert!(account
        .password_hash
        .as_deref()
        .unwrap()
        .starts_with("$argon2id$"));
    assert_eq!(account.given_name, "Chloé");
    let (code, _, stderr) = add("c.durand07", "Un-Autre-Mot-2");
    assert_ne!(code, 0);
    assert!(stderr.contains("already taken"), "{stderr}");
    let (code, _, _) = add("x.short", "short");
    assert_ne!(code, 0, "short passwords are refused");
}

/// A loopback port free at the time of asking, with the next one free too (`serve` starts the
/// demo's simulated FranceConnect on the next port).
fn two_free_ports() -> u16 {
    loop {
        let first = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = first.local_addr().unwrap().port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

#[tokio::test]
async fn serve_with_no_configuration_runs_the_embedded_default_and_prints_where_to_click() {
    let dir = tempfile::tempdir().unwrap();
    let port = two_free_ports();
    let mut child = Command::new(env!("CARGO_BIN_EXE_educonnect"))
        .current_dir(dir.path())
        .env_clear()
        .env("EDUCONNECT_LISTEN", format!("127.0.0.1:{port}"))
        .env("EDUCONNECT_ISSUER", format!("http://127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    while let Some(Ok(line)) = lines.next() {
        printed.push_str(&line);
        printed.push('\n');
        // The welcome message ends with an empty line.
        if line.is_empty() && printed.contains("guardian") {
            break;
        }
    }
    let demo = reqwest::get(format!("http://127.0.0.1:{port}/demo")).await;
    child.kill().ok();
    child.wait().ok();
    assert!(
        printed.contains(&format!("http://127.0.0.1:{port}/demo")),
        "{printed}"
    );
    assert!(
        printed.contains("l.martin01") && printed.contains("c.martin02"),
        "{printed}"
    );
    // The back-office's demo staff, with their password and where the code is shown.
    for staff in &educonnect::demo::DEMO_STAFF {
        assert!(printed.contains(staff.login), "{}: {printed}", staff.login);
    }
    assert!(
        printed.contains(educonnect::demo::DEMO_STAFF_PASSWORD)
            && printed.contains(&format!("http://127.0.0.1:{port}/gestion")),
        "{printed}"
    );
    assert!(
        dir.path().join("data/educonnect.db").exists(),
        "SQLite under data/"
    );
    assert!(
        dir.path().join("keys/kek").exists(),
        "key-encryption key under keys/"
    );
    // The simulated FranceConnect, on the next port.
    assert!(
        printed.contains(&format!("http://127.0.0.1:{}/api/v2", port + 1))
            && printed.contains("Claire Martin"),
        "{printed}"
    );
    let demo = demo.expect("the demo page answers");
    assert_eq!(demo.status(), 200);
    assert!(demo
        .text()
        .await
        .unwrap()
        .contains("Se connecter avec EduConnect"));
}

#[test]
fn notify_writes_one_letter_per_guardian_of_the_establishment_with_their_temporary_password() {
    let dir = tempfile::tempdir().unwrap();
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/siecle");
    let (code, _, stderr) = run(educonnect(dir.path()).args(["import", "siecle"]).arg(&demo));
    assert_eq!(code, 0, "{stderr}");
    let pdf = dir.path().join("lettres.pdf");
    let (code, stdout, stderr) = run(educonnect(dir.path())
        .args([
            "notify",
            "--uai",
            "0699990J",
            "--profile",
            "guardian",
            "--pdf",
        ])
        .arg(&pdf));
    assert_eq!(code, 0, "{stderr}");
    // « 7 compte(s) notifié(s), dont 7 avec un mot de passe provisoire : … »
    let count: usize = stdout.split_whitespace().next().unwrap().parse().unwrap();
    assert!(count > 0, "{stdout}");
    let info = Command::new("pdfinfo")
        .arg(&pdf)
        .output()
        .expect("pdfinfo (poppler-utils) runs");
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    assert!(
        info.contains(&format!("Pages:           {count}")),
        "{info}"
    );
    let text = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs");
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert_eq!(text.matches("Mot de passe provisoire").count(), count);
    assert!(
        text.contains("c.martin02") && text.contains("Clément"),
        "{text}"
    );
    // An unknown login is refused, nothing written.
    let (code, _, stderr) = run(educonnect(dir.path())
        .args([
            "notify",
            "--uai",
            "0699990J",
            "--profile",
            "guardian",
            "--login",
            "x.nobody01",
            "--pdf",
        ])
        .arg(dir.path().join("none.pdf")));
    assert_eq!(code, 1);
    assert!(stderr.contains("x.nobody01"), "{stderr}");
    assert!(!dir.path().join("none.pdf").exists());
}

#[test]
fn notify_by_email_and_by_level_reports_what_it_did_and_the_identifiers_file_lists_each_account_once(
) {
    let dir = tempfile::tempdir().unwrap();
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/siecle");
    let (code, _, stderr) = run(educonnect(dir.path()).args(["import", "siecle"]).arg(&demo));
    assert_eq!(code, 0, "{stderr}");
    let notify = |extra: &[&str]| {
        run(educonnect(dir.path())
            .args(["notify", "--uai", "0699990J", "--profile", "guardian"])
            .args(extra))
    };
    // The bulk notice comes first (stderr), then what was queued and who has no address.
    let (code, stdout, stderr) = notify(&["--level", "5E", "--email"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("compte(s) de responsables seront notifiés"),
        "{stderr}"
    );
    assert!(stderr.contains("plusieurs courriers"), "{stderr}");
    assert!(stdout.contains("par courriel"), "{stdout}");
    assert!(stdout.contains("sans adresse électronique"), "{stdout}");
    // Keep and reset exclude each other; a carrier is required; a level must exist.
    let (code, _, _) = notify(&["--reset-password", "--keep-password", "--email"]);
    assert_eq!(code, 2);
    let (code, _, _) = notify(&[]);
    assert_eq!(code, 2);
    let (code, _, stderr) = notify(&["--level", "7E", "--email"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("niveau « 7E » inconnu"), "{stderr}");

    let csv = |name: &str| {
        let path = dir.path().join(name);
        let (code, _, stderr) = run(educonnect(dir.path())
            .args(["identifiers", "--uai", "0699990J", "--csv"])
            .arg(&path));
        assert_eq!(code, 0, "{stderr}");
        std::fs::read_to_string(path).unwrap()
    };
    let first = csv("first.csv");
    assert!(first.starts_with("\u{feff}Identifiant;Nom;Prénom;Classe;Profil;État\r\n"));
    assert!(
        first.contains("c.martin02;Martin;Claire;5B;Représentant légal;"),
        "{first}"
    );
    assert_eq!(csv("second.csv").lines().count(), 1, "only the header");
}

/// `educonnect staff …` on the embedded store of `dir`.
fn staff(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    run(educonnect(dir).arg("staff").args(args))
}

async fn cli_store(dir: &std::path::Path) -> SqlStore {
    SqlStore::connect(&format!("sqlite://{}", dir.join("cli.db").display()), 1)
        .await
        .unwrap()
}

const HEAD: [&str; 10] = [
    "--login",
    "M.Dupont",
    "--given-name",
    "Marie",
    "--family-name",
    "Dupont",
    "--email",
    "marie.dupont@ac-paris.fr",
    "--role",
    "head",
];

#[tokio::test]
async fn staff_add_prints_the_initial_password_once_and_stores_only_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = staff(
        dir.path(),
        &[&["add"], &HEAD[..], &["--uai", "0750001U"]].concat(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("m.dupont"), "{stdout}");
    assert!(stdout.contains("ne sera plus affiché"), "{stdout}");
    assert!(stdout.contains("/gestion"), "{stdout}");
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("mot de passe initial : "))
        .expect("the initial password is printed")
        .trim()
        .to_owned();
    assert!(password.len() >= 12, "{password}");
    let store = cli_store(dir.path()).await;
    let credentials = store.staff_credentials("m.dupont").await.unwrap().unwrap();
    assert!(credentials.password_hash.starts_with("$argon2id$"));
    assert!(!credentials.password_hash.contains(&password));
    let hasher = educonnect::accounts::password::PasswordHasher::new(
        &educonnect::config::Config::default().password,
    )
    .unwrap();
    let verified = hasher
        .verify(
            &educonnect::secrets::Secret::from_presented(&password),
            Some(&credentials.password_hash),
        )
        .await
        .unwrap();
    assert!(verified.ok, "the printed password is the one stored");
    assert_eq!(
        credentials.totp_sealed, None,
        "enrolled at the first sign-in"
    );
    let roles = store.roles_of(&credentials.staff.id).await.unwrap();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].granted_by, "cli");
    // In the audit trail, as done by the CLI, never with the password.
    let events = store
        .events(&AuditQuery {
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let mut actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    actions.sort_unstable();
    assert_eq!(actions, ["staff.created", "staff.role_granted"]);
    assert!(events.iter().all(|e| e.actor == "cli"));
    assert!(!format!("{events:?}").contains(&password));
    // The same login again is refused, in French, and nothing more is written.
    let (code, stdout, stderr) = staff(
        dir.path(),
        &[&["add"], &HEAD[..], &["--uai", "0750002V"]].concat(),
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("déjà pris"), "{stderr}");
    assert!(!stdout.contains("mot de passe"), "{stdout}");
    assert_eq!(store.staff_list(10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn staff_add_refuses_a_role_without_its_scope_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let refused = [
        (vec!["head"], "--uai"),
        (vec!["head", "--academy", "Lyon"], "--uai"),
        (vec!["assistance"], "--academy"),
        (
            vec!["assistance", "--academy", "Atlantide"],
            "académie inconnue",
        ),
        (vec!["operator", "--uai", "0750001U"], "national"),
        (
            vec!["delegate", "--uai", "0750001U"],
            "chef d'établissement",
        ),
        (vec!["rector"], "rôle inconnu"),
    ];
    for (role, expected) in refused {
        let mut args = vec!["add"];
        args.extend(&HEAD[..9]);
        args.extend(role.iter().copied());
        let (code, _, stderr) = staff(dir.path(), &args);
        assert_ne!(code, 0, "{role:?}");
        assert!(stderr.contains(expected), "{role:?}: {stderr}");
    }
    let mut bad_email = HEAD.to_vec();
    bad_email[7] = "pas-une-adresse";
    let (code, _, stderr) = staff(
        dir.path(),
        &[&["add"], &bad_email[..], &["--uai", "0750001U"]].concat(),
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("adresse électronique invalide"), "{stderr}");
    let store = cli_store(dir.path()).await;
    assert!(
        store.staff_list(10).await.unwrap().is_empty(),
        "nothing written"
    );
}

#[tokio::test]
async fn the_operator_grants_lists_disables_enables_and_resets_the_second_factor() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = staff(
        dir.path(),
        &[&["add"], &HEAD[..], &["--uai", "0750001U"]].concat(),
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = staff(
        dir.path(),
        &[
            "grant",
            "--login",
            "m.dupont",
            "--role",
            "assistance",
            "--academy",
            "Lyon",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Lyon"), "{stdout}");
    let (code, _, stderr) = staff(
        dir.path(),
        &["grant", "--login", "personne", "--role", "operator"],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("aucun personnel"), "{stderr}");
    let line = |stdout: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with("m.dupont"))
            .unwrap_or_else(|| panic!("m.dupont listed: {stdout}"))
            .to_owned()
    };
    let (_, stdout, _) = staff(dir.path(), &["list"]);
    let listed = line(&stdout);
    for expected in [
        "Marie Dupont",
        "marie.dupont@ac-paris.fr",
        "actif",
        "à enrôler",
        "0750001U",
        "académie Lyon",
    ] {
        assert!(listed.contains(expected), "{expected}: {listed}");
    }
    let (code, _, stderr) = staff(dir.path(), &["disable", "--login", "m.dupont"]);
    assert_eq!(code, 0, "{stderr}");
    let (_, stdout, _) = staff(dir.path(), &["list"]);
    assert!(line(&stdout).contains("désactivé"), "{stdout}");
    let (code, _, _) = staff(dir.path(), &["enable", "--login", "m.dupont"]);
    assert_eq!(code, 0);
    let (_, stdout, _) = staff(dir.path(), &["list"]);
    assert!(line(&stdout).contains(" actif "), "{stdout}");
    // Enrolled (as the first sign-in does), then reset: the next sign-in enrols again.
    let store = cli_store(dir.path()).await;
    let id = store
        .staff_credentials("m.dupont")
        .await
        .unwrap()
        .unwrap()
        .staff
        .id;
    assert!(store.enrol_staff_totp(&id, "sealed", 1).await.unwrap());
    let (_, stdout, _) = staff(dir.path(), &["list"]);
    assert!(line(&stdout).contains("enrôlée"), "{stdout}");
    let (code, _, stderr) = staff(dir.path(), &["reset-totp", "--login", "m.dupont"]);
    assert_eq!(code, 0, "{stderr}");
    let credentials = store.staff_credentials("m.dupont").await.unwrap().unwrap();
    assert_eq!(credentials.totp_sealed, None);
    let (_, stdout, _) = staff(dir.path(), &["list"]);
    assert!(line(&stdout).contains("à enrôler"), "{stdout}");
    let events = store
        .events(&AuditQuery {
            subject: Some(format!("staff:{id}")),
            limit: 20,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let mut actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "staff.created",
            "staff.disabled",
            "staff.enabled",
            "staff.role_granted",
            "staff.role_granted",
            "staff.second_factor_reset",
        ]
    );
}

#[test]
fn the_fake_franceconnect_refuses_a_production_database() {
    let dir = tempfile::tempdir().unwrap();
    // Refused before anything listens or connects.
    let (code, _, stderr) = run(educonnect(dir.path())
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
        .args(["fake-franceconnect", "--listen", "127.0.0.1:0"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("fake FranceConnect") && stderr.contains("PostgreSQL"),
        "{stderr}"
    );
}
