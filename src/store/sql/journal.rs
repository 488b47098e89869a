//! The journal's reads of the audit trail (`JournalStore`): the filters asked for, paginated by
//! (time, id), each value bound.

use async_trait::async_trait;
use sqlx::Row;

use super::SqlStore;
use crate::audit::Event;
use crate::store::{JournalQuery, JournalStore};

/// Placeholders numbered in the order their values are bound.
struct Placeholders(usize);

impl Placeholders {
    fn next(&mut self) -> String {
        self.0 += 1;
        format!("${}", self.0)
    }

    fn list(&mut self, values: &[String]) -> String {
        let list: Vec<String> = values.iter().map(|_| self.next()).collect();
        list.join(", ")
    }
}

#[async_trait]
impl JournalStore for SqlStore {
    async fn journal(&self, q: &JournalQuery) -> anyhow::Result<Vec<Event>> {
        let mut n = Placeholders(0);
        let mut conditions = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        if let Some(uai) = &q.uai {
            let mut place = format!("uai = {}", n.next());
            binds.push(uai.clone());
            let mut unplaced = Vec::new();
            if !q.unplaced_about.is_empty() {
                unplaced.push(format!("subject IN ({})", n.list(&q.unplaced_about)));
                binds.extend(q.unplaced_about.iter().cloned());
            }
            if !q.unplaced_by.is_empty() {
                unplaced.push(format!("actor IN ({})", n.list(&q.unplaced_by)));
                binds.extend(q.unplaced_by.iter().cloned());
            }
            if !unplaced.is_empty() {
                place = format!("{place} OR (uai IS NULL AND ({}))", unplaced.join(" OR "));
            }
            conditions.push(format!("({place})"));
        }
        if let Some(subject) = &q.subject {
            conditions.push(format!("subject = {}", n.next()));
            binds.push(subject.clone());
        }
        let (before, id) = match &q.before {
            Some(cursor) => (cursor.at, cursor.id.clone().unwrap_or_default()),
            None => (i64::MAX, String::new()),
        };
        // The cursor's id is '' when absent, which no id is below.
        let (at, below) = (n.next(), n.next());
        conditions.push(format!("(at < {at} OR (at = {at} AND id < {below}))"));
        let limit = n.next();
        let sql = format!(
            "SELECT id, at, actor, action, subject, uai, address, outcome, detail
             FROM audit_events WHERE {}
             ORDER BY at DESC, id DESC LIMIT {limit}",
            conditions.join(" AND ")
        );
        let rows = self
            .retry(|| {
                let mut query = sqlx::query(&sql);
                for value in &binds {
                    query = query.bind(value);
                }
                query
                    .bind(before)
                    .bind(&id)
                    .bind(q.limit)
                    .fetch_all(&self.pool)
            })
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Event {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    subject: row.try_get("subject")?,
                    uai: row.try_get("uai")?,
                    address: row.try_get("address")?,
                    outcome: row.try_get("outcome")?,
                    detail: row.try_get("detail")?,
                })
            })
            .collect()
    }
}
