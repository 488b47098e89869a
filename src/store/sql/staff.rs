//! The staff directory and their roles (`crate::staff`): tables apart from the accounts'.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::SqlStore;
use crate::siecle::ids::academy_named;
use crate::siecle::Uai;
use crate::staff::{Role, RoleKind, RoleScope, Staff, StaffCredentials, StaffState};
use crate::store::{InsertStaffError, StaffStore};

const STAFF_COLUMNS: &str =
    "s.id, s.login, s.given_name, s.family_name, s.email, s.state, s.totp_enrolled_at, s.created_at";
const ROLE_COLUMNS: &str = "r.id AS role_id, r.staff_id, r.role, r.uai, r.academy, r.pupils, \
                            r.guardians, r.ends_at, r.granted_by, r.granted_at, r.revoked_at";

fn staff_from(row: &AnyRow) -> anyhow::Result<Staff> {
    let state: String = row.try_get("state")?;
    Ok(Staff {
        id: row.try_get("id")?,
        login: row.try_get("login")?,
        given_name: row.try_get("given_name")?,
        family_name: row.try_get("family_name")?,
        email: row.try_get("email")?,
        state: StaffState::parse(&state)
            .ok_or_else(|| anyhow::anyhow!("unknown staff state {state}"))?,
        totp_enrolled_at: row.try_get("totp_enrolled_at")?,
        created_at: row.try_get("created_at")?,
    })
}

