//! The establishment operations called directly, on both backends, by an actor whose scope is
//! one establishment: each family of operations (upload; the establishment, its name, notices
//! and history; linking candidates; attachment codes) is allowed inside the establishment and
//! refused outside it, with nothing written.

use crate::admin::files;
use crate::common::{siecle_generated, siecle_sample_dirs, siecle_samples, Backend, TestOp};
use crate::on_both_backends;
use educonnect::accounts::linking::LinkCandidate;
use educonnect::accounts::{AccountState, Profile};
use educonnect::establishments::{self, Actor, OperationError, Resolver, Scope, UploadedFiles};
use educonnect::provisioning::Outcome;
use educonnect::siecle::{Export, Ine, Uai};

on_both_backends!(
    an_establishment_actor_uploads_only_its_own_exports,
    an_establishment_actor_reads_names_and_marks_only_its_own_establishment,
    an_establishment_actor_resolves_only_candidates_of_its_guardians,
    an_establishment_actor_issues_codes_only_for_pupils_enrolled_there,
);

fn actor_of(uai: &Uai) -> Actor {
    Actor::new("test:head", Scope::Establishment(uai.clone()))
}

fn national() -> Actor {
    Actor::new("test:national", Scope::National)
}

fn out_of_scope<T>(result: Result<T, OperationError>) {
    match result {
        Err(OperationError::OutOfScope) => {}
        Err(other) => panic!("refused, but not as out of scope: {other:?}"),
        Ok(_) => panic!("allowed outside the actor's scope"),
    }
}

/// A provider with both sample establishments imported, and an actor of the first:
/// (provider, own, other, actor).
async fn two_samples(backend: Backend) -> (TestOp, Export, Export, Actor) {
    let op = TestOp::start(backend).await;
    let mut exports = op.import_siecle(&siecle_samples()).await;
    assert_eq!(exports.len(), 2);
    let other = exports.pop().unwrap();
    let own = exports.pop().unwrap();
    let actor = actor_of(&own.uai);
    (op, own, other, actor)
}

/// Uploads the sample export in `dir` as `actor`.
async fn upload(
    op: &TestOp,
    actor: &Actor,
    dir: &std::path::Path,
) -> Result<Outcome, OperationError> {
    let slot = op.app.uploads.admit().unwrap();
    let (pupils, guardians) = files(dir);
    let files = UploadedFiles { pupils, guardians };
    let now = op.app.now_ms();
    establishments::import_upload(actor, &slot, &*op.app.durable, files, false, now).await
}

async fn an_establishment_actor_uploads_only_its_own_exports(backend: Backend) {
    let op = TestOp::start(backend).await;
    let store = &*op.app.durable;
    let dirs = siecle_sample_dirs();
    let uai = |dir: &std::path::Path| Uai::parse(dir.file_name().unwrap().to_str().unwrap());
    let (own, other) = (uai(&dirs[0]).unwrap(), uai(&dirs[1]).unwrap());
    let actor = actor_of(&own);

    out_of_scope(upload(&op, &actor, &dirs[1]).await);
    assert!(
        store.establishment(other.as_str()).await.unwrap().is_none(),
        "nothing of the other establishment's export was written"
    );
    let imported = upload(&op, &actor, &dirs[0]).await.unwrap();
    assert!(matches!(imported, Outcome::Imported(ref r) if r.uai == own.as_str()));
    assert!(store.establishment(own.as_str()).await.unwrap().is_some());
}

async fn an_establishment_actor_reads_names_and_marks_only_its_own_establishment(backend: Backend) {
    let (op, own, other, actor) = two_samples(backend).await;
    let (store, now) = (&*op.app.durable, op.app.now_ms());

    // Inside: every operation answers.
    let shown = establishments::establishment(&actor, store, &own.uai)
        .await
        .unwrap();
    assert_eq!(shown.uai, own.uai.as_str());
    let named = establishments::name(&actor, store, &own.uai, "Collège Jean Moulin")
        .await
        .unwrap();
    assert_eq!(named.name.as_deref(), Some("Collège Jean Moulin"));
    let notices = establishments::notices(&actor, store, &own.uai)
        .await
        .unwrap();
    establishments::mark_notice_read(&actor, store, &own.uai, &notices[0].id, now)
        .await
        .unwrap();
    let history = establishments::imports(&actor, store, &own.uai)
        .await
        .unwrap();
    assert_eq!(history.len(), 1);

    // Outside: refused, even for what exists, and nothing changes.
    out_of_scope(establishments::establishment(&actor, store, &other.uai).await);
    out_of_scope(establishments::name(&actor, store, &other.uai, "Pris").await);
    out_of_scope(establishments::notices(&actor, store, &other.uai).await);
    out_of_scope(establishments::imports(&actor, store, &other.uai).await);
    let theirs = establishments::notices(&national(), store, &other.uai)
        .await
        .unwrap();
    out_of_scope(
        establishments::mark_notice_read(&actor, store, &other.uai, &theirs[0].id, now).await,
    );
    let theirs = establishments::notices(&national(), store, &other.uai)
        .await
        .unwrap();
    assert!(theirs[0].read_at.is_none(), "the other notice stays unread");
    let stored = store.establishment(other.uai.as_str()).await.unwrap();
    assert!(
        stored.unwrap().name.is_none(),
        "the other name is unchanged"
    );
}

