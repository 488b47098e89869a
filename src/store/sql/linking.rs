//! Linking by hand after the import: linking candidates (listed, merged or declined) and
//! children attached with proof (a password, or a single-use code).

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::SqlStore;
use crate::accounts::linking::model::DISPUTED_LINK_NOTICE;
use crate::accounts::linking::model::{
    AttachmentCode, CandidateAccount, CodeOutcome, LinkCandidate, Resolution, Resolved,
};
use crate::store::LinkingStore;

#[async_trait]
impl LinkingStore for SqlStore {
    async fn candidates_of_account(&self, account_id: &str) -> anyhow::Result<Vec<LinkCandidate>> {
        let sql = format!(
            "{CANDIDATES} AND (c.account_id = $1 OR c.other_account_id = $2)
             ORDER BY c.created_at, c.account_id"
        );
        let rows = self
            .retry(|| {
                sqlx::query(&sql)
                    .bind(account_id)
                    .bind(account_id)
                    .fetch_all(&self.pool)
            })
            .await?;
        // Seen from the account: it comes first.
        rows.iter()
            .map(candidate)
            .map(|c| {
                c.map(|c| {
                    if c.account.id == account_id {
                        c
                    } else {
                        LinkCandidate {
                            account: c.other,
                            other: c.account,
                            ..c
                        }
                    }
                })
            })
            .collect()
    }

