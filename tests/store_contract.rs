//! The storage contract: what the flows rely on from the durable store (PostgreSQL or SQLite) and
//! the ephemeral store (Redis or in-process), checked on the embedded pair (SQLite + in-process)
//! and on the production pair (PostgreSQL + Redis). Each test is named after the rule it proves.

#[path = "common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{isolated_config, registration, Backend};
use educonnect::accounts::{Account, AccountState, LoginId, Profile};
use educonnect::assistance::{
    AssistanceEvent, AssistanceRequest, Category, Concerned, OnBehalf, Status as RequestStatus,
};
use educonnect::audit::{Action, Event, Outcome};
use educonnect::clients::Client;
use educonnect::oidc::grants::{Grant, RefreshToken};
use educonnect::outbox::{Channel, Outgoing, Purpose, Status as MessageStatus};
use educonnect::secrets::random_b64;
use educonnect::siecle::Uai;
use educonnect::staff::{Role, RoleKind, RoleScope, Staff, StaffState};
use educonnect::store::ephemeral::{MemoryStore, RedisStore};
use educonnect::store::sql::SqlStore;
use educonnect::store::{
    AssistanceQuery, AuditQuery, ConnectedClient, DurableStore, EphemeralStore, InsertAccountError,
    InsertStaffError, Rotation, Taken, TieOutcome,
};
use educonnect::tokens::keys::StoredKey;
use educonnect::tokens::SigningAlg;

/// A fresh durable + ephemeral pair of one backend, migrated.
struct Stores {
    durable: Arc<dyn DurableStore>,
    ephemeral: Arc<dyn EphemeralStore>,
    _dir: tempfile::TempDir,
}

async fn stores(backend: Backend) -> Stores {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = isolated_config(backend, dir.path()).await;
    let durable = SqlStore::connect(&config.database_url, 16)
        .await
        .expect("durable store connects");
    durable.migrate().await.expect("migrations apply");
    let ephemeral: Arc<dyn EphemeralStore> = match backend {
        Backend::Embedded => Arc::new(MemoryStore::new()),
        Backend::Production => Arc::new(
            RedisStore::connect(&config.redis_url, &config.redis_prefix)
                .await
                .expect("Redis answers"),
        ),
    };
    Stores {
        durable: Arc::new(durable),
        ephemeral,
        _dir: dir,
    }
}

/// TTLs short enough to watch expire, long enough that a loaded machine reads them before.
const SHORT: Duration = Duration::from_millis(1_000);
const PAST_SHORT: Duration = Duration::from_millis(1_500);
const WINDOW: Duration = Duration::from_millis(2_000);

const NOW: i64 = 1_800_000_000_000;
const HOUR: i64 = 3_600_000;

fn account(login: &str) -> Account {
    let mut account = Account::new(
        LoginId::parse(login).unwrap(),
        Profile::Guardian,
        "Chloé",
        "N'Diaye",
        NOW,
    );
    account.state = AccountState::Active;
    account.phone = Some("+33600000000".into());
    account
}

fn grant(client_id: &str, sid: Option<&str>, offline: bool) -> Grant {
    Grant {
        id: random_b64(12),
        account_id: "acc".into(),
        client_id: client_id.into(),
        scope: "openid profile".into(),
        sid: sid.map(str::to_owned),
        offline,
        auth_time: NOW,
        acr: "eidas1".into(),
        amr: vec!["pwd".into()],
        created_at: NOW,
        expires_at: NOW + 24 * HOUR,
    }
}

fn token(grant: &Grant, parent: Option<&str>) -> RefreshToken {
    RefreshToken {
        digest: random_b64(32),
        grant_id: grant.id.clone(),
        parent_digest: parent.map(str::to_owned),
        created_at: NOW,
        expires_at: NOW + 24 * HOUR,
    }
}

/// A successor as the token endpoint builds it: the store fills in the grant id.
fn successor(parent: &str) -> RefreshToken {
    RefreshToken {
        digest: random_b64(32),
        grant_id: String::new(),
        parent_digest: Some(parent.to_owned()),
        created_at: NOW,
        expires_at: NOW + 24 * HOUR,
    }
}

on_both_backends!(
    migrations_apply_twice_without_change,
    ephemeral_values_expire_after_their_ttl,
    ephemeral_take_is_atomic_under_64_concurrent_callers,
    take_leaving_tombstone_tells_a_replay_from_an_unknown_key,
    put_if_absent_stores_only_the_first_value,
    counters_count_in_a_fixed_window,
    sets_accumulate_members_and_expire,
    clients_are_stored_replaced_listed_and_removed,
    account_logins_are_unique_and_found_normalized,
    password_hash_updates_are_kept,
    a_temporary_password_is_kept_with_its_expiry_until_a_chosen_one_replaces_it,
    email_updates_are_kept,
    refresh_rotation_consumes_the_token_once,
    refresh_token_of_another_client_is_invalid_and_left_untouched,
    refresh_reuse_is_reported_with_its_grant,
    refresh_within_grace_reissues_and_leaves_one_valid_child,
    expired_or_revoked_refresh_tokens_are_invalid,
    one_of_64_concurrent_rotations_wins,
    session_logout_revokes_only_online_grants_of_that_session,
    an_accounts_grants_are_revoked_together_offline_ones_included,
    signing_keys_are_stored_scheduled_and_deleted_once_retired,
    consents_are_replaced_per_account_and_client,
    a_consent_is_deleted_for_its_account_and_client_only,
    connected_clients_are_those_consented_to_or_holding_a_live_grant,
    a_clients_grants_are_revoked_for_one_account_only,
    purge_removes_only_what_is_over,
    staff_logins_are_unique_and_their_credentials_kept,
    a_second_factor_is_enrolled_once_until_reset,
    roles_stay_live_until_revoked_and_are_read_by_establishment_and_academy,
    audit_events_are_read_by_establishment_or_subject_newest_first_in_pages,
    the_last_event_is_the_latest_success_of_its_action,
    purging_audit_events_deletes_only_older_ones_in_batches,
    an_assistance_request_reads_back_whole_with_its_accounts_and_its_emails_queued,
    a_second_assistance_request_with_the_same_id_is_refused_and_writes_nothing,
    an_assistance_request_is_not_filed_when_its_emails_cannot_be_queued,
    assistance_events_are_read_oldest_first_and_only_for_their_request,
    assistance_requests_are_listed_newest_first_each_filter_applying_up_to_the_limit,
    an_assistance_status_change_from_the_current_status_is_recorded_with_its_emails,
    an_assistance_status_change_from_a_stale_status_is_refused_and_writes_nothing,
    an_assistance_event_on_an_unknown_request_is_refused_and_writes_nothing,
    an_assistance_event_is_not_recorded_when_its_emails_cannot_be_queued,
    one_of_concurrent_assistance_status_changes_from_the_same_status_wins,
    an_upstream_identity_opens_one_account_and_an_account_holds_one_per_upstream,
    an_untied_account_can_be_tied_again,
);

async fn migrations_apply_twice_without_change(backend: Backend) {
    let s = stores(backend).await;
    let (client, _) = Client::register(registration("ent-migr"), NOW).unwrap();
    s.durable.put_client(&client).await.unwrap();
    s.durable.migrate().await.expect("a second migration run");
    assert_eq!(s.durable.clients().await.unwrap(), vec![client]);
    s.durable.ping().await.expect("ping");
    s.ephemeral.ping().await.expect("ping");
}

async fn ephemeral_values_expire_after_their_ttl(backend: Backend) {
    let s = stores(backend).await;
    let e = &s.ephemeral;
    e.put("short", b"v", SHORT).await.unwrap();
    e.put("long", b"w", Duration::from_secs(60)).await.unwrap();
    assert_eq!(e.get("short").await.unwrap(), Some(b"v".to_vec()));
    assert!(e.exists("short").await.unwrap());
    tokio::time::sleep(PAST_SHORT).await;
    assert_eq!(e.get("short").await.unwrap(), None);
    assert!(!e.exists("short").await.unwrap());
    assert_eq!(e.take("short").await.unwrap(), None);
    assert_eq!(e.get("long").await.unwrap(), Some(b"w".to_vec()));
    e.delete("long").await.unwrap();
    assert_eq!(e.get("long").await.unwrap(), None);
    // Overwriting replaces the value and its TTL.
    e.put("k", b"1", SHORT).await.unwrap();
    e.put("k", b"2", Duration::from_secs(60)).await.unwrap();
    tokio::time::sleep(PAST_SHORT).await;
    assert_eq!(e.get("k").await.unwrap(), Some(b"2".to_vec()));
}

async fn ephemeral_take_is_atomic_under_64_concurrent_callers(backend: Backend) {
    let s = stores(backend).await;
    s.ephemeral
        .put("code:x", b"payload", Duration::from_secs(60))
        .await
        .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let e = s.ephemeral.clone();
        tasks.spawn(async move { e.take("code:x").await.unwrap() });
    }
    let won: Vec<_> = tasks.join_all().await.into_iter().flatten().collect();
    assert_eq!(won, vec![b"payload".to_vec()]);
}