fn role_from(row: &AnyRow) -> anyhow::Result<Role> {
    let kind: String = row.try_get("role")?;
    let kind = RoleKind::parse(&kind).ok_or_else(|| anyhow::anyhow!("unknown role {kind}"))?;
    let uai: Option<String> = row.try_get("uai")?;
    let academy: Option<String> = row.try_get("academy")?;
    let scope = match (uai, academy) {
        (Some(uai), _) => RoleScope::Establishment(Uai::parse(&uai).map_err(anyhow::Error::msg)?),
        (None, Some(academy)) => RoleScope::Academy(
            academy_named(&academy).ok_or_else(|| anyhow::anyhow!("unknown académie {academy}"))?,
        ),
        (None, None) => RoleScope::National,
    };
    Ok(Role {
        id: row.try_get("role_id")?,
        staff_id: row.try_get("staff_id")?,
        kind,
        scope,
        pupils: row.try_get::<i64, _>("pupils")? != 0,
        guardians: row.try_get::<i64, _>("guardians")? != 0,
        ends_at: row.try_get("ends_at")?,
        granted_by: row.try_get("granted_by")?,
        granted_at: row.try_get("granted_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

#[async_trait]
impl StaffStore for SqlStore {
    async fn insert_staff(&self, s: &Staff, password_hash: &str) -> Result<(), InsertStaffError> {
        let insert = || {
            sqlx::query(
                "INSERT INTO staff (id, login, given_name, family_name, email, password_hash,
                                    state, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (login) DO NOTHING",
            )
            .bind(&s.id)
            .bind(&s.login)
            .bind(&s.given_name)
            .bind(&s.family_name)
            .bind(&s.email)
            .bind(password_hash)
            .bind(s.state.as_str())
            .bind(s.created_at)
            .bind(s.created_at)
            .execute(&self.pool)
        };
        let done = self.retry_if_not_run(insert).await?;
        if done.rows_affected() == 0 {
            return Err(InsertStaffError::LoginTaken(s.login.clone()));
        }
        Ok(())
    }

    async fn staff(&self, id: &str) -> anyhow::Result<Option<Staff>> {
        let sql = format!("SELECT {STAFF_COLUMNS} FROM staff s WHERE s.id = $1");
        let row = self
            .retry(|| sqlx::query(&sql).bind(id).fetch_optional(&self.pool))
            .await?;
        row.as_ref().map(staff_from).transpose()
    }

    async fn staff_credentials(&self, login: &str) -> anyhow::Result<Option<StaffCredentials>> {
        let sql = format!(
            "SELECT {STAFF_COLUMNS}, s.password_hash, s.totp_sealed FROM staff s WHERE s.login = $1"
        );
        let row = self
            .retry(|| sqlx::query(&sql).bind(login).fetch_optional(&self.pool))
            .await?;
        row.map(|row| {
            Ok(StaffCredentials {
                staff: staff_from(&row)?,
                password_hash: row.try_get("password_hash")?,
                totp_sealed: row.try_get("totp_sealed")?,
            })
        })
        .transpose()
    }

    async fn staff_list(&self, limit: i64) -> anyhow::Result<Vec<Staff>> {
        let sql = format!(
            "SELECT {STAFF_COLUMNS} FROM staff s ORDER BY s.family_name, s.given_name, s.login LIMIT $1"
        );
        let rows = self
            .retry(|| sqlx::query(&sql).bind(limit).fetch_all(&self.pool))
            .await?;
        rows.iter().map(staff_from).collect()
    }

    async fn enrol_staff_totp(&self, id: &str, sealed: &str, now_ms: i64) -> anyhow::Result<bool> {
        let done = self
            .retry_if_not_run(|| {
                sqlx::query(
                    "UPDATE staff SET totp_sealed = $1, totp_enrolled_at = $2, updated_at = $2
                     WHERE id = $3 AND totp_sealed IS NULL",
                )
                .bind(sealed)
                .bind(now_ms)
                .bind(id)
                .execute(&self.pool)
            })
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn reset_staff_totp(&self, id: &str, now_ms: i64) -> anyhow::Result<()> {
        self.retry(|| {
            sqlx::query(
                "UPDATE staff SET totp_sealed = NULL, totp_enrolled_at = NULL, updated_at = $1
                 WHERE id = $2",
            )
            .bind(now_ms)
            .bind(id)
            .execute(&self.pool)
        })
        .await?;
        Ok(())
    }

    async fn set_staff_password(&self, id: &str, hash: &str, now_ms: i64) -> anyhow::Result<()> {
        let sql = "UPDATE staff SET password_hash = $1, updated_at = $2 WHERE id = $3";
        self.set_column(sql, id, hash, now_ms).await
    }

    async fn set_staff_state(
        &self,
        id: &str,
        state: StaffState,
        now_ms: i64,
    ) -> anyhow::Result<()> {
        let sql = "UPDATE staff SET state = $1, updated_at = $2 WHERE id = $3";
        self.set_column(sql, id, state.as_str(), now_ms).await
    }

    async fn insert_role(&self, r: &Role) -> anyhow::Result<()> {
        let (uai, academy) = match &r.scope {
            RoleScope::Establishment(uai) => (Some(uai.as_str().to_owned()), None),
            RoleScope::Academy(academy) => (None, Some((*academy).to_owned())),
            RoleScope::National => (None, None),
        };
        // A role has its own id: run twice, the second insert does nothing.
        self.retry(|| {
            sqlx::query(
                "INSERT INTO staff_roles (id, staff_id, role, uai, academy, pupils, guardians,
                                          ends_at, granted_by, granted_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&r.id)
            .bind(&r.staff_id)
            .bind(r.kind.as_str())
            .bind(&uai)
            .bind(&academy)
            .bind(i64::from(r.pupils))
            .bind(i64::from(r.guardians))
            .bind(r.ends_at)
            .bind(&r.granted_by)
            .bind(r.granted_at)
            .execute(&self.pool)
        })
        .await?;
        Ok(())
    }

    async fn revoke_role(&self, id: &str, now_ms: i64) -> anyhow::Result<bool> {
        let done = self
            .retry_if_not_run(|| {
                sqlx::query(
                    "UPDATE staff_roles SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                )
                .bind(now_ms)
                .bind(id)
                .execute(&self.pool)
            })
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn role(&self, id: &str) -> anyhow::Result<Option<Role>> {
        let sql = format!("SELECT {ROLE_COLUMNS} FROM staff_roles r WHERE r.id = $1");
        let row = self
            .retry(|| sqlx::query(&sql).bind(id).fetch_optional(&self.pool))
            .await?;
        row.as_ref().map(role_from).transpose()
    }

    async fn roles_of(&self, staff_id: &str) -> anyhow::Result<Vec<Role>> {
        let sql = format!(
            "SELECT {ROLE_COLUMNS} FROM staff_roles r WHERE r.staff_id = $1
             ORDER BY r.granted_at DESC, r.id"
        );
        let rows = self
            .retry(|| sqlx::query(&sql).bind(staff_id).fetch_all(&self.pool))
            .await?;
        rows.iter().map(role_from).collect()
    }

    async fn roles_at(&self, uai: &str) -> anyhow::Result<Vec<(Role, Staff)>> {
        let sql = format!(
            "SELECT {ROLE_COLUMNS}, {STAFF_COLUMNS} FROM staff_roles r
             JOIN staff s ON s.id = r.staff_id
             WHERE r.uai = $1 AND r.revoked_at IS NULL
             ORDER BY s.family_name, s.given_name, r.granted_at"
        );
        let rows = self
            .retry(|| sqlx::query(&sql).bind(uai).fetch_all(&self.pool))
            .await?;
        rows.iter()
            .map(|row| Ok((role_from(row)?, staff_from(row)?)))
            .collect()
    }

    async fn staff_of_academy(&self, academy: &str, kind: RoleKind) -> anyhow::Result<Vec<Staff>> {
        let sql = format!(
            "SELECT DISTINCT {STAFF_COLUMNS} FROM staff s
             JOIN staff_roles r ON r.staff_id = s.id
             WHERE r.academy = $1 AND r.role = $2 AND r.revoked_at IS NULL
             ORDER BY s.family_name, s.given_name, s.login"
        );
        let rows = self
            .retry(|| {
                sqlx::query(&sql)
                    .bind(academy)
                    .bind(kind.as_str())
                    .fetch_all(&self.pool)
            })
            .await?;
        rows.iter().map(staff_from).collect()
    }
}
