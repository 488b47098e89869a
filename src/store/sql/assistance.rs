//! Assistance requests, their accounts concerned and their events (`crate::assistance`).

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{flag, outbox, SqlStore};
use crate::accounts::Profile;
use crate::assistance::model::{
    AssistanceEvent, AssistanceRequest, Category, Concerned, OnBehalf, Status,
};
use crate::outbox::Outgoing;
use crate::store::{AssistanceQuery, AssistanceStore};

const REQUEST_COLUMNS: &str = "id, uai, academy, category, description, status, filed_by, \
                               filed_by_label, on_behalf_name, on_behalf_contact, created_at, \
                               updated_at";
const EVENT_COLUMNS: &str =
    "id, request_id, at, author, author_name, by_assistance, body, previous_status, status";

fn status(row: &AnyRow, column: &str) -> anyhow::Result<Option<Status>> {
    let value: Option<String> = row.try_get(column)?;
    value
        .map(|v| Status::parse(&v).ok_or_else(|| anyhow::anyhow!("unknown request status {v}")))
        .transpose()
}

fn request_from(row: &AnyRow) -> anyhow::Result<AssistanceRequest> {
    let category: String = row.try_get("category")?;
    let name: Option<String> = row.try_get("on_behalf_name")?;
    let contact: Option<String> = row.try_get("on_behalf_contact")?;
    Ok(AssistanceRequest {
        id: row.try_get("id")?,
        uai: row.try_get("uai")?,
        academy: row.try_get("academy")?,
        category: Category::parse(&category)
            .ok_or_else(|| anyhow::anyhow!("unknown request category {category}"))?,
        description: row.try_get("description")?,
        status: status(row, "status")?
            .ok_or_else(|| anyhow::anyhow!("request without a status"))?,
        accounts: Vec::new(),
        filed_by: row.try_get("filed_by")?,
        filed_by_label: row.try_get("filed_by_label")?,
        on_behalf: name
            .zip(contact)
            .map(|(name, contact)| OnBehalf { name, contact }),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn concerned_from(row: &AnyRow) -> anyhow::Result<(String, Concerned)> {
    let profile: String = row.try_get("profile")?;
    Ok((
        row.try_get("request_id")?,
        Concerned {
            account_id: row.try_get("account_id")?,
            login: row.try_get("login")?,
            given_name: row.try_get("given_name")?,
            family_name: row.try_get("family_name")?,
            profile: Profile::parse(&profile)
                .ok_or_else(|| anyhow::anyhow!("unknown profile {profile}"))?,
        },
    ))
}

fn event_from(row: &AnyRow) -> anyhow::Result<AssistanceEvent> {
    Ok(AssistanceEvent {
        id: row.try_get("id")?,
        request_id: row.try_get("request_id")?,
        at: row.try_get("at")?,
        author: row.try_get("author")?,
        author_name: row.try_get("author_name")?,
        by_assistance: row.try_get::<i64, _>("by_assistance")? != 0,
        body: row.try_get("body")?,
        previous_status: status(row, "previous_status")?,
        status: status(row, "status")?,
    })
}

impl SqlStore {
    /// The accounts concerned of these requests, put in place.
    async fn with_accounts(
        &self,
        mut requests: Vec<AssistanceRequest>,
    ) -> anyhow::Result<Vec<AssistanceRequest>> {
        if requests.is_empty() {
            return Ok(requests);
        }
        // One statement per page of requests: `IN ($1, …, $n)` with as many placeholders.
        let placeholders: Vec<String> = (1..=requests.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT request_id, account_id, login, given_name, family_name, profile
             FROM assistance_request_accounts WHERE request_id IN ({})
             ORDER BY family_name, given_name, login",
            placeholders.join(", ")
        );
        let rows = self
            .retry(|| {
                let mut query = sqlx::query(&sql);
                for r in &requests {
                    query = query.bind(&r.id);
                }
                query.fetch_all(&self.pool)
            })
            .await?;
        let mut by_request: HashMap<String, Vec<Concerned>> = HashMap::new();
        for row in &rows {
            let (id, concerned) = concerned_from(row)?;
            by_request.entry(id).or_default().push(concerned);
        }
        for request in &mut requests {
            request.accounts = by_request.remove(&request.id).unwrap_or_default();
        }
        Ok(requests)
    }
}

#[async_trait]
impl AssistanceStore for SqlStore {
    async fn insert_assistance(
        &self,
        r: &AssistanceRequest,
        messages: &[Outgoing],
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "INSERT INTO assistance_requests ({REQUEST_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (id) DO NOTHING"
        );
        let (name, contact) = match &r.on_behalf {
            Some(o) => (Some(o.name.as_str()), Some(o.contact.as_str())),
            None => (None, None),
        };
        let inserted = sqlx::query(&sql)
            .bind(&r.id)
            .bind(&r.uai)
            .bind(&r.academy)
            .bind(r.category.as_str())
            .bind(&r.description)
            .bind(r.status.as_str())
            .bind(&r.filed_by)
            .bind(&r.filed_by_label)
            .bind(name)
            .bind(contact)
            .bind(r.created_at)
            .bind(r.updated_at)
            .execute(&mut *tx)
            .await?;
        if inserted.rows_affected() == 0 {
            return Ok(false);
        }
        for a in &r.accounts {
            sqlx::query(
                "INSERT INTO assistance_request_accounts
                   (request_id, account_id, login, given_name, family_name, profile)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&r.id)
            .bind(&a.account_id)
            .bind(&a.login)
            .bind(&a.given_name)
            .bind(&a.family_name)
            .bind(a.profile.as_str())
            .execute(&mut *tx)
            .await?;
        }
        for message in messages {
            outbox::insert(&mut *tx, message).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn assistance(&self, id: &str) -> anyhow::Result<Option<AssistanceRequest>> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM assistance_requests WHERE id = $1");
        let row = self
            .retry(|| sqlx::query(&sql).bind(id).fetch_optional(&self.pool))
            .await?;
        let Some(request) = row.as_ref().map(request_from).transpose()? else {
            return Ok(None);
        };
        Ok(self.with_accounts(vec![request]).await?.pop())
    }

    async fn assistance_events(&self, request_id: &str) -> anyhow::Result<Vec<AssistanceEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM assistance_events WHERE request_id = $1
             ORDER BY at, id"
        );
        let rows = self
            .retry(|| sqlx::query(&sql).bind(request_id).fetch_all(&self.pool))
            .await?;
        rows.iter().map(event_from).collect()
    }

    async fn assistance_requests(
        &self,
        q: &AssistanceQuery,
    ) -> anyhow::Result<Vec<AssistanceRequest>> {
        // Every filter bound, given or not (one statement text): `$n IS NULL` keeps an absent
        // one out.
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM assistance_requests
             WHERE ($1 IS NULL OR uai = $1) AND ($2 IS NULL OR academy = $2)
               AND ($3 IS NULL OR status = $3)
             ORDER BY created_at DESC, id DESC LIMIT $4"
        );
        let rows = self
            .retry(|| {
                sqlx::query(&sql)
                    .bind(&q.uai)
                    .bind(&q.academy)
                    .bind(q.status.map(Status::as_str))
                    .bind(q.limit)
                    .fetch_all(&self.pool)
            })
            .await?;
        let requests = rows
            .iter()
            .map(request_from)
            .collect::<anyhow::Result<_>>()?;
        self.with_accounts(requests).await
    }

    async fn add_assistance_event(
        &self,
        e: &AssistanceEvent,
        messages: &[Outgoing],
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        // The request's row is written first: a status changes only from the one the author
        // saw, and two changes at once queue on the row.
        let touched = match (e.previous_status, e.status) {
            (Some(from), Some(to)) => {
                sqlx::query(
                    "UPDATE assistance_requests SET status = $1, updated_at = $2
                 WHERE id = $3 AND status = $4",
                )
                .bind(to.as_str())
                .bind(e.at)
                .bind(&e.request_id)
                .bind(from.as_str())
                .execute(&mut *tx)
                .await?
            }
            _ => {
                sqlx::query("UPDATE assistance_requests SET updated_at = $1 WHERE id = $2")
                    .bind(e.at)
                    .bind(&e.request_id)
                    .execute(&mut *tx)
                    .await?
            }
        };
        if touched.rows_affected() == 0 {
            return Ok(false);
        }
        let sql = format!(
            "INSERT INTO assistance_events ({EVENT_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        sqlx::query(&sql)
            .bind(&e.id)
            .bind(&e.request_id)
            .bind(e.at)
            .bind(&e.author)
            .bind(&e.author_name)
            .bind(flag(e.by_assistance))
            .bind(&e.body)
            .bind(e.previous_status.map(Status::as_str))
            .bind(e.status.map(Status::as_str))
            .execute(&mut *tx)
            .await?;
        for message in messages {
            outbox::insert(&mut *tx, message).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