async fn take_leaving_tombstone_tells_a_replay_from_an_unknown_key(backend: Backend) {
    let s = stores(backend).await;
    let e = s.ephemeral.clone();
    let ttl = Duration::from_secs(60);
    assert_eq!(
        e.take_leaving_tombstone("code:{a}", "code:{a}:used", b"grant-1", ttl)
            .await
            .unwrap(),
        Taken::Missing
    );
    e.put("code:{a}", b"payload", ttl).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let e = e.clone();
        tasks.spawn(async move {
            e.take_leaving_tombstone("code:{a}", "code:{a}:used", b"grant-1", ttl)
                .await
                .unwrap()
        });
    }
    let outcomes = tasks.join_all().await;
    let values = outcomes
        .iter()
        .filter(|t| **t == Taken::Value(b"payload".to_vec()))
        .count();
    let tombstones = outcomes
        .iter()
        .filter(|t| **t == Taken::Tombstone(b"grant-1".to_vec()))
        .count();
    assert_eq!((values, tombstones), (1, 63), "{outcomes:?}");
    assert_eq!(e.get("code:{a}").await.unwrap(), None);
    // The tombstone expires with its own TTL.
    e.put("code:{b}", b"p", ttl).await.unwrap();
    e.take_leaving_tombstone("code:{b}", "code:{b}:used", b"g", SHORT)
        .await
        .unwrap();
    tokio::time::sleep(PAST_SHORT).await;
    assert_eq!(
        e.take_leaving_tombstone("code:{b}", "code:{b}:used", b"g", ttl)
            .await
            .unwrap(),
        Taken::Missing
    );
}

async fn put_if_absent_stores_only_the_first_value(backend: Backend) {
    let s = stores(backend).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..64u8 {
        let e = s.ephemeral.clone();
        tasks.spawn(async move {
            e.put_if_absent("jti:1", &[i], Duration::from_secs(60))
                .await
                .unwrap()
                .then_some(i)
        });
    }
    let stored: Vec<u8> = tasks.join_all().await.into_iter().flatten().collect();
    assert_eq!(stored.len(), 1);
    assert_eq!(s.ephemeral.get("jti:1").await.unwrap(), Some(stored));
    // Once expired, the key can be stored again.
    assert!(s
        .ephemeral
        .put_if_absent("jti:2", b"a", SHORT)
        .await
        .unwrap());
    tokio::time::sleep(PAST_SHORT).await;
    assert!(s
        .ephemeral
        .put_if_absent("jti:2", b"b", Duration::from_secs(60))
        .await
        .unwrap());
}

async fn counters_count_in_a_fixed_window(backend: Backend) {
    let s = stores(backend).await;
    let e = s.ephemeral.clone();
    assert_eq!(e.counter("fails").await.unwrap(), 0);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let e = e.clone();
        tasks.spawn(async move { e.incr("fails", WINDOW).await.unwrap() });
    }
    let mut seen = tasks.join_all().await;
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=64).collect::<Vec<u64>>(),
        "each increment counted once"
    );
    assert_eq!(e.counter("fails").await.unwrap(), 64);
    // An attempt given back; a missing counter stays missing, none goes below zero.
    e.decr("fails").await.unwrap();
    assert_eq!(e.counter("fails").await.unwrap(), 63);
    assert_eq!(e.incr("fails", WINDOW).await.unwrap(), 64);
    e.decr("never-counted").await.unwrap();
    assert_eq!(e.counter("never-counted").await.unwrap(), 0);
    assert_eq!(e.incr("never-counted", WINDOW).await.unwrap(), 1);
    e.decr("never-counted").await.unwrap();
    e.decr("never-counted").await.unwrap();
    assert_eq!(e.incr("never-counted", WINDOW).await.unwrap(), 1);
    // Later increments do not extend the window: it ends WINDOW after the first one.
    tokio::time::sleep(WINDOW / 2).await;
    assert_eq!(e.incr("fails", WINDOW).await.unwrap(), 65);
    tokio::time::sleep(WINDOW / 2 + Duration::from_millis(300)).await;
    assert_eq!(e.counter("fails").await.unwrap(), 0);
    assert_eq!(e.incr("fails", Duration::from_secs(60)).await.unwrap(), 1);
}

async fn sets_accumulate_members_and_expire(backend: Backend) {
    let s = stores(backend).await;
    let e = &s.ephemeral;
    assert!(e.set_members("session:s:clients").await.unwrap().is_empty());
    for member in ["ent-a", "ent-b", "ent-a"] {
        e.set_add("session:s:clients", member, SHORT).await.unwrap();
    }
    let mut members = e.set_members("session:s:clients").await.unwrap();
    members.sort();
    assert_eq!(members, ["ent-a", "ent-b"]);
    tokio::time::sleep(PAST_SHORT).await;
    assert!(e.set_members("session:s:clients").await.unwrap().is_empty());
}

async fn clients_are_stored_replaced_listed_and_removed(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    assert_eq!(d.client("ent-a").await.unwrap(), None);
    let (a, _) = Client::register(registration("ent-a"), NOW).unwrap();
    let (b, _) = Client::register(registration("ent-b"), NOW).unwrap();
    d.put_client(&a).await.unwrap();
    d.put_client(&b).await.unwrap();
    assert_eq!(d.client("ent-a").await.unwrap(), Some(a.clone()));
    let mut changed = registration("ent-a");
    changed.name = "ENT Hauts-de-France".into();
    let (a2, _) = Client::register(changed, NOW).unwrap();
    d.put_client(&a2).await.unwrap();
    assert_eq!(d.client("ent-a").await.unwrap(), Some(a2.clone()));
    let mut ids: Vec<String> = d
        .clients()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["ent-a", "ent-b"]);
    assert!(d.delete_client("ent-a").await.unwrap());
    assert!(!d.delete_client("ent-a").await.unwrap());
    assert_eq!(d.client("ent-a").await.unwrap(), None);
    assert_eq!(d.clients().await.unwrap(), vec![b]);
}

