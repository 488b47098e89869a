//! Bulk statements: the rows travel as one JSON parameter (`[[v, v, ...], ...]`) that the
//! database unpacks (`jsonb_array_elements` on PostgreSQL, `json_each` on SQLite) into an
//! `INSERT ... SELECT`, an `UPDATE ... FROM` or an `IN (...)`. A thousand rows cost one round
//! trip, and each call site is one statement text whatever the number of rows: prepared once per
//! connection, its plan reused, where one placeholder per value made a new statement of every
//! row count and cost the parsing and binding of thousands of parameters.

use sqlx::any::AnyRow;
use sqlx::AnyConnection;

/// One value of a row.
pub(super) enum Val {
    Text(Option<String>),
    Int(Option<i64>),
}

impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(Some(v.to_owned()))
    }
}

impl From<&String> for Val {
    fn from(v: &String) -> Val {
        Val::Text(Some(v.clone()))
    }
}

impl From<&Option<String>> for Val {
    fn from(v: &Option<String>) -> Val {
        Val::Text(v.clone())
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(Some(v))
    }
}

impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Val {
        Val::Int(v)
    }
}

impl Val {
    fn json(self) -> serde_json::Value {
        match self {
            Val::Text(v) => v.map_or(serde_json::Value::Null, serde_json::Value::String),
            Val::Int(v) => v.map_or(serde_json::Value::Null, Into::into),
        }
    }
}

/// Rows per statement: bounds the size of one parameter.
const MAX_ROWS: usize = 5_000;

/// `head SELECT r.value->>0 AS c0, CAST(r.value->>1 AS BIGINT) AS c1, ... FROM <rows> WHERE true
/// tail`, once per chunk of rows. The columns are `c0`, `c1`... for an `UPDATE ... FROM (` head;
/// `WHERE true` lets an `ON CONFLICT` tail follow (SQLite's grammar). Returns what a
/// `RETURNING` tail returned.
pub(super) async fn with_rows(
    conn: &mut AnyConnection,
    head: &str,
    tail: &str,
    rows: Vec<Vec<Val>>,
) -> anyhow::Result<Vec<AnyRow>> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let columns = first
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Val::Text(_) => format!("r.value->>{i} AS c{i}"),
            Val::Int(_) => format!("CAST(r.value->>{i} AS BIGINT) AS c{i}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "{head} SELECT {columns} FROM {} WHERE true {tail}",
        source(conn)
    );
    let mut returned = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<serde_json::Value> = rows
            .by_ref()
            .take(MAX_ROWS)
            .map(|row| row.into_iter().map(Val::json).collect())
            .collect();
        let chunk = serde_json::to_string(&chunk)?;
        returned.extend(sqlx::query(&sql).bind(chunk).fetch_all(&mut *conn).await?);
    }
    Ok(returned)
}

/// `sql` with `{in}` standing for "is one of `values`": `WHERE column {in}`. On PostgreSQL an
/// `= ANY(ARRAY(...))`, which the planner answers with the column's index whatever it believes of
/// the table's size (an `IN (SELECT ...)` got a sequential scan of a table grown since its last
/// statistics: the import slowed down as the directory filled).
pub(super) async fn select_in(
    conn: &mut AnyConnection,
    sql: &str,
    values: &[String],
) -> anyhow::Result<Vec<AnyRow>> {
    let list = if conn.backend_name() == "SQLite" {
        format!("IN (SELECT r.value->>0 FROM {})", source(conn))
    } else {
        format!("= ANY(ARRAY(SELECT r.value->>0 FROM {}))", source(conn))
    };
    let sql = sql.replace("{in}", &list);
    let mut rows = Vec::new();
    for chunk in values.chunks(MAX_ROWS) {
        let list: Vec<[&String; 1]> = chunk.iter().map(|v| [v]).collect();
        rows.extend(
            sqlx::query(&sql)
                .bind(serde_json::to_string(&list)?)
                .fetch_all(&mut *conn)
                .await?,
        );
    }
    Ok(rows)
}

/// The rows of the JSON parameter, each as `r.value`.
fn source(conn: &AnyConnection) -> &'static str {
    if conn.backend_name() == "SQLite" {
        "json_each($1) AS r"
    } else {
        "jsonb_array_elements(CAST($1 AS JSONB)) AS r(value)"
    }
}
