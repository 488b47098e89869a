//! The people an establishment notifies: its current pupils with their class, or the accounts
//! of its current guardian records with their children there (one target per account, however
//! many records or children it has), never a disabled account.

use std::collections::HashMap;

use sqlx::Row;

use super::accounts::{account_from, READ_COLUMNS};
use super::SqlStore;
use crate::accounts::Profile;
use crate::establishments::model::{
    CarrierKind, ChildInClass, NotificationRecord, NotificationTarget,
};

impl SqlStore {
    pub(super) async fn write_notification(&self, r: &NotificationRecord) -> anyhow::Result<()> {
        let ids = serde_json::to_string(&r.account_ids)?;
        self.retry_if_not_run(|| {
            sqlx::query(
                "INSERT INTO notifications (id, uai, actor, profile, reset, account_ids, created_at,
                                            carrier)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&r.id)
            .bind(&r.uai)
            .bind(&r.actor)
            .bind(r.profile.as_str())
            .bind(i64::from(r.reset))
            .bind(&ids)
            .bind(r.created_at)
            .bind(r.carrier.as_str())
            .execute(&self.pool)
        })
        .await?;
        Ok(())
    }

    pub(super) async fn read_notifications(
        &self,
        uai: &str,
    ) -> anyhow::Result<Vec<NotificationRecord>> {
        let rows = self
            .retry(|| {
                sqlx::query(
                    "SELECT id, uai, actor, profile, reset, account_ids, created_at, carrier
                     FROM notifications WHERE uai = $1 ORDER BY created_at DESC, id",
                )
                .bind(uai)
                .fetch_all(&self.pool)
            })
            .await?;
        rows.iter()
            .map(|row| {
                let profile: String = row.try_get("profile")?;
                let ids: String = row.try_get("account_ids")?;
                let carrier: String = row.try_get("carrier")?;
                Ok(NotificationRecord {
                    id: row.try_get("id")?,
                    uai: row.try_get("uai")?,
                    actor: row.try_get("actor")?,
                    profile: Profile::parse(&profile)
                        .ok_or_else(|| anyhow::anyhow!("unknown profile {profile}"))?,
                    reset: row.try_get::<i64, _>("reset")? != 0,
                    carrier: CarrierKind::parse(&carrier)
                        .ok_or_else(|| anyhow::anyhow!("unknown carrier {carrier}"))?,
                    account_ids: serde_json::from_str(&ids)?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub(super) async fn read_notification_targets(
        &self,
        uai: &str,
        profile: Profile,
    ) -> anyhow::Result<Vec<NotificationTarget>> {
        let columns = prefixed("a", READ_COLUMNS);
        let sql = match profile {
            Profile::Pupil => format!(
                "SELECT {columns}, e.division AS class, e.mef AS mef, CAST(1 AS BIGINT) AS establishments,
                        NULL AS child_given_name, NULL AS child_family_name, NULL AS child_class,
                        NULL AS child_mef
                 FROM enrolments e JOIN accounts a ON a.id = e.account_id
                 WHERE e.uai = $1 AND e.left_at IS NULL AND a.state <> 'disabled'
                   AND a.profile = $2"
            ),
            Profile::Guardian | Profile::PersonInCharge => format!(
                "SELECT {columns}, NULL AS class, NULL AS mef,
                        (SELECT COUNT(DISTINCT o.uai) FROM persons o
                         WHERE o.account_id = a.id AND o.left_at IS NULL) AS establishments,
                        c.given_name AS child_given_name, c.family_name AS child_family_name,
                        e.division AS child_class, e.mef AS child_mef
                 FROM persons p
                 JOIN accounts a ON a.id = p.account_id
                 JOIN links l ON l.uai = p.uai AND l.personne_id = p.personne_id
                 JOIN enrolments e ON e.uai = l.uai AND e.eleve_id = l.eleve_id
                                  AND e.left_at IS NULL
                 JOIN accounts c ON c.id = e.account_id
                 WHERE p.uai = $1 AND p.left_at IS NULL AND a.state <> 'disabled'
                   AND a.profile = $2"
            ),
        };
        let rows = self
            .retry(|| {
                sqlx::query(&sql)
                    .bind(uai)
                    .bind(profile.as_str())
                    .fetch_all(&self.pool)
            })
            .await?;
        let mut targets: Vec<NotificationTarget> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for row in &rows {
            let account = account_from(row)?;
            let child: Option<String> = row.try_get("child_given_name")?;
            let at = *index.entry(account.id.clone()).or_insert_with(|| {
                targets.push(NotificationTarget {
                    account,
                    class: None,
                    mef: None,
                    establishments: 1,
                    children: Vec::new(),
                });
                targets.len() - 1
            });
            let target = &mut targets[at];
            target.class = row.try_get("class")?;
            target.mef = row.try_get("mef")?;
            target.establishments = usize::try_from(row.try_get::<i64, _>("establishments")?)?;
            if let Some(given_name) = child {
                let child = ChildInClass {
                    given_name,
                    family_name: row
                        .try_get::<Option<String>, _>("child_family_name")?
                        .unwrap_or_default(),
                    class: row.try_get("child_class")?,
                    mef: row.try_get("child_mef")?,
                };
                if !target.children.contains(&child) {
                    target.children.push(child);
                }
            }
        }
        for target in &mut targets {
            target.children.sort_by(|a, b| {
                (&a.class, &a.family_name, &a.given_name).cmp(&(
                    &b.class,
                    &b.family_name,
                    &b.given_name,
                ))
            });
        }
        targets.sort_by(|a, b| {
            let key = |t: &NotificationTarget| {
                (
                    t.sort_class().map(str::to_owned),
                    t.account.family_name.to_lowercase(),
                    t.account.given_name.to_lowercase(),
                    t.account.id.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        Ok(targets)
    }
}

/// `a.id, a.login, ...` for the columns of one table aliased `alias`.
fn prefixed(alias: &str, columns: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}