async fn account_logins_are_unique_and_found_normalized(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let first = account("c.ndiaye01");
    d.insert_account(&first).await.unwrap();
    assert_eq!(d.account(&first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(
        d.account_by_login(LoginId::parse(" C.NDiaye01 ").unwrap().as_str())
            .await
            .unwrap(),
        Some(first.clone())
    );
    assert_eq!(d.account_by_login("c.ndiaye02").await.unwrap(), None);
    let duplicate = account("c.ndiaye01");
    match d.insert_account(&duplicate).await {
        Err(InsertAccountError::LoginTaken(login)) => assert_eq!(login, "c.ndiaye01"),
        other => panic!("expected LoginTaken, got {other:?}"),
    }
    assert_eq!(
        d.account(&duplicate.id).await.unwrap(),
        None,
        "nothing inserted"
    );
    // 16 concurrent inserts of one login: one account.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let d = d.clone();
        tasks.spawn(async move { d.insert_account(&account("m.durand07")).await.is_ok() });
    }
    let inserted = tasks.join_all().await.into_iter().filter(|ok| *ok).count();
    assert_eq!(inserted, 1);
}

async fn password_hash_updates_are_kept(backend: Backend) {
    let s = stores(backend).await;
    let a = account("l.martin01");
    s.durable.insert_account(&a).await.unwrap();
    s.durable
        .set_password_hash(&a.id, "$argon2id$v=19$new", NOW + 5)
        .await
        .unwrap();
    let stored = s.durable.account(&a.id).await.unwrap().unwrap();
    assert_eq!(stored.password_hash.as_deref(), Some("$argon2id$v=19$new"));
    assert_eq!(stored.updated_at, NOW + 5);
    assert_eq!(stored.given_name, "Chloé");
    assert_eq!(stored.family_name, "N'Diaye");
}

async fn a_temporary_password_is_kept_with_its_expiry_until_a_chosen_one_replaces_it(
    backend: Backend,
) {
    let s = stores(backend).await;
    let a = account("l.martin01");
    s.durable.insert_account(&a).await.unwrap();
    s.durable
        .set_temporary_password(&a.id, "$argon2id$v=19$temp", NOW + HOUR, NOW + 5, None)
        .await
        .unwrap();
    let expected = Account {
        password_hash: Some("$argon2id$v=19$temp".into()),
        password_expires_at: Some(NOW + HOUR),
        state: AccountState::Notified,
        updated_at: NOW + 5,
        ..a.clone()
    };
    assert_eq!(
        s.durable.account(&a.id).await.unwrap(),
        Some(expected.clone())
    );
    s.durable
        .set_password_hash(&a.id, "$argon2id$v=19$chosen", NOW + 6)
        .await
        .unwrap();
    let chosen = Account {
        password_hash: Some("$argon2id$v=19$chosen".into()),
        password_expires_at: None,
        updated_at: NOW + 6,
        ..expected
    };
    assert_eq!(s.durable.account(&a.id).await.unwrap(), Some(chosen));
}

async fn email_updates_are_kept(backend: Backend) {
    let s = stores(backend).await;
    let a = account("l.martin01");
    s.durable.insert_account(&a).await.unwrap();
    for (email, at) in [
        ("lea@demo.educonnect.invalid", NOW + 1),
        ("l.martin01@demo.educonnect.invalid", NOW + 5),
    ] {
        s.durable.set_email(&a.id, email, at).await.unwrap();
    }
    let expected = Account {
        email: Some("l.martin01@demo.educonnect.invalid".into()),
        updated_at: NOW + 5,
        ..a.clone()
    };
    assert_eq!(
        s.durable.account(&a.id).await.unwrap(),
        Some(expected),
        "the last one, nothing else"
    );
}

async fn refresh_rotation_consumes_the_token_once(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let g = grant("ent-a", Some("sid-1"), false);
    let first = token(&g, None);
    d.insert_grant(&g, &first).await.unwrap();
    assert_eq!(d.grant(&g.id).await.unwrap(), Some(g.clone()));
    let (active, of) = d
        .active_refresh_token(&first.digest, NOW)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((active, of), (first.clone(), g.clone()));

    let next = successor(&first.digest);
    let rotated = d
        .rotate_refresh_token("ent-a", &first.digest, &next, NOW + 1, 0)
        .await
        .unwrap();
    assert_eq!(rotated, Rotation::Rotated(g.clone()));
    assert_eq!(
        d.active_refresh_token(&first.digest, NOW + 1)
            .await
            .unwrap(),
        None
    );
    let (child, _) = d
        .active_refresh_token(&next.digest, NOW + 1)
        .await
        .unwrap()
        .expect("the successor is active");
    assert_eq!(
        child.grant_id, g.id,
        "the store binds the successor to the grant"
    );
    assert_eq!(child.parent_digest.as_deref(), Some(first.digest.as_str()));
}

async fn refresh_token_of_another_client_is_invalid_and_left_untouched(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let g = grant("ent-a", None, true);
    let first = token(&g, None);
    d.insert_grant(&g, &first).await.unwrap();
    let outcome = d
        .rotate_refresh_token("ent-b", &first.digest, &successor(&first.digest), NOW, 0)
        .await
        .unwrap();
    assert_eq!(outcome, Rotation::Invalid);
    // What a refresh request is validated against: only its own client finds the grant.
    assert_eq!(
        d.refresh_token_grant("ent-b", &first.digest).await.unwrap(),
        None
    );
    assert_eq!(
        d.refresh_token_grant("ent-a", &first.digest).await.unwrap(),
        Some(g.clone())
    );
    assert!(d
        .active_refresh_token(&first.digest, NOW)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        d.rotate_refresh_token("ent-a", &first.digest, &successor(&first.digest), NOW, 0)
            .await
            .unwrap(),
        Rotation::Rotated(g)
    );
    assert_eq!(
        d.rotate_refresh_token("ent-a", "unknown", &successor("unknown"), NOW, 0)
            .await
            .unwrap(),
        Rotation::Invalid
    );
}

async fn refresh_reuse_is_reported_with_its_grant(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let g = grant("ent-a", None, true);
    let first = token(&g, None);
    d.insert_grant(&g, &first).await.unwrap();
    let next = successor(&first.digest);
    d.rotate_refresh_token("ent-a", &first.digest, &next, NOW, 0)
        .await
        .unwrap();
    let again = d
        .rotate_refresh_token(
            "ent-a",
            &first.digest,
            &successor(&first.digest),
            NOW + 1,
            0,
        )
        .await
        .unwrap();
    assert_eq!(
        again,
        Rotation::Reused {
            grant_id: g.id.clone()
        }
    );
    // Revoking the grant (what the caller does on reuse) kills the whole chain.
    assert!(d.revoke_grant(&g.id, NOW + 2).await.unwrap());
    assert!(
        !d.revoke_grant(&g.id, NOW + 3).await.unwrap(),
        "already revoked"
    );
    assert_eq!(
        d.active_refresh_token(&next.digest, NOW + 2).await.unwrap(),
        None
    );
    assert_eq!(
        d.rotate_refresh_token("ent-a", &next.digest, &successor(&next.digest), NOW + 3, 0)
            .await
            .unwrap(),
        Rotation::Invalid
    );
}

async fn refresh_within_grace_reissues_and_leaves_one_valid_child(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let g = grant("ent-a", None, true);
    let first = token(&g, None);
    d.insert_grant(&g, &first).await.unwrap();
    let lost = successor(&first.digest);
    d.rotate_refresh_token("ent-a", &first.digest, &lost, NOW, 0)
        .await
        .unwrap();
    // The response carrying `lost` never arrived: the client retries within the grace window.
    let retry = successor(&first.digest);
    assert_eq!(
        d.rotate_refresh_token("ent-a", &first.digest, &retry, NOW + 1_000, 5_000)
            .await
            .unwrap(),
        Rotation::ReissuedWithinGrace(g.clone())
    );
    assert_eq!(
        d.active_refresh_token(&lost.digest, NOW + 1_000)
            .await
            .unwrap(),
        None
    );
    assert!(d
        .active_refresh_token(&retry.digest, NOW + 1_000)
        .await
        .unwrap()
        .is_some());
    // Once the child was used, presenting the parent again is reuse, grace or not.
    d.rotate_refresh_token(
        "ent-a",
        &retry.digest,
        &successor(&retry.digest),
        NOW + 2_000,
        5_000,
    )
    .await
    .unwrap();
    assert_eq!(
        d.rotate_refresh_token(
            "ent-a",
            &first.digest,
            &successor(&first.digest),
            NOW + 2_500,
            5_000
        )
        .await
        .unwrap(),
        Rotation::Reused {
            grant_id: g.id.clone()
        }
    );
    // After the window, a replay of a used token is reuse.
    let g2 = grant("ent-a", None, true);
    let t2 = token(&g2, None);
    d.insert_grant(&g2, &t2).await.unwrap();
    d.rotate_refresh_token("ent-a", &t2.digest, &successor(&t2.digest), NOW, 5_000)
        .await
        .unwrap();
    assert_eq!(
        d.rotate_refresh_token(
            "ent-a",
            &t2.digest,
            &successor(&t2.digest),
            NOW + 6_000,
            5_000
        )
        .await
        .unwrap(),
        Rotation::Reused { grant_id: g2.id }
    );
}

async fn expired_or_revoked_refresh_tokens_are_invalid(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let g = grant("ent-a", None, true);
    let first = token(&g, None);
    d.insert_grant(&g, &first).await.unwrap();
    let after_expiry = first.expires_at + 1;
    assert_eq!(
        d.active_refresh_token(&first.digest, after_expiry)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        d.rotate_refresh_token(
            "ent-a",
            &first.digest,
            &successor(&first.digest),
            after_expiry,
            0
        )
        .await
        .unwrap(),
        Rotation::Invalid
    );
    let revoked = grant("ent-a", None, true);
    let t = token(&revoked, None);
    d.insert_grant(&revoked, &t).await.unwrap();
    d.revoke_grant(&revoked.id, NOW).await.unwrap();
    assert_eq!(
        d.rotate_refresh_token("ent-a", &t.digest, &successor(&t.digest), NOW + 1, 0)
            .await
            .unwrap(),
        Rotation::Invalid
    );
}

async fn one_of_64_concurrent_rotations_wins(backend: Backend) {
    let s = stores(backend).await;
    let g = grant("ent-a", None, true);
    let first = token(&g, None);
    s.durable.insert_grant(&g, &first).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let d = s.durable.clone();
        let presented = first.digest.clone();
        tasks.spawn(async move {
            let next = successor(&presented);
            let outcome = d
                .rotate_refresh_token("ent-a", &presented, &next, NOW + 1, 0)
                .await
                .expect("no store error under contention");
            (outcome, next.digest)
        });
    }
    let outcomes = tasks.join_all().await;
    let winners: Vec<&String> = outcomes
        .iter()
        .filter(|(o, _)| matches!(o, Rotation::Rotated(_)))
        .map(|(_, d)| d)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "{:?}",
        outcomes.iter().map(|o| &o.0).collect::<Vec<_>>()
    );
    assert!(outcomes
        .iter()
        .all(|(o, _)| matches!(o, Rotation::Rotated(_) | Rotation::Reused { .. })));
    // Only the winner's successor exists.
    let mut active = 0;
    for (_, digest) in &outcomes {
        if s.durable
            .active_refresh_token(digest, NOW + 1)
            .await
            .unwrap()
            .is_some()
        {
            active += 1;
            assert_eq!(digest, winners[0]);
        }
    }
    assert_eq!(active, 1);
}

async fn session_logout_revokes_only_online_grants_of_that_session(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let online = grant("ent-a", Some("sid-1"), false);
    let offline = grant("ent-b", Some("sid-1"), true);
    let other_session = grant("ent-a", Some("sid-2"), false);
    let mut tokens = Vec::new();
    for g in [&online, &offline, &other_session] {
        let t = token(g, None);
        d.insert_grant(g, &t).await.unwrap();
        tokens.push(t);
    }
    let revoked = d.revoke_session_grants("sid-1", NOW + 1).await.unwrap();
    assert_eq!(revoked, vec![online.id.clone()]);
    assert_eq!(
        d.active_refresh_token(&tokens[0].digest, NOW + 1)
            .await
            .unwrap(),
        None
    );
    assert!(d
        .active_refresh_token(&tokens[1].digest, NOW + 1)
        .await
        .unwrap()
        .is_some());
    assert!(d
        .active_refresh_token(&tokens[2].digest, NOW + 1)
        .await
        .unwrap()
        .is_some());
    assert!(d
        .revoke_session_grants("sid-1", NOW + 2)
        .await
        .unwrap()
        .is_empty());
}

