//! The account life cycle (`accounts::lifecycle`) on both durable stores (SQLite and
//! PostgreSQL): what changing a password or a state writes, and what it refuses. Each test is
//! named after the rule it proves.

#[path = "common/mod.rs"]
mod common;

use common::{isolated_config, Backend};
use educonnect::accounts::lifecycle::{
    activate_with_password, create_active_account, Author, HandMadeAccount, NewPassword,
    StateChangeError,
};
use educonnect::accounts::password::PasswordHasher;
use educonnect::accounts::sessions::Sessions;
use educonnect::accounts::{Account, AccountState, LoginId, Profile};
use educonnect::secrets::Secret;
use educonnect::store::sql::SqlStore;
use educonnect::store::{AccountStore, AuditQuery, AuditStore, DurableStore, InsertAccountError};

const NOW: i64 = 1_800_000_000_000;

/// The accounts whose sessions a change ended, as `lifecycle` asked (the OIDC side that does
/// the work is tested in tests/protocol).
#[derive(Default)]
struct Ended(std::sync::Mutex<Vec<String>>);

#[async_trait::async_trait]
impl Sessions for Ended {
    async fn end_all(&self, account_id: &str) -> anyhow::Result<()> {
        self.0
            .lock()
            .unwrap()
            .push(format!("sessions {account_id}"));
        Ok(())
    }
    async fn revoke_grants(&self, account_id: &str) -> anyhow::Result<()> {
        self.0.lock().unwrap().push(format!("grants {account_id}"));
        Ok(())
    }
}
const PASSWORD: &str = "Un-Mot-De-Passe-1";

/// A fresh migrated store of `backend`, and a cheap hasher.
async fn store(backend: Backend) -> (SqlStore, PasswordHasher, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = isolated_config(backend, dir.path()).await;
    let store = SqlStore::connect(&config.database_url, 4).await.unwrap();
    store.migrate().await.unwrap();
    (store, PasswordHasher::new(&config.password).unwrap(), dir)
}

/// An account as the import leaves it: no password, in `state`.
async fn imported(store: &SqlStore, login: &str, state: AccountState) -> Account {
    let login = LoginId::parse(login).unwrap();
    let mut account = Account::new(login, Profile::Guardian, "Chloé", "Durand", NOW);
    account.state = state;
    store.insert_account(&account).await.unwrap();
    account
}

fn password(typed: &str) -> NewPassword {
    NewPassword::parse(Secret::from_presented(typed)).unwrap()
}

async fn verifies(hasher: &PasswordHasher, account: &Account, typed: &str) -> bool {
    hasher
        .verify(
            &Secret::from_presented(typed),
            account.password_hash.as_deref(),
        )
        .await
        .unwrap()
        .ok
}

async fn activation_sets_the_password_and_makes_the_account_active(backend: Backend) {
    let (store, hasher, _dir) = store(backend).await;
    let account = imported(&store, "c.durand07", AccountState::Created).await;
    let ended = Ended::default();
    activate_with_password(
        &store,
        &hasher,
        &ended,
        by_cli(&store),
        &account,
        &password(PASSWORD),
        NOW + 1,
    )
    .await
    .unwrap();
    let stored = store.account(&account.id).await.unwrap().unwrap();
    assert_eq!(stored.state, AccountState::Active);
    assert!(verifies(&hasher, &stored, PASSWORD).await);
    // DESIGN.md: changing a password ends the account's sessions and refresh grants.
    assert_eq!(
        *ended.0.lock().unwrap(),
        [
            format!("sessions {}", account.id),
            format!("grants {}", account.id)
        ]
    );
    // Both changes are in the audit trail, in the author's name.
    let events = account_events(&store, &account.id).await;
    assert_eq!(
        events,
        [
            ("account.activated".to_owned(), "cli".to_owned()),
            ("account.password_changed".to_owned(), "cli".to_owned()),
        ]
    );
}

fn by_cli(store: &SqlStore) -> Author<'_> {
    Author {
        audit: store,
        actor: "cli",
        address: None,
    }
}

/// The account's audit events, newest first (action, actor).
async fn account_events(store: &SqlStore, account_id: &str) -> Vec<(String, String)> {
    let query = AuditQuery {
        subject: Some(format!("account:{account_id}")),
        limit: 10,
        ..AuditQuery::default()
    };
    let mut events = store.events(&query).await.unwrap();
    // Recorded within the same millisecond: ordered by action for a stable comparison.
    events.sort_by(|a, b| a.action.cmp(&b.action));
    events.into_iter().map(|e| (e.action, e.actor)).collect()
}

async fn a_disabled_account_is_not_activated_by_a_new_password(backend: Backend) {
    let (store, hasher, _dir) = store(backend).await;
    let account = imported(&store, "c.durand07", AccountState::Disabled).await;
    let ended = Ended::default();
    let refused = activate_with_password(
        &store,
        &hasher,
        &ended,
        by_cli(&store),
        &account,
        &password(PASSWORD),
        NOW + 1,
    )
    .await;
    assert!(
        matches!(&refused, Err(StateChangeError::Disabled { login }) if login == "c.durand07"),
        "{refused:?}"
    );
    let stored = store.account(&account.id).await.unwrap().unwrap();
    assert_eq!(stored, account, "nothing written");
    assert!(ended.0.lock().unwrap().is_empty(), "no session ended");
    assert!(account_events(&store, &account.id).await.is_empty());
}

async fn an_account_made_by_hand_is_active_at_once_and_its_login_stays_unique(backend: Backend) {
    let (store, hasher, _dir) = store(backend).await;
    let new = || HandMadeAccount {
        login: LoginId::parse("c.durand07").unwrap(),
        profile: Profile::Guardian,
        given_name: "Chloé".into(),
        family_name: "Durand".into(),
        email: Some("c.durand@example.invalid".into()),
    };
    let made = create_active_account(&store, &hasher, new(), &password(PASSWORD), NOW)
        .await
        .unwrap();
    let stored = store.account_by_login("c.durand07").await.unwrap().unwrap();
    assert_eq!(stored, made);
    assert_eq!(stored.state, AccountState::Active);
    assert!(verifies(&hasher, &stored, PASSWORD).await);
    let again =
        create_active_account(&store, &hasher, new(), &password("Un-Autre-Mot-2"), NOW).await;
    assert!(
        matches!(again, Err(InsertAccountError::LoginTaken(_))),
        "{again:?}"
    );
}

on_both_backends!(
    activation_sets_the_password_and_makes_the_account_active,
    a_disabled_account_is_not_activated_by_a_new_password,
    an_account_made_by_hand_is_active_at_once_and_its_login_stays_unique,
);
