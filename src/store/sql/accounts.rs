//! Accounts.

use anyhow::Context;
use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{outbox, SqlStore};
use crate::accounts::{Account, AccountState, Profile};
use crate::outbox::Outgoing;
use crate::store::{AccountStore, InsertAccountError};

/// The columns the imports write (a new account never holds a temporary password).
pub(super) const COLUMNS: &str =
    "id, login, password_hash, profile, given_name, family_name, email, phone, \
                       state, created_at, updated_at";

/// The columns an account made by hand is inserted with.
const INSERT_COLUMNS: &str = "id, login, password_hash, profile, given_name, family_name, email, \
                              phone, state, created_at, updated_at, password_expires_at";

/// Every column of an account.
pub(super) const READ_COLUMNS: &str =
    "id, login, password_hash, profile, given_name, family_name, email, \
                            phone, state, created_at, updated_at, password_expires_at, verified_email, \
                            verified_phone";

pub(super) fn account_from(row: &AnyRow) -> anyhow::Result<Account> {
    let profile: String = row.try_get("profile")?;
    let state: String = row.try_get("state")?;
    Ok(Account {
        id: row.try_get("id")?,
        login: row.try_get("login")?,
        password_hash: row.try_get("password_hash")?,
        profile: Profile::parse(&profile).with_context(|| format!("unknown profile {profile}"))?,
        given_name: row.try_get("given_name")?,
        family_name: row.try_get("family_name")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        state: AccountState::parse(&state).with_context(|| format!("unknown state {state}"))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        password_expires_at: row.try_get("password_expires_at")?,
        verified_email: row.try_get("verified_email")?,
        verified_phone: row.try_get("verified_phone")?,
    })
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn account(&self, id: &str) -> anyhow::Result<Option<Account>> {
        let sql = format!("SELECT {READ_COLUMNS} FROM accounts WHERE id = $1");
        let row = self
            .retry(|| sqlx::query(&sql).bind(id).fetch_optional(&self.pool))
            .await?;
        row.as_ref().map(account_from).transpose()
    }

    async fn account_by_login(&self, login: &str) -> anyhow::Result<Option<Account>> {
        let sql = format!("SELECT {READ_COLUMNS} FROM accounts WHERE login = $1");
        let row = self
            .retry(|| sqlx::query(&sql).bind(login).fetch_optional(&self.pool))
            .await?;
        row.as_ref().map(account_from).transpose()
    }

    async fn insert_account(&self, a: &Account) -> Result<(), InsertAccountError> {
        let sql = format!(
            "INSERT INTO accounts ({INSERT_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (login) DO NOTHING"
        );
        // Run twice, the second would find the first's row: `LoginTaken`.
        let insert = || {
            sqlx::query(&sql)
                .bind(&a.id)
                .bind(&a.login)
                .bind(&a.password_hash)
                .bind(a.profile.as_str())
                .bind(&a.given_name)
                .bind(&a.family_name)
                .bind(&a.email)
                .bind(&a.phone)
                .bind(a.state.as_str())
                .bind(a.created_at)
                .bind(a.updated_at)
                .bind(a.password_expires_at)
                .execute(&self.pool)
        };
        let done = self.retry_if_not_run(insert).await?;
        if done.rows_affected() == 0 {
            return Err(InsertAccountError::LoginTaken(a.login.clone()));
        }
        Ok(())
    }

    async fn set_password_hash(&self, id: &str, hash: &str, now_ms: i64) -> anyhow::Result<()> {
        let sql = "UPDATE accounts SET password_hash = $1, password_expires_at = NULL,
                   updated_at = $2 WHERE id = $3";
        self.set_column(sql, id, hash, now_ms).await
    }

    async fn set_temporary_password(
        &self,
        id: &str,
        hash: &str,
        expires_at_ms: i64,
        now_ms: i64,
        message: Option<&Outgoing>,
    ) -> anyhow::Result<()> {
        let sql = "UPDATE accounts SET password_hash = $1, password_expires_at = $2, state = $3,
                   updated_at = $4 WHERE id = $5";
        let update = || {
            sqlx::query(sql)
                .bind(hash)
                .bind(expires_at_ms)
                .bind(AccountState::Notified.as_str())
                .bind(now_ms)
                .bind(id)
        };
        let Some(message) = message else {
            self.retry(|| update().execute(&self.pool)).await?;
            return Ok(());
        };
        // DESIGN.md: a message is written in the same transaction as what caused it — the
        // e-mail carrying a password exists exactly when the password does.
        let mut tx = self.begin().await?;
        update().execute(&mut *tx).await?;
        outbox::insert(&mut *tx, message).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_state(&self, id: &str, state: AccountState, now_ms: i64) -> anyhow::Result<()> {
        let sql = "UPDATE accounts SET state = $1, updated_at = $2 WHERE id = $3";
        self.set_column(sql, id, state.as_str(), now_ms).await
    }

    async fn set_verified_email(&self, id: &str, email: &str, now_ms: i64) -> anyhow::Result<()> {
        let sql = "UPDATE accounts SET verified_email = $1, verified_email_at = $2, updated_at = $3
                   WHERE id = $4";
        self.retry(|| {
            sqlx::query(sql)
                .bind(email)
                .bind(now_ms)
                .bind(now_ms)
                .bind(id)
                .execute(&self.pool)
        })
        .await?;
        Ok(())
    }

    async fn set_verified_phone(&self, id: &str, phone: &str, now_ms: i64) -> anyhow::Result<()> {
        let sql = "UPDATE accounts SET verified_phone = $1, verified_phone_at = $2, updated_at = $3
                   WHERE id = $4";
        self.retry(|| {
            sqlx::query(sql)
                .bind(phone)
                .bind(now_ms)
                .bind(now_ms)
                .bind(id)
                .execute(&self.pool)
        })
        .await?;
        Ok(())
    }

    async fn set_email(&self, id: &str, email: &str, now_ms: i64) -> anyhow::Result<()> {
        let sql = "UPDATE accounts SET email = $1, updated_at = $2 WHERE id = $3";
        self.set_column(sql, id, email, now_ms).await
    }

    async fn guardians_by_siecle_mobile(&self, mobile: &str) -> anyhow::Result<Vec<Account>> {
        let sql = format!(
            "SELECT {READ_COLUMNS} FROM accounts WHERE phone = $1 AND profile <> 'pupil'
             ORDER BY id"
        );
        self.accounts_where(&sql, mobile).await
    }

    async fn accounts_by_confirmed_email(&self, email: &str) -> anyhow::Result<Vec<Account>> {
        let sql =
            format!("SELECT {READ_COLUMNS} FROM accounts WHERE verified_email = $1 ORDER BY id");
        self.accounts_where(&sql, email).await
    }

    async fn accounts_by_confirmed_mobile(&self, mobile: &str) -> anyhow::Result<Vec<Account>> {
        let sql =
            format!("SELECT {READ_COLUMNS} FROM accounts WHERE verified_phone = $1 ORDER BY id");
        self.accounts_where(&sql, mobile).await
    }

    async fn pupil_birth_date(&self, account_id: &str) -> anyhow::Result<Option<String>> {
        let row = self
            .retry(|| {
                sqlx::query("SELECT birth_date FROM pupils WHERE account_id = $1")
                    .bind(account_id)
                    .fetch_optional(&self.pool)
            })
            .await?;
        Ok(row.map(|r| r.try_get("birth_date")).transpose()?)
    }
}

impl SqlStore {
    /// The accounts `sql` selects (`READ_COLUMNS`) for the one parameter `value`.
    async fn accounts_where(&self, sql: &str, value: &str) -> anyhow::Result<Vec<Account>> {
        let rows = self
            .retry(|| sqlx::query(sql).bind(value).fetch_all(&self.pool))
            .await?;
        rows.iter().map(account_from).collect()
    }
}

impl SqlStore {
    /// `sql` sets one column of row `id` (`$3`: an account, a staff member) to `value` (`$1`)
    /// and `updated_at` (`$2`): a write of given values, so retried after a connection failure.
    pub(super) async fn set_column(
        &self,
        sql: &'static str,
        id: &str,
        value: &str,
        now_ms: i64,
    ) -> anyhow::Result<()> {
        self.retry(|| {
            sqlx::query(sql)
                .bind(value)
                .bind(now_ms)
                .bind(id)
                .execute(&self.pool)
        })
        .await?;
        Ok(())
    }
}