async fn an_accounts_grants_are_revoked_together_offline_ones_included(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let online = grant("ent-a", Some("sid-1"), false);
    let offline = grant("ent-b", None, true);
    let someone_else = Grant {
        account_id: "other".into(),
        ..grant("ent-a", Some("sid-2"), false)
    };
    let mut tokens = Vec::new();
    for g in [&online, &offline, &someone_else] {
        let t = token(g, None);
        d.insert_grant(g, &t).await.unwrap();
        tokens.push(t);
    }
    let mut revoked = d.revoke_account_grants("acc", NOW + 1).await.unwrap();
    revoked.sort();
    let mut expected = vec![online.id.clone(), offline.id.clone()];
    expected.sort();
    assert_eq!(revoked, expected);
    for t in &tokens[..2] {
        assert_eq!(
            d.active_refresh_token(&t.digest, NOW + 1).await.unwrap(),
            None
        );
    }
    assert!(d
        .active_refresh_token(&tokens[2].digest, NOW + 1)
        .await
        .unwrap()
        .is_some());
    assert!(d
        .revoke_account_grants("acc", NOW + 2)
        .await
        .unwrap()
        .is_empty());
}

fn stored_key(kid: &str, alg: SigningAlg, signing_from: i64) -> StoredKey {
    StoredKey {
        kid: kid.into(),
        alg,
        sealed_private_key: format!("sealed-{kid}"),
        public_jwk: format!(r#"{{"kid":"{kid}"}}"#),
        created_at: NOW,
        signing_from,
        retire_at: None,
    }
}

async fn signing_keys_are_stored_scheduled_and_deleted_once_retired(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let old = stored_key("k-old", SigningAlg::RS256, NOW);
    let new = stored_key("k-new", SigningAlg::RS256, NOW + HOUR);
    let ec = stored_key("k-ec", SigningAlg::ES256, NOW);
    for k in [&old, &new, &ec] {
        d.insert_key(k).await.unwrap();
    }
    let mut keys = d.keys().await.unwrap();
    keys.sort_by(|a, b| a.kid.cmp(&b.kid));
    assert_eq!(keys, vec![ec.clone(), new.clone(), old.clone()]);
    d.set_key_retire_at("k-old", NOW + 2 * HOUR).await.unwrap();
    assert_eq!(d.delete_retired_keys(NOW + HOUR).await.unwrap(), 0);
    assert_eq!(d.delete_retired_keys(NOW + 3 * HOUR).await.unwrap(), 1);
    let kids: Vec<String> = d.keys().await.unwrap().into_iter().map(|k| k.kid).collect();
    assert!(!kids.contains(&"k-old".to_owned()));
    assert_eq!(kids.len(), 2);
}

async fn a_consent_is_deleted_for_its_account_and_client_only(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let openid = vec!["openid".to_owned()];
    for (account, client) in [("acc", "ent-a"), ("acc", "ent-b"), ("other", "ent-a")] {
        d.put_consent(account, client, &openid, NOW).await.unwrap();
    }
    assert!(d.delete_consent("acc", "ent-a").await.unwrap());
    assert!(
        !d.delete_consent("acc", "ent-a").await.unwrap(),
        "already gone"
    );
    assert!(d.consented_scopes("acc", "ent-a").await.unwrap().is_empty());
    assert_eq!(d.consented_scopes("acc", "ent-b").await.unwrap(), openid);
    assert_eq!(d.consented_scopes("other", "ent-a").await.unwrap(), openid);
}

async fn connected_clients_are_those_consented_to_or_holding_a_live_grant(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let consented = vec!["openid".to_owned(), "email".to_owned()];
    d.put_consent("acc", "ent-a", &consented, NOW + 5)
        .await
        .unwrap();
    // ent-a also holds a grant, older than the consent: listed once, since the grant.
    let a = grant("ent-a", Some("sid-1"), false);
    // ent-b: a grant and no consent (a client that skips consent): its grant's scopes.
    let b = grant("ent-b", None, true);
    // ent-c: only a revoked grant; ent-d: only an expired one; neither is listed.
    let c = grant("ent-c", None, true);
    let dd = Grant {
        expires_at: NOW + 1,
        ..grant("ent-d", None, true)
    };
    let someone_else = Grant {
        account_id: "other".into(),
        ..grant("ent-e", None, true)
    };
    for g in [&a, &b, &c, &dd, &someone_else] {
        d.insert_grant(g, &token(g, None)).await.unwrap();
    }
    d.revoke_grant(&c.id, NOW + 2).await.unwrap();
    let listed = d.connected_clients("acc", NOW + 10).await.unwrap();
    assert_eq!(
        listed,
        vec![
            ConnectedClient {
                client_id: "ent-a".into(),
                scopes: consented.clone(),
                since_ms: NOW,
            },
            ConnectedClient {
                client_id: "ent-b".into(),
                scopes: vec!["openid".into(), "profile".into()],
                since_ms: NOW,
            },
        ]
    );
    assert!(d.connected_clients("nobody", NOW).await.unwrap().is_empty());
}

async fn a_clients_grants_are_revoked_for_one_account_only(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let online = grant("ent-a", Some("sid-1"), false);
    let offline = grant("ent-a", None, true);
    let other_client = grant("ent-b", None, true);
    let other_account = Grant {
        account_id: "other".into(),
        ..grant("ent-a", None, true)
    };
    let mut tokens = Vec::new();
    for g in [&online, &offline, &other_client, &other_account] {
        let t = token(g, None);
        d.insert_grant(g, &t).await.unwrap();
        tokens.push(t);
    }
    let mut revoked = d
        .revoke_client_grants("acc", "ent-a", NOW + 1)
        .await
        .unwrap();
    revoked.sort();
    let mut expected = vec![online.id.clone(), offline.id.clone()];
    expected.sort();
    assert_eq!(revoked, expected);
    for t in &tokens[..2] {
        assert_eq!(
            d.active_refresh_token(&t.digest, NOW + 1).await.unwrap(),
            None
        );
    }
    for t in &tokens[2..] {
        assert!(d
            .active_refresh_token(&t.digest, NOW + 1)
            .await
            .unwrap()
            .is_some());
    }
    assert!(d
        .revoke_client_grants("acc", "ent-a", NOW + 2)
        .await
        .unwrap()
        .is_empty());
}

async fn consents_are_replaced_per_account_and_client(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    assert!(d.consented_scopes("acc", "ent-a").await.unwrap().is_empty());
    let scopes = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    d.put_consent("acc", "ent-a", &scopes(&["openid", "profile"]), NOW)
        .await
        .unwrap();
    d.put_consent("acc", "ent-b", &scopes(&["openid"]), NOW)
        .await
        .unwrap();
    d.put_consent(
        "acc",
        "ent-a",
        &scopes(&["openid", "offline_access"]),
        NOW + 1,
    )
    .await
    .unwrap();
    let mut a = d.consented_scopes("acc", "ent-a").await.unwrap();
    a.sort();
    assert_eq!(a, ["offline_access", "openid"]);
    assert_eq!(
        d.consented_scopes("acc", "ent-b").await.unwrap(),
        ["openid"]
    );
    assert!(d
        .consented_scopes("other", "ent-a")
        .await
        .unwrap()
        .is_empty());
}

async fn purge_removes_only_what_is_over(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let live = grant("ent-a", None, true);
    let live_token = token(&live, None);
    d.insert_grant(&live, &live_token).await.unwrap();
    let mut expired = grant("ent-a", None, true);
    expired.expires_at = NOW - 1;
    d.insert_grant(&expired, &token(&expired, None))
        .await
        .unwrap();
    let revoked = grant("ent-a", None, true);
    d.insert_grant(&revoked, &token(&revoked, None))
        .await
        .unwrap();
    d.revoke_grant(&revoked.id, NOW - 10).await.unwrap();
    // A used token of the live grant, older than the retention of used tokens.
    let next = successor(&live_token.digest);
    d.rotate_refresh_token("ent-a", &live_token.digest, &next, NOW - 2 * HOUR, 0)
        .await
        .unwrap();
    let purged = d.purge(NOW, NOW - HOUR, 1).await.unwrap();
    assert!(!purged.skipped);
    assert_eq!(purged.grants, 2, "{purged:?}");
    assert!(purged.refresh_tokens >= 1, "{purged:?}");
    assert_eq!(d.grant(&expired.id).await.unwrap(), None);
    assert_eq!(d.grant(&revoked.id).await.unwrap(), None);
    assert_eq!(d.grant(&live.id).await.unwrap(), Some(live.clone()));
    assert!(d
        .active_refresh_token(&next.digest, NOW)
        .await
        .unwrap()
        .is_some());
    // A second pass has nothing left.
    let again = d.purge(NOW, NOW - HOUR, 100).await.unwrap();
    assert_eq!((again.grants, again.keys), (0, 0));
}

fn staff_member(login: &str, family_name: &str) -> Staff {
    Staff {
        id: random_b64(12),
        login: login.into(),
        given_name: "Agnès".into(),
        family_name: family_name.into(),
        email: format!("{login}@ac-lyon.fr"),
        state: StaffState::Active,
        totp_enrolled_at: None,
        created_at: NOW,
    }
}

fn role(staff: &Staff, kind: RoleKind, scope: RoleScope, granted_at: i64) -> Role {
    Role {
        id: random_b64(12),
        staff_id: staff.id.clone(),
        kind,
        scope,
        pupils: kind == RoleKind::Delegate,
        guardians: false,
        ends_at: None,
        granted_by: "cli".into(),
        granted_at,
        revoked_at: None,
    }
}

fn at_establishment(uai: &str) -> RoleScope {
    RoleScope::Establishment(Uai::parse(uai).unwrap())
}

async fn staff_logins_are_unique_and_their_credentials_kept(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let first = staff_member("a.roux", "Roux");
    d.insert_staff(&first, "$argon2id$first").await.unwrap();
    assert_eq!(d.staff(&first.id).await.unwrap(), Some(first.clone()));
    let credentials = d.staff_credentials("a.roux").await.unwrap().unwrap();
    assert_eq!(credentials.staff, first);
    assert_eq!(credentials.password_hash, "$argon2id$first");
    assert_eq!(credentials.totp_sealed, None);
    let duplicate = staff_member("a.roux", "Autre");
    match d.insert_staff(&duplicate, "$argon2id$other").await {
        Err(InsertStaffError::LoginTaken(login)) => assert_eq!(login, "a.roux"),
        other => panic!("expected LoginTaken, got {other:?}"),
    }
    assert_eq!(
        d.staff(&duplicate.id).await.unwrap(),
        None,
        "nothing inserted"
    );
    assert_eq!(
        d.staff_credentials("a.roux")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "$argon2id$first",
        "the first one untouched"
    );
    let second = staff_member("b.blanc", "Blanc");
    d.insert_staff(&second, "$argon2id$second").await.unwrap();
    let listed: Vec<String> = d
        .staff_list(10)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.login)
        .collect();
    assert_eq!(listed, ["b.blanc", "a.roux"], "by family name");
    assert_eq!(d.staff_list(1).await.unwrap().len(), 1, "at most the limit");
    d.set_staff_password(&first.id, "$argon2id$new", NOW + 1)
        .await
        .unwrap();
    d.set_staff_state(&first.id, StaffState::Disabled, NOW + 1)
        .await
        .unwrap();
    let changed = d.staff_credentials("a.roux").await.unwrap().unwrap();
    assert_eq!(changed.password_hash, "$argon2id$new");
    assert_eq!(changed.staff.state, StaffState::Disabled);
    assert!(d.staff_credentials("c.inconnu").await.unwrap().is_none());
}

