//! The bulk writes of one establishment's import (`ImportTx::write`): the difference with the
//! snapshot, in a handful of statements whatever the number of rows, then the notice and the
//! history.

use sqlx::{Any, Transaction};

use super::batch::{with_rows, Val};
use crate::provisioning::model::Changes;

pub(super) async fn write(
    tx: &mut Transaction<'static, Any>,
    uai: &str,
    c: &Changes,
    now_ms: i64,
) -> anyhow::Result<()> {
    for (account_id, ine) in &c.ine_corrections {
        sqlx::query("UPDATE pupils SET ine = $1 WHERE account_id = $2")
            .bind(ine)
            .bind(account_id)
            .execute(&mut **tx)
            .await?;
    }
    with_rows(
        tx,
        "INSERT INTO pupils (ine, account_id, birth_date)",
        "ON CONFLICT (ine) DO UPDATE SET birth_date = excluded.birth_date",
        c.pupils
            .iter()
            .map(|p| {
                vec![
                    (&p.ine).into(),
                    (&p.account_id).into(),
                    (&p.birth_date).into(),
                ]
            })
            .collect(),
    )
    .await?;
    with_rows(
        tx,
        "UPDATE accounts SET given_name = v.c1, family_name = v.c2,
         email = COALESCE(v.c3, accounts.email), phone = COALESCE(v.c4, accounts.phone),
         profile = COALESCE(v.c5, accounts.profile), updated_at = v.c6
         FROM (",
        // Only accounts that change: a recognized guardian's account usually does not, and
        // an unchanged row is not rewritten (nor logged, nor its indexes touched).
        ") AS v WHERE accounts.id = v.c0 AND (accounts.given_name <> v.c1
             OR accounts.family_name <> v.c2
             OR (v.c3 IS NOT NULL AND accounts.email IS DISTINCT FROM v.c3)
             OR (v.c4 IS NOT NULL AND accounts.phone IS DISTINCT FROM v.c4)
             OR (v.c5 IS NOT NULL AND accounts.profile <> v.c5))",
        c.account_updates
            .iter()
            .map(|u| {
                vec![
                    (&u.id).into(),
                    (&u.given_name).into(),
                    (&u.family_name).into(),
                    (&u.email).into(),
                    (&u.phone).into(),
                    Val::Text(u.profile.map(|p| p.as_str().to_owned())),
                    now_ms.into(),
                ]
            })
            .collect(),
    )
    .await?;
    with_rows(
        tx,
        "DELETE FROM links WHERE (uai, eleve_id, personne_id) IN (",
        ")",
        c.links_deleted
            .iter()
            .map(|(eleve_id, personne_id)| vec![uai.into(), eleve_id.into(), personne_id.into()])
            .collect(),
    )
    .await?;
    with_rows(
        tx,
        "INSERT INTO enrolments (uai, eleve_id, account_id, division, entry_date, exit_date,
         digest, left_at, updated_at, mef)",
        "ON CONFLICT (uai, eleve_id) DO UPDATE SET account_id = excluded.account_id,
         division = excluded.division, mef = excluded.mef, entry_date = excluded.entry_date,
         exit_date = excluded.exit_date, digest = excluded.digest,
         left_at = excluded.left_at, updated_at = excluded.updated_at",
        c.enrolments
            .iter()
            .map(|e| {
                vec![
                    uai.into(),
                    (&e.eleve_id).into(),
                    (&e.account_id).into(),
                    (&e.division).into(),
                    (&e.entry_date).into(),
                    (&e.exit_date).into(),
                    (&e.digest).into(),
                    e.left_at.into(),
                    now_ms.into(),
                    (&e.mef).into(),
                ]
            })
            .collect(),
    )
    .await?;
    with_rows(
        tx,
        "UPDATE enrolments SET left_at = v.c2, updated_at = v.c2 FROM (",
        ") AS v WHERE enrolments.uai = v.c0 AND enrolments.eleve_id = v.c1 AND enrolments.left_at IS NULL",
        c.enrolments_left
            .iter()
            .map(|id| vec![uai.into(), id.into(), now_ms.into()])
            .collect(),
    )
    .await?;
    with_rows(
        tx,
        "INSERT INTO persons (uai, personne_id, account_id, civility, family_name, given_name,
         mobile, email, address, given_key, mobile_key, email_key, address_key, digest,
         left_at, updated_at)",
        "ON CONFLICT (uai, personne_id) DO UPDATE SET civility = excluded.civility,
         family_name = excluded.family_name, given_name = excluded.given_name,
         mobile = excluded.mobile, email = excluded.email, address = excluded.address,
         given_key = excluded.given_key, mobile_key = excluded.mobile_key,
         email_key = excluded.email_key, address_key = excluded.address_key,
         digest = excluded.digest, left_at = NULL, updated_at = excluded.updated_at",
        c.persons
            .iter()
            .map(|p| {
                vec![
                    uai.into(),
                    (&p.personne_id).into(),
                    (&p.account_id).into(),
                    (&p.civility).into(),
                    (&p.family_name).into(),
                    (&p.given_name).into(),
                    (&p.mobile).into(),
                    (&p.email).into(),
                    (&p.address).into(),
                    (&p.given_key).into(),
                    (&p.mobile_key).into(),
                    (&p.email_key).into(),
                    (&p.address_key).into(),
                    (&p.digest).into(),
                    Val::Int(None),
                    now_ms.into(),
                ]
            })
            .collect(),
    )
    .await?;
    with_rows(
        tx,
        "UPDATE persons SET left_at = v.c2, updated_at = v.c2 FROM (",
        ") AS v WHERE persons.uai = v.c0 AND persons.personne_id = v.c1 AND persons.left_at IS NULL",
        c.persons_left
            .iter()
            .map(|id| vec![uai.into(), id.into(), now_ms.into()])
            .collect(),
    )
    .await?;
    with_rows(
        tx,
        "INSERT INTO links (uai, eleve_id, personne_id, legal, relationship)",
        "ON CONFLICT (uai, eleve_id, personne_id) DO UPDATE SET legal = excluded.legal,
         relationship = excluded.relationship",
        c.links
            .iter()
            .map(|l| {
                vec![
                    uai.into(),
                    (&l.eleve_id).into(),
                    (&l.personne_id).into(),
                    l.state.legal.into(),
                    (&l.state.relationship).into(),
                ]
            })
            .collect(),
    )
    .await?;
    with_rows(
        tx,
        "INSERT INTO link_candidates (account_id, other_account_id, reason, created_at)",
        "ON CONFLICT (account_id, other_account_id) DO NOTHING",
        c.candidates
            .iter()
            .map(|k| {
                vec![
                    (&k.account_id).into(),
                    (&k.other_account_id).into(),
                    (&k.reason).into(),
                    now_ms.into(),
                ]
            })
            .collect(),
    )
    .await?;
    if let Some(notice) = &c.notice {
        sqlx::query(
            "INSERT INTO establishment_notices (id, uai, kind, message, created_at, link)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&notice.id)
        .bind(uai)
        .bind(&notice.kind)
        .bind(&notice.message)
        .bind(now_ms)
        .bind(&notice.link)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO imports (id, uai, source, export_date, report, imported_at)
         SELECT $1, $2, $3, last_export_date, $4, $5 FROM establishments WHERE uai = $6",
    )
    .bind(crate::secrets::random_b64(12))
    .bind(uai)
    .bind(&c.source)
    .bind(&c.report)
    .bind(now_ms)
    .bind(uai)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