    async fn candidates_of_establishment(
        &self,
        uai: &str,
    ) -> anyhow::Result<Option<Vec<LinkCandidate>>> {
        if !self.establishment_exists(uai).await? {
            return Ok(None);
        }
        let sql = format!(
            "{CANDIDATES} AND (c.account_id IN (SELECT account_id FROM persons WHERE uai = $1)
                 OR c.other_account_id IN (SELECT account_id FROM persons WHERE uai = $2))
             ORDER BY c.created_at, c.account_id"
        );
        let rows = self
            .retry(|| sqlx::query(&sql).bind(uai).bind(uai).fetch_all(&self.pool))
            .await?;
        Ok(Some(
            rows.iter().map(candidate).collect::<anyhow::Result<_>>()?,
        ))
    }

    async fn resolve_candidate(
        &self,
        account_id: &str,
        other_account_id: &str,
        resolution: Resolution<'_>,
        now_ms: i64,
    ) -> anyhow::Result<Resolved> {
        // Candidates are stored with the smaller id first.
        if let Resolution::Merge { keep } = resolution {
            anyhow::ensure!(
                keep == account_id || keep == other_account_id,
                "the account kept by a merge must be one of the pair"
            );
        }
        let (first, second) = if account_id < other_account_id {
            (account_id, other_account_id)
        } else {
            (other_account_id, account_id)
        };
        let mut tx = self.begin().await?;
        // Like an import: no import matches records against accounts being merged.
        sqlx::query("UPDATE import_lock SET held_at = held_at + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let label = match resolution {
            Resolution::Merge { .. } => "merged",
            Resolution::Reject => "rejected",
        };
        let closed = sqlx::query(
            "UPDATE link_candidates SET resolved_at = $1, resolution = $2
             WHERE account_id = $3 AND other_account_id = $4 AND resolved_at IS NULL",
        )
        .bind(now_ms)
        .bind(label)
        .bind(first)
        .bind(second)
        .execute(&mut *tx)
        .await?;
        if closed.rows_affected() == 0 {
            return Ok(Resolved::NotFound);
        }
        if let Resolution::Merge { keep } = resolution {
            let absorbed = if keep == first { second } else { first };
            merge(&mut tx, keep, absorbed, now_ms).await?;
        }
        tx.commit().await?;
        Ok(Resolved::Done)
    }

    async fn dispute_link(
        &self,
        guardian_id: &str,
        pupil_id: &str,
        message: &str,
        now_ms: i64,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let disputed = sqlx::query(
            "INSERT INTO disputed_links (guardian_id, pupil_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (guardian_id, pupil_id) DO NOTHING",
        )
        .bind(guardian_id)
        .bind(pupil_id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        if disputed.rows_affected() == 0 {
            return Ok(false);
        }
        let uais: Vec<String> = sqlx::query(
            "SELECT DISTINCT uai FROM enrolments WHERE account_id = $1 AND left_at IS NULL",
        )
        .bind(pupil_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| row.try_get("uai"))
        .collect::<Result<_, _>>()?;
        for uai in uais {
            sqlx::query(
                "INSERT INTO establishment_notices (id, uai, kind, message, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(crate::secrets::random_b64(12))
            .bind(&uai)
            .bind(DISPUTED_LINK_NOTICE)
            .bind(message)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn attach(
        &self,
        guardian_id: &str,
        pupil_id: &str,
        proof: &str,
        now_ms: i64,
    ) -> anyhow::Result<bool> {
        let done = sqlx::query(
            "INSERT INTO attachments (guardian_id, pupil_id, proof, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (guardian_id, pupil_id) DO NOTHING",
        )
        .bind(guardian_id)
        .bind(pupil_id)
        .bind(proof)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_attachment_code(&self, code: &AttachmentCode) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO attachment_codes (digest, pupil_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&code.digest)
        .bind(&code.pupil_id)
        .bind(code.created_at)
        .bind(code.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn attach_with_code(
        &self,
        digest: &str,
        guardian_id: &str,
        now_ms: i64,
    ) -> anyhow::Result<CodeOutcome> {
        let mut tx = self.begin().await?;
        // One statement spends the code: of two guardians racing on it, one gets the pupil.
        let pupil: Option<String> = sqlx::query(
            "UPDATE attachment_codes SET used_at = $1, used_by = $2
             WHERE digest = $3 AND used_at IS NULL AND expires_at > $4 RETURNING pupil_id",
        )
        .bind(now_ms)
        .bind(guardian_id)
        .bind(digest)
        .bind(now_ms)
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| row.try_get("pupil_id"))
        .transpose()?;
        let Some(pupil) = pupil else {
            return Ok(CodeOutcome::Invalid);
        };
        let attachable = sqlx::query(
            "SELECT 1 AS one FROM accounts WHERE id = $1 AND profile = 'pupil' AND state <> 'disabled'",
        )
        .bind(&pupil)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        if !attachable {
            return Ok(CodeOutcome::Invalid);
        }
        let inserted = sqlx::query(
            "INSERT INTO attachments (guardian_id, pupil_id, proof, created_at)
             VALUES ($1, $2, 'code', $3) ON CONFLICT (guardian_id, pupil_id) DO NOTHING",
        )
        .bind(guardian_id)
        .bind(&pupil)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            // Rolled back: the code stays usable.
            return Ok(CodeOutcome::AlreadyAttached);
        }
        tx.commit().await?;
        Ok(CodeOutcome::Attached(pupil))
    }
}

/// Open candidates with both accounts' names; the caller adds its condition.
const CANDIDATES: &str = "SELECT c.reason, c.created_at,
        a.id AS a_id, a.login AS a_login, a.given_name AS a_given, a.family_name AS a_family,
        b.id AS b_id, b.login AS b_login, b.given_name AS b_given, b.family_name AS b_family
    FROM link_candidates c
    JOIN accounts a ON a.id = c.account_id
    JOIN accounts b ON b.id = c.other_account_id
    WHERE c.resolved_at IS NULL";

fn candidate(row: &AnyRow) -> anyhow::Result<LinkCandidate> {
    let side = |p: &str| -> anyhow::Result<CandidateAccount> {
        Ok(CandidateAccount {
            id: row.try_get(format!("{p}_id").as_str())?,
            login: row.try_get(format!("{p}_login").as_str())?,
            given_name: row.try_get(format!("{p}_given").as_str())?,
            family_name: row.try_get(format!("{p}_family").as_str())?,
        })
    };
    Ok(LinkCandidate {
        account: side("a")?,
        other: side("b")?,
        reason: row.try_get("reason")?,
        created_at: row.try_get("created_at")?,
    })
}

/// `absorbed` becomes part of `keep`: its establishments' records, the children attached to it
/// and its FranceConnect identity move over, it is disabled and points to `keep`, its grants are revoked, and its other open
/// candidates are closed (they now concern `keep`, and the next import proposes them again if
/// they still hold).
async fn merge(
    tx: &mut Transaction<'static, Any>,
    keep: &str,
    absorbed: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    for sql in [
        "UPDATE persons SET account_id = $1 WHERE account_id = $2",
        "INSERT INTO attachments (guardian_id, pupil_id, proof, created_at)
         SELECT $1, pupil_id, proof, created_at FROM attachments WHERE guardian_id = $2
         ON CONFLICT (guardian_id, pupil_id) DO NOTHING",
        // What the absorbed account said is not its child is not the kept one's either.
        "INSERT INTO disputed_links (guardian_id, pupil_id, created_at, resolved_at)
         SELECT $1, pupil_id, created_at, resolved_at FROM disputed_links WHERE guardian_id = $2
         ON CONFLICT (guardian_id, pupil_id) DO NOTHING",
        // Its FranceConnect identity now opens the kept account, unless that one holds its own
        // identity of the same upstream (then the absorbed one's tie is dropped below).
        "UPDATE federated_identities SET account_id = $1
         WHERE account_id = $2
           AND issuer NOT IN (SELECT f.issuer FROM federated_identities f WHERE f.account_id = $1)",
    ] {
        sqlx::query(sql)
            .bind(keep)
            .bind(absorbed)
            .execute(&mut **tx)
            .await?;
    }
    for sql in [
        "DELETE FROM attachments WHERE guardian_id = $1",
        "DELETE FROM disputed_links WHERE guardian_id = $1",
        // Consents were given by the absorbed account: the kept one is asked again.
        "DELETE FROM consents WHERE account_id = $1",
        "DELETE FROM federated_identities WHERE account_id = $1",
    ] {
        sqlx::query(sql).bind(absorbed).execute(&mut **tx).await?;
    }
    // A legal guardian in one establishment's records is a guardian, whichever account stays.
    sqlx::query(
        "UPDATE accounts SET profile = 'guardian'
         WHERE id = $1 AND EXISTS (SELECT 1 FROM accounts WHERE id = $2 AND profile = 'guardian')",
    )
    .bind(keep)
    .bind(absorbed)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE accounts SET state = 'disabled', merged_into = $1, updated_at = $2 WHERE id = $3",
    )
    .bind(keep)
    .bind(now_ms)
    .bind(absorbed)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE link_candidates SET resolved_at = $1, resolution = 'superseded'
         WHERE (account_id = $2 OR other_account_id = $3) AND resolved_at IS NULL",
    )
    .bind(now_ms)
    .bind(absorbed)
    .bind(absorbed)
    .execute(&mut **tx)
    .await?;
    // Not indexed by account: merges are rare, grants many; a scan here spares every login
    // the upkeep of one more index.
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1
         WHERE revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE account_id = $2)",
    )
    .bind(now_ms)
    .bind(absorbed)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE grants SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL")
        .bind(now_ms)
        .bind(absorbed)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