async fn a_second_factor_is_enrolled_once_until_reset(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let staff = staff_member("a.roux", "Roux");
    d.insert_staff(&staff, "$argon2id$x").await.unwrap();
    assert!(d
        .enrol_staff_totp(&staff.id, "sealed-1", NOW + 1)
        .await
        .unwrap());
    // A second enrolment (another browser, an attacker with the password) changes nothing.
    assert!(!d
        .enrol_staff_totp(&staff.id, "sealed-2", NOW + 2)
        .await
        .unwrap());
    let enrolled = d.staff_credentials("a.roux").await.unwrap().unwrap();
    assert_eq!(enrolled.totp_sealed.as_deref(), Some("sealed-1"));
    assert_eq!(enrolled.staff.totp_enrolled_at, Some(NOW + 1));
    d.reset_staff_totp(&staff.id, NOW + 3).await.unwrap();
    let reset = d.staff_credentials("a.roux").await.unwrap().unwrap();
    assert_eq!(
        (reset.totp_sealed, reset.staff.totp_enrolled_at),
        (None, None)
    );
    assert!(d
        .enrol_staff_totp(&staff.id, "sealed-3", NOW + 4)
        .await
        .unwrap());
    assert_eq!(
        d.staff(&staff.id).await.unwrap().unwrap().totp_enrolled_at,
        Some(NOW + 4)
    );
}

async fn roles_stay_live_until_revoked_and_are_read_by_establishment_and_academy(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let head = staff_member("h.chef", "Chef");
    let secretary = staff_member("s.secr", "Secr");
    let agent = staff_member("r.agent", "Agent");
    for staff in [&head, &secretary, &agent] {
        d.insert_staff(staff, "$argon2id$x").await.unwrap();
    }
    let heads = role(&head, RoleKind::Head, at_establishment("0699990J"), NOW);
    let deputy_elsewhere = role(
        &head,
        RoleKind::Deputy,
        at_establishment("0699991K"),
        NOW + 1,
    );
    let mut delegation = role(
        &secretary,
        RoleKind::Delegate,
        at_establishment("0699990J"),
        NOW,
    );
    delegation.ends_at = Some(NOW + HOUR);
    let assistance = role(
        &agent,
        RoleKind::Assistance,
        RoleScope::Academy("Lyon"),
        NOW,
    );
    let operator = role(&agent, RoleKind::Operator, RoleScope::National, NOW + 2);
    for role in [
        &heads,
        &deputy_elsewhere,
        &delegation,
        &assistance,
        &operator,
    ] {
        d.insert_role(role).await.unwrap();
    }
    // Inserted twice (a retry): one role.
    d.insert_role(&heads).await.unwrap();
    assert_eq!(
        d.role(&delegation.id).await.unwrap(),
        Some(delegation.clone())
    );
    assert_eq!(
        d.roles_of(&head.id).await.unwrap(),
        [deputy_elsewhere.clone(), heads.clone()],
        "newest first"
    );
    assert_eq!(
        d.roles_of(&agent.id).await.unwrap(),
        [operator.clone(), assistance.clone()]
    );
    let at_college = d.roles_at("0699990J").await.unwrap();
    assert_eq!(
        at_college,
        [
            (heads.clone(), head.clone()),
            (delegation.clone(), secretary.clone())
        ],
        "by family name"
    );
    assert_eq!(
        d.staff_of_academy("Lyon", RoleKind::Assistance)
            .await
            .unwrap(),
        std::slice::from_ref(&agent)
    );
    assert!(d
        .staff_of_academy("Lyon", RoleKind::Operator)
        .await
        .unwrap()
        .is_empty());
    assert!(d
        .staff_of_academy("Grenoble", RoleKind::Assistance)
        .await
        .unwrap()
        .is_empty());
    // Revoked once: kept, with its date, and no longer read as in force.
    assert!(d.revoke_role(&delegation.id, NOW + 5).await.unwrap());
    assert!(
        !d.revoke_role(&delegation.id, NOW + 6).await.unwrap(),
        "revoked already"
    );
    assert!(!d.revoke_role("no-such-role", NOW + 6).await.unwrap());
    let revoked = d.role(&delegation.id).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(NOW + 5));
    assert!(!revoked.live(NOW + 5));
    assert_eq!(
        d.roles_at("0699990J").await.unwrap(),
        [(heads.clone(), head.clone())]
    );
    assert!(d.revoke_role(&assistance.id, NOW + 5).await.unwrap());
    assert!(d
        .staff_of_academy("Lyon", RoleKind::Assistance)
        .await
        .unwrap()
        .is_empty());
}

fn event(at: i64, action: Action, outcome: Outcome, uai: Option<&str>, subject: &str) -> Event {
    let mut event = Event::new("cli", action, outcome, at)
        .on(subject)
        .from_address(Some("192.0.2.7"))
        .detail("pupils");
    if let Some(uai) = uai {
        event = event.at_establishment(uai);
    }
    event
}

fn query(uai: Option<&str>, subject: Option<&str>, before: Option<i64>, limit: i64) -> AuditQuery {
    AuditQuery {
        uai: uai.map(str::to_owned),
        subject: subject.map(str::to_owned),
        before,
        limit,
    }
}