/// Whether one of the candidate's accounts is recorded by the establishment.
async fn recorded_by(op: &TestOp, uai: &Uai, candidate: &LinkCandidate) -> bool {
    for account in [&candidate.account, &candidate.other] {
        let affiliations = op.app.durable.affiliations(&account.id).await.unwrap();
        if affiliations.records.iter().any(|r| r.uai == uai.as_str()) {
            return true;
        }
    }
    false
}

async fn an_establishment_actor_resolves_only_candidates_of_its_guardians(backend: Backend) {
    let op = TestOp::start(backend).await;
    let store = &*op.app.durable;
    let generated = siecle_generated(4, 150, 11);
    let exports = op.import_siecle(generated.path()).await;
    // The generated guardians' typos gather in some establishments: the one that lists the
    // most candidates resolves its own, the one that lists the fewest is refused the others.
    let mut listed_by = Vec::new();
    for export in &exports {
        let listed = establishments::candidates(&national(), store, &export.uai).await;
        listed_by.push((listed.unwrap(), &export.uai));
    }
    listed_by.sort_by_key(|(listed, _)| listed.len());
    let (quiet, busy) = (listed_by[0].1, listed_by[listed_by.len() - 1].1);
    let resolver = Resolver {
        directory: store,
        links: store,
        sessions: &op.app,
    };
    let now = op.app.now_ms();

    // Outside: neither listed, nor merged, nor declined; the candidates stay open.
    let actor = actor_of(quiet);
    establishments::candidates(&actor, store, quiet)
        .await
        .unwrap();
    out_of_scope(establishments::candidates(&actor, store, busy).await);
    let mut outside = Vec::new();
    for candidate in op.candidates(&exports).await {
        if !recorded_by(&op, quiet, &candidate).await {
            outside.push(candidate);
        }
    }
    assert!(
        outside.len() >= 2,
        "the fixtures hold misspelled guardians out of {quiet}: {outside:?}"
    );
    let (a, b) = (&outside[0].account.id, &outside[0].other.id);
    out_of_scope(establishments::merge(&actor, &resolver, a, b, now).await);
    out_of_scope(establishments::decline(&actor, &resolver, b, a, now).await);
    let (c, d) = (&outside[1].account.id, &outside[1].other.id);
    out_of_scope(establishments::decline(&actor, &resolver, c, d, now).await);
    for candidate in &outside[..2] {
        let open = store
            .candidates_of_account(&candidate.account.id)
            .await
            .unwrap();
        assert!(open.contains(candidate), "still open: {candidate:?}");
        let other = store.account(&candidate.other.id).await.unwrap().unwrap();
        assert_ne!(other.state, AccountState::Disabled);
    }

    // Inside: one merged, one declined.
    let actor = actor_of(busy);
    let listed = establishments::candidates(&actor, store, busy)
        .await
        .unwrap();
    assert!(listed.len() >= 2, "{busy} lists {listed:?}");
    let merged = &listed[0];
    let (keep, absorbed) = (&merged.account.id, &merged.other.id);
    establishments::merge(&actor, &resolver, keep, absorbed, now)
        .await
        .unwrap();
    let absorbed = store.account(absorbed).await.unwrap().unwrap();
    assert_eq!(absorbed.state, AccountState::Disabled);
    let pair = [&merged.account.id, &merged.other.id];
    let declined = listed
        .iter()
        .find(|c| !pair.contains(&&c.account.id) && !pair.contains(&&c.other.id))
        .expect("another candidate of the establishment");
    let (a, b) = (&declined.account.id, &declined.other.id);
    establishments::decline(&actor, &resolver, a, b, now)
        .await
        .unwrap();
    let open = store.candidates_of_account(a).await.unwrap();
    assert!(!open.contains(declined));
    // Once resolved, inside the scope, there is nothing left to resolve.
    let again = establishments::merge(&actor, &resolver, keep, &absorbed.id, now).await;
    assert!(
        matches!(again, Err(OperationError::NoOpenCandidate)),
        "{again:?}"
    );
}

async fn an_establishment_actor_issues_codes_only_for_pupils_enrolled_there(backend: Backend) {
    let (op, own, other, actor) = two_samples(backend).await;
    let (store, now) = (&*op.app.durable, op.app.now_ms());
    let code = |actor: Actor, ine: Ine| async move {
        establishments::attachment_code(&actor, store, store, store, &ine, now).await
    };

    let issued = code(actor.clone(), own.pupils[0].ine.clone())
        .await
        .unwrap();
    assert_eq!(issued.pupil.profile, Profile::Pupil);
    assert_eq!(issued.code.len(), 14);
    out_of_scope(code(actor.clone(), other.pupils[0].ine.clone()).await);
    // An INE no establishment recorded: to a scoped actor, the same answer as one enrolled
    // elsewhere; the national administration learns it does not exist.
    let unknown = Ine::parse("000000000AA").unwrap();
    out_of_scope(code(actor, unknown.clone()).await);
    let national = code(national(), unknown).await;
    assert!(matches!(national, Err(OperationError::UnknownPupil(_))));
}