async fn audit_events_are_read_by_establishment_or_subject_newest_first_in_pages(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let ok = Outcome::Ok;
    let events = [
        event(
            NOW,
            Action::AccountNotified,
            ok,
            Some("0699990J"),
            "account:a",
        ),
        event(
            NOW + 1,
            Action::AccountNotified,
            ok,
            Some("0699990J"),
            "account:b",
        ),
        event(
            NOW + 2,
            Action::AccountNotified,
            ok,
            Some("0699991K"),
            "account:a",
        ),
        event(NOW + 3, Action::AccountSignIn, ok, None, "account:a"),
        event(
            NOW + 4,
            Action::DelegationGranted,
            ok,
            Some("0699990J"),
            "staff:s",
        ),
    ];
    for e in &events {
        d.record_event(e).await.unwrap();
    }
    // Recorded twice (a retry): once.
    d.record_event(&events[0]).await.unwrap();
    let ids = |found: Vec<Event>| found.into_iter().map(|e| e.id).collect::<Vec<_>>();
    let all = d.events(&query(None, None, None, 100)).await.unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all[0], events[4], "every field kept");
    let first_page = d
        .events(&query(Some("0699990J"), None, None, 2))
        .await
        .unwrap();
    assert_eq!(
        ids(first_page.clone()),
        [events[4].id.clone(), events[1].id.clone()]
    );
    let next_page = d
        .events(&query(Some("0699990J"), None, Some(first_page[1].at), 2))
        .await
        .unwrap();
    assert_eq!(ids(next_page), [events[0].id.clone()], "strictly before");
    let account_a = d
        .events(&query(None, Some("account:a"), None, 10))
        .await
        .unwrap();
    assert_eq!(
        ids(account_a),
        [
            events[3].id.clone(),
            events[2].id.clone(),
            events[0].id.clone()
        ]
    );
    let both = d
        .events(&query(Some("0699990J"), Some("account:a"), None, 10))
        .await
        .unwrap();
    assert_eq!(ids(both), [events[0].id.clone()]);
    assert!(d
        .events(&query(Some("0750001U"), None, None, 10))
        .await
        .unwrap()
        .is_empty());
}

async fn the_last_event_is_the_latest_success_of_its_action(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let sign_in = Action::AccountSignIn;
    assert_eq!(
        d.last_event("account:a", sign_in.as_str()).await.unwrap(),
        None
    );
    for e in [
        event(NOW, sign_in, Outcome::Ok, None, "account:a"),
        event(NOW + 10, sign_in, Outcome::Ok, None, "account:a"),
        event(NOW + 20, sign_in, Outcome::Failed, None, "account:a"),
        event(
            NOW + 30,
            Action::AccountPasswordChanged,
            Outcome::Ok,
            None,
            "account:a",
        ),
        event(NOW + 40, sign_in, Outcome::Ok, None, "account:b"),
    ] {
        d.record_event(&e).await.unwrap();
    }
    assert_eq!(
        d.last_event("account:a", sign_in.as_str()).await.unwrap(),
        Some(NOW + 10)
    );
    assert_eq!(
        d.last_event("account:b", sign_in.as_str()).await.unwrap(),
        Some(NOW + 40)
    );
}

async fn purging_audit_events_deletes_only_older_ones_in_batches(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let mut kept = Vec::new();
    for i in 0..7 {
        let e = event(
            NOW + i,
            Action::AccountSignIn,
            Outcome::Ok,
            None,
            "account:a",
        );
        d.record_event(&e).await.unwrap();
        if i >= 5 {
            kept.push(e.id);
        }
    }
    // Batches of 2 over 5 old events: three rounds, all of them.
    assert_eq!(d.purge_events(NOW + 5, 2).await.unwrap(), 5);
    let mut left: Vec<String> = d
        .events(&query(None, None, None, 100))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    left.sort();
    kept.sort();
    assert_eq!(left, kept);
    assert_eq!(d.purge_events(NOW + 5, 2).await.unwrap(), 0);
}

fn concerned(login: &str, given_name: &str, family_name: &str, profile: Profile) -> Concerned {
    Concerned {
        account_id: random_b64(12),
        login: login.into(),
        given_name: given_name.into(),
        family_name: family_name.into(),
        profile,
    }
}

/// An open request filed at `created_at` by an administration token, about `accounts`.
fn assistance_request(
    uai: &str,
    academy: &str,
    created_at: i64,
    accounts: Vec<Concerned>,
) -> AssistanceRequest {
    AssistanceRequest {
        id: format!("DA-{}", random_b64(9)),
        uai: uai.into(),
        academy: academy.into(),
        category: Category::CannotLink,
        description: "L'enfant n'apparaît pas sur le compte de sa mère.".into(),
        status: RequestStatus::Open,
        accounts,
        filed_by: None,
        filed_by_label: "admin-token:ab12".into(),
        on_behalf: None,
        created_at,
        updated_at: created_at,
    }
}

/// An e-mail as the store queues it: the store keeps its sealed body as given.
fn assistance_email(to: &str, purpose: Purpose, at: i64) -> Outgoing {
    Outgoing {
        id: random_b64(12),
        channel: Channel::Email,
        recipient: to.into(),
        subject: "Demande d'assistance".into(),
        purpose,
        account_id: None,
        sealed_body: random_b64(48),
        created_at: at,
    }
}

/// An event at `at` by the académie's assistance: `body`, and the change of status `change`.
fn assistance_event(
    request: &AssistanceRequest,
    at: i64,
    change: Option<(RequestStatus, RequestStatus)>,
    body: Option<&str>,
) -> AssistanceEvent {
    AssistanceEvent {
        id: random_b64(12),
        request_id: request.id.clone(),
        at,
        author: "staff:a.roux".into(),
        author_name: "Agnès Roux".into(),
        by_assistance: true,
        body: body.map(str::to_owned),
        previous_status: change.map(|(from, _)| from),
        status: change.map(|(_, to)| to),
    }
}

/// The ids of every queued message, sorted.
async fn queued_ids(d: &Arc<dyn DurableStore>) -> Vec<String> {
    let mut ids: Vec<String> = d
        .recent_messages(1000)
        .await
        .unwrap()
        .into_iter()
        .map(|q| q.message.id)
        .collect();
    ids.sort();
    ids
}

async fn an_assistance_request_reads_back_whole_with_its_accounts_and_its_emails_queued(
    backend: Backend,
) {
    let s = stores(backend).await;
    let d = &s.durable;
    let filer = staff_member("a.roux", "Roux");
    d.insert_staff(&filer, "$argon2id$x").await.unwrap();
    // Every field given, every profile concerned (in the order the store reads them: by name).
    let mut request = assistance_request(
        "0699990J",
        "Lyon",
        NOW,
        vec![
            concerned("lea.bernard", "Léa", "Bernard", Profile::Pupil),
            concerned("chloe.ndiaye", "Chloé", "N'Diaye", Profile::Guardian),
            concerned("marc.petit", "Marc", "Petit", Profile::PersonInCharge),
        ],
    );
    request.category = Category::AccountMissing;
    request.filed_by = Some(filer.id.clone());
    request.filed_by_label = "staff:a.roux".into();
    request.on_behalf = Some(OnBehalf {
        name: "Mme N'Diaye".into(),
        contact: "06 12 34 56 78".into(),
    });
    request.updated_at = NOW + 5;
    let emails = [
        assistance_email("agent.un@ac-lyon.fr", Purpose::AssistanceFiled, NOW),
        assistance_email("agent.deux@ac-lyon.fr", Purpose::AssistanceFiled, NOW),
    ];
    assert!(d.insert_assistance(&request, &emails).await.unwrap());
    assert_eq!(
        d.assistance(&request.id).await.unwrap(),
        Some(request.clone())
    );
    for email in &emails {
        let queued = d.message(&email.id).await.unwrap().expect("queued with it");
        assert_eq!(queued.message, *email);
        assert_eq!(queued.status, MessageStatus::Pending);
    }
    assert!(d.assistance_events(&request.id).await.unwrap().is_empty());
    // The fewest fields: no staff member, nobody on whose behalf, no account, no e-mail.
    for (i, category) in Category::ALL.into_iter().enumerate() {
        let mut bare = assistance_request("0699990J", "Lyon", NOW + 1 + i as i64, Vec::new());
        bare.category = category;
        assert!(d.insert_assistance(&bare, &[]).await.unwrap());
        assert_eq!(d.assistance(&bare.id).await.unwrap(), Some(bare));
    }
    let mut sent: Vec<String> = emails.iter().map(|e| e.id.clone()).collect();
    sent.sort();
    assert_eq!(queued_ids(d).await, sent);
    assert_eq!(d.assistance("DA-INCONNU").await.unwrap(), None);
}

async fn a_second_assistance_request_with_the_same_id_is_refused_and_writes_nothing(
    backend: Backend,
) {
    let s = stores(backend).await;
    let d = &s.durable;
    let pupil = concerned("lea.bernard", "Léa", "Bernard", Profile::Pupil);
    let first = assistance_request("0699990J", "Lyon", NOW, vec![pupil]);
    let told_first = assistance_email("agent@ac-lyon.fr", Purpose::AssistanceFiled, NOW);
    assert!(d
        .insert_assistance(&first, std::slice::from_ref(&told_first))
        .await
        .unwrap());
    let guardian = concerned("chloe.ndiaye", "Chloé", "N'Diaye", Profile::Guardian);
    let mut second = assistance_request("0750001U", "Paris", NOW + 1, vec![guardian]);
    second.id = first.id.clone();
    second.description = "Une autre demande, le même numéro tiré.".into();
    let told_second = assistance_email("agent@ac-paris.fr", Purpose::AssistanceFiled, NOW + 1);
    assert!(!d
        .insert_assistance(&second, std::slice::from_ref(&told_second))
        .await
        .unwrap());
    assert_eq!(
        d.assistance(&first.id).await.unwrap(),
        Some(first.clone()),
        "the first one untouched, its accounts alone"
    );
    assert_eq!(d.message(&told_second.id).await.unwrap(), None);
    assert_eq!(queued_ids(d).await, vec![told_first.id.clone()]);
    // The caller draws another number: nothing of the refused attempt is in its way.
    second.id = format!("{}-2", first.id);
    assert!(d
        .insert_assistance(&second, std::slice::from_ref(&told_second))
        .await
        .unwrap());
    assert_eq!(d.assistance(&second.id).await.unwrap(), Some(second));
    assert!(d.message(&told_second.id).await.unwrap().is_some());
}

async fn an_assistance_request_is_not_filed_when_its_emails_cannot_be_queued(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let taken = assistance_email("agent@ac-lyon.fr", Purpose::AssistanceFiled, NOW);
    d.enqueue(&taken).await.unwrap();
    let pupil = concerned("lea.bernard", "Léa", "Bernard", Profile::Pupil);
    let request = assistance_request("0699990J", "Lyon", NOW, vec![pupil]);
    let fresh = assistance_email("autre.agent@ac-lyon.fr", Purpose::AssistanceFiled, NOW);
    // The second e-mail's id is already queued: it fails after the request and the first
    // e-mail were written, and takes them with it.
    assert!(d
        .insert_assistance(&request, &[fresh.clone(), taken.clone()])
        .await
        .is_err());
    assert_eq!(d.assistance(&request.id).await.unwrap(), None);
    assert_eq!(d.message(&fresh.id).await.unwrap(), None);
    assert_eq!(queued_ids(d).await, vec![taken.id.clone()]);
    // Nothing half-written (no account concerned left behind) stands in the way of filing it.
    assert!(d
        .insert_assistance(&request, std::slice::from_ref(&fresh))
        .await
        .unwrap());
    assert_eq!(d.assistance(&request.id).await.unwrap(), Some(request));
}

async fn assistance_events_are_read_oldest_first_and_only_for_their_request(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let request = assistance_request("0699990J", "Lyon", NOW, Vec::new());
    let other = assistance_request("0699990J", "Lyon", NOW, Vec::new());
    for r in [&request, &other] {
        assert!(d.insert_assistance(r, &[]).await.unwrap());
    }
    use RequestStatus::{Closed, InProgress, Open};
    let mut comment = assistance_event(&request, NOW + 10, None, Some("Nous cherchons."));
    comment.author = "staff:b.blanc".into();
    comment.author_name = "Bruno Blanc".into();
    comment.by_assistance = false;
    let mut taken = assistance_event(&request, NOW + 20, Some((Open, InProgress)), None);
    let mut closed = assistance_event(
        &request,
        NOW + 30,
        Some((InProgress, Closed)),
        Some("Rattachement fait."),
    );
    // Neither the order of writing (taken, closed, comment) nor that of the ids (closed,
    // comment, taken) is the order of time (comment, taken, closed).
    closed.id = "ev-a".into();
    comment.id = "ev-b".into();
    taken.id = "ev-c".into();
    for e in [&taken, &closed, &comment] {
        assert!(d.add_assistance_event(e, &[]).await.unwrap());
    }
    let elsewhere = assistance_event(&other, NOW + 15, None, Some("Autre demande."));
    assert!(d.add_assistance_event(&elsewhere, &[]).await.unwrap());
    assert_eq!(
        d.assistance_events(&request.id).await.unwrap(),
        [comment, taken, closed],
        "oldest first, every field kept"
    );
    assert_eq!(d.assistance_events(&other.id).await.unwrap(), [elsewhere]);
    assert!(d.assistance_events("DA-INCONNU").await.unwrap().is_empty());
}

fn assistance_query(
    uai: Option<&str>,
    academy: Option<&str>,
    status: Option<RequestStatus>,
    limit: i64,
) -> AssistanceQuery {
    AssistanceQuery {
        uai: uai.map(str::to_owned),
        academy: academy.map(str::to_owned),
        status,
        limit,
    }
}

async fn assistance_requests_are_listed_newest_first_each_filter_applying_up_to_the_limit(
    backend: Backend,
) {
    let s = stores(backend).await;
    let d = &s.durable;
    let filed = |id: &str, uai: &str, academy: &str, created_at: i64, login: &str| {
        let account = concerned(login, "Léa", login, Profile::Pupil);
        let mut r = assistance_request(uai, academy, created_at, vec![account]);
        r.id = id.into();
        r
    };
    // Neither the ids' order nor the order of writing is that of filing.
    let r0 = filed("DA-B", "0699990J", "Lyon", NOW, "r0");
    let mut r1 = filed("DA-D", "0699990J", "Lyon", NOW + 1, "r1");
    let r2 = filed("DA-A", "0699991K", "Lyon", NOW + 2, "r2");
    let r3 = filed("DA-C", "0750001U", "Paris", NOW + 3, "r3");
    for r in [&r1, &r3, &r0, &r2] {
        assert!(d.insert_assistance(r, &[]).await.unwrap());
    }
    let taken = assistance_event(
        &r1,
        NOW + 10,
        Some((RequestStatus::Open, RequestStatus::InProgress)),
        None,
    );
    assert!(d.add_assistance_event(&taken, &[]).await.unwrap());
    r1.status = RequestStatus::InProgress;
    r1.updated_at = NOW + 10;
    assert_eq!(
        d.assistance_requests(&assistance_query(None, None, None, 100))
            .await
            .unwrap(),
        [r3.clone(), r2.clone(), r1.clone(), r0.clone()],
        "newest first, each with its own accounts and its current status"
    );
    let listed = |query: AssistanceQuery| async move {
        d.assistance_requests(&query)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
    };
    use RequestStatus::{Closed, InProgress, Open};
    let cases: [(AssistanceQuery, &[&AssistanceRequest]); 11] = [
        (
            assistance_query(Some("0699990J"), None, None, 100),
            &[&r1, &r0],
        ),
        (
            assistance_query(None, Some("Lyon"), None, 100),
            &[&r2, &r1, &r0],
        ),
        (
            assistance_query(None, None, Some(Open), 100),
            &[&r3, &r2, &r0],
        ),
        (assistance_query(None, None, Some(InProgress), 100), &[&r1]),
        (assistance_query(None, None, Some(Closed), 100), &[]),
        (
            assistance_query(None, Some("Lyon"), Some(Open), 100),
            &[&r2, &r0],
        ),
        (
            assistance_query(Some("0699990J"), None, Some(Open), 100),
            &[&r0],
        ),
        (
            assistance_query(Some("0699990J"), Some("Paris"), None, 100),
            &[],
        ),
        (assistance_query(None, Some("Créteil"), None, 100), &[]),
        (assistance_query(None, None, None, 2), &[&r3, &r2]),
        (assistance_query(None, Some("Lyon"), None, 1), &[&r2]),
    ];
    for (query, expected) in cases {
        let expected: Vec<String> = expected.iter().map(|r| r.id.clone()).collect();
        let described = format!("{query:?}");
        assert_eq!(listed(query).await, expected, "{described}");
    }
}

async fn an_assistance_status_change_from_the_current_status_is_recorded_with_its_emails(
    backend: Backend,
) {
    let s = stores(backend).await;
    let d = &s.durable;
    use RequestStatus::{Closed, InProgress, Open};
    let pupil = concerned("lea.bernard", "Léa", "Bernard", Profile::Pupil);
    let mut expected = assistance_request("0699990J", "Lyon", NOW, vec![pupil]);
    assert!(d.insert_assistance(&expected, &[]).await.unwrap());
    let taken = assistance_event(
        &expected,
        NOW + HOUR,
        Some((Open, InProgress)),
        Some("Pris en charge."),
    );
    let told = assistance_email(
        "direction@0699990j.fr",
        Purpose::AssistanceUpdate,
        NOW + HOUR,
    );
    assert!(d
        .add_assistance_event(&taken, std::slice::from_ref(&told))
        .await
        .unwrap());
    expected.status = InProgress;
    expected.updated_at = NOW + HOUR;
    assert_eq!(
        d.assistance(&expected.id).await.unwrap(),
        Some(expected.clone()),
        "its status and updated_at changed, nothing else"
    );
    assert_eq!(
        d.message(&told.id).await.unwrap().map(|q| q.message),
        Some(told)
    );
    // A comment alone needs no status to compare with: it leaves the status, moves updated_at.
    let mut comment = assistance_event(&expected, NOW + 2 * HOUR, None, Some("Merci."));
    comment.by_assistance = false;
    assert!(d.add_assistance_event(&comment, &[]).await.unwrap());
    expected.updated_at = NOW + 2 * HOUR;
    assert_eq!(
        d.assistance(&expected.id).await.unwrap(),
        Some(expected.clone())
    );
    // Closed, then reopened: each from the status it leaves.
    let closed = assistance_event(&expected, NOW + 3 * HOUR, Some((InProgress, Closed)), None);
    let reopened = assistance_event(&expected, NOW + 4 * HOUR, Some((Closed, Open)), None);
    for e in [&closed, &reopened] {
        assert!(d.add_assistance_event(e, &[]).await.unwrap());
    }
    expected.status = Open;
    expected.updated_at = NOW + 4 * HOUR;
    assert_eq!(
        d.assistance(&expected.id).await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        d.assistance_events(&expected.id).await.unwrap(),
        [taken, comment, closed, reopened]
    );
}

async fn an_assistance_status_change_from_a_stale_status_is_refused_and_writes_nothing(
    backend: Backend,
) {
    let s = stores(backend).await;
    let d = &s.durable;
    use RequestStatus::{Closed, InProgress, Open};
    let mut expected = assistance_request("0699990J", "Lyon", NOW, Vec::new());
    assert!(d.insert_assistance(&expected, &[]).await.unwrap());
    let taken = assistance_event(&expected, NOW + HOUR, Some((Open, InProgress)), None);
    assert!(d.add_assistance_event(&taken, &[]).await.unwrap());
    expected.status = InProgress;
    expected.updated_at = NOW + HOUR;
    // Another agent, who read the request while it was open, closes it.
    let stale = assistance_event(
        &expected,
        NOW + 2 * HOUR,
        Some((Open, Closed)),
        Some("Réglé."),
    );
    let told = assistance_email("direction@0699990j.fr", Purpose::AssistanceUpdate, NOW);
    assert!(!d
        .add_assistance_event(&stale, std::slice::from_ref(&told))
        .await
        .unwrap());
    assert_eq!(
        d.assistance(&expected.id).await.unwrap(),
        Some(expected.clone()),
        "neither its status nor its updated_at changed"
    );
    assert_eq!(d.assistance_events(&expected.id).await.unwrap(), [taken]);
    assert_eq!(d.message(&told.id).await.unwrap(), None);
    assert!(queued_ids(d).await.is_empty());
}

async fn an_assistance_event_on_an_unknown_request_is_refused_and_writes_nothing(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let never_filed = assistance_request("0699990J", "Lyon", NOW, Vec::new());
    let told = assistance_email("direction@0699990j.fr", Purpose::AssistanceUpdate, NOW);
    let change = Some((RequestStatus::Open, RequestStatus::InProgress));
    for event in [
        assistance_event(&never_filed, NOW, None, Some("Bonjour.")),
        assistance_event(&never_filed, NOW, change, None),
    ] {
        // Refused as a stale change is, not failed (no foreign key error surfacing).
        assert!(
            !d.add_assistance_event(&event, std::slice::from_ref(&told))
                .await
                .unwrap(),
            "{event:?}"
        );
    }
    assert_eq!(d.assistance(&never_filed.id).await.unwrap(), None);
    assert!(d
        .assistance_events(&never_filed.id)
        .await
        .unwrap()
        .is_empty());
    assert!(queued_ids(d).await.is_empty());
}

async fn an_assistance_event_is_not_recorded_when_its_emails_cannot_be_queued(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let request = assistance_request("0699990J", "Lyon", NOW, Vec::new());
    assert!(d.insert_assistance(&request, &[]).await.unwrap());
    let taken = assistance_email("direction@0699990j.fr", Purpose::AssistanceUpdate, NOW);
    d.enqueue(&taken).await.unwrap();
    let event = assistance_event(
        &request,
        NOW + HOUR,
        Some((RequestStatus::Open, RequestStatus::InProgress)),
        Some("Pris en charge."),
    );
    let fresh = assistance_email("a.roux@ac-lyon.fr", Purpose::AssistanceUpdate, NOW + HOUR);
    // The second e-mail's id is already queued: it fails after the status, the event and the
    // first e-mail were written, and takes them with it.
    assert!(d
        .add_assistance_event(&event, &[fresh.clone(), taken.clone()])
        .await
        .is_err());
    assert_eq!(
        d.assistance(&request.id).await.unwrap(),
        Some(request.clone()),
        "still open, updated_at unchanged"
    );
    assert!(d.assistance_events(&request.id).await.unwrap().is_empty());
    assert_eq!(d.message(&fresh.id).await.unwrap(), None);
    // Nothing half-written stands in the way of the same change.
    assert!(d
        .add_assistance_event(&event, std::slice::from_ref(&fresh))
        .await
        .unwrap());
    let read = d.assistance(&request.id).await.unwrap().unwrap();
    assert_eq!(read.status, RequestStatus::InProgress);
}

async fn one_of_concurrent_assistance_status_changes_from_the_same_status_wins(backend: Backend) {
    let s = stores(backend).await;
    let request = assistance_request("0699990J", "Lyon", NOW, Vec::new());
    assert!(s.durable.insert_assistance(&request, &[]).await.unwrap());
    // Agents who all read the request open: half take it in hand, half close it.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let d = s.durable.clone();
        let to = if i % 2 == 0 {
            RequestStatus::InProgress
        } else {
            RequestStatus::Closed
        };
        let event = assistance_event(&request, NOW + 1 + i, Some((RequestStatus::Open, to)), None);
        let told = assistance_email("direction@0699990j.fr", Purpose::AssistanceUpdate, NOW);
        tasks.spawn(async move {
            let won = d
                .add_assistance_event(&event, std::slice::from_ref(&told))
                .await
                .expect("no store error under contention");
            (won, event, told)
        });
    }
    let outcomes = tasks.join_all().await;
    let winners: Vec<_> = outcomes.iter().filter(|(won, _, _)| *won).collect();
    assert_eq!(winners.len(), 1, "{} changes recorded", winners.len());
    let (_, event, told) = winners[0];
    let read = s.durable.assistance(&request.id).await.unwrap().unwrap();
    assert_eq!(
        (Some(read.status), read.updated_at),
        (event.status, event.at)
    );
    assert_eq!(
        s.durable.assistance_events(&request.id).await.unwrap(),
        vec![event.clone()]
    );
    assert_eq!(queued_ids(&s.durable).await, vec![told.id.clone()]);
}

const FC: &str = "https://oidc.franceconnect.example/api/v2";
const OTHER_UPSTREAM: &str = "https://idp.example";

async fn an_upstream_identity_opens_one_account_and_an_account_holds_one_per_upstream(
    backend: Backend,
) {
    let s = stores(backend).await;
    let d = &s.durable;
    let claire = account("c.martin02");
    let julien = account("j.martin01");
    d.insert_account(&claire).await.unwrap();
    d.insert_account(&julien).await.unwrap();
    assert_eq!(d.account_of_upstream(FC, "sub-claire").await.unwrap(), None);
    let tied = d
        .tie_upstream(FC, "sub-claire", &claire.id, NOW)
        .await
        .unwrap();
    assert_eq!(tied, TieOutcome::Tied);
    assert_eq!(
        d.account_of_upstream(FC, "sub-claire").await.unwrap(),
        Some(claire.id.clone())
    );
    // Tying twice changes nothing.
    let again = d
        .tie_upstream(FC, "sub-claire", &claire.id, NOW)
        .await
        .unwrap();
    assert_eq!(again, TieOutcome::Tied);
    // The identity cannot open a second account.
    let elsewhere = d
        .tie_upstream(FC, "sub-claire", &julien.id, NOW)
        .await
        .unwrap();
    assert_eq!(
        elsewhere,
        TieOutcome::IdentityTiedElsewhere {
            account_id: claire.id.clone()
        }
    );
    // The account cannot hold a second identity of the same upstream...
    let second = d
        .tie_upstream(FC, "sub-other", &claire.id, NOW)
        .await
        .unwrap();
    assert_eq!(second, TieOutcome::AccountTiedToAnother);
    assert_eq!(d.account_of_upstream(FC, "sub-other").await.unwrap(), None);
    // ...but one of another upstream, and the same subject string upstream elsewhere is
    // another person.
    let other = d
        .tie_upstream(OTHER_UPSTREAM, "sub-claire", &julien.id, NOW)
        .await
        .unwrap();
    assert_eq!(other, TieOutcome::Tied);
    assert_eq!(
        d.account_of_upstream(OTHER_UPSTREAM, "sub-claire")
            .await
            .unwrap(),
        Some(julien.id.clone())
    );
    assert_eq!(
        d.upstream_of_account(&claire.id, FC)
            .await
            .unwrap()
            .as_deref(),
        Some("sub-claire")
    );
    assert_eq!(d.upstream_of_account(&julien.id, FC).await.unwrap(), None);
}

async fn an_untied_account_can_be_tied_again(backend: Backend) {
    let s = stores(backend).await;
    let d = &s.durable;
    let claire = account("c.martin02");
    let julien = account("j.martin01");
    d.insert_account(&claire).await.unwrap();
    d.insert_account(&julien).await.unwrap();
    d.tie_upstream(FC, "sub-claire", &claire.id, NOW)
        .await
        .unwrap();
    assert!(
        !d.untie_upstream(&julien.id, FC).await.unwrap(),
        "nothing to undo"
    );
    assert!(d.untie_upstream(&claire.id, FC).await.unwrap());
    assert_eq!(d.account_of_upstream(FC, "sub-claire").await.unwrap(), None);
    assert!(
        !d.untie_upstream(&claire.id, FC).await.unwrap(),
        "already undone"
    );
    // The identity is free again, for the right account.
    let tied = d
        .tie_upstream(FC, "sub-claire", &julien.id, NOW)
        .await
        .unwrap();
    assert_eq!(tied, TieOutcome::Tied);
}
