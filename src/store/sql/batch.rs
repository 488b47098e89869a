//! Multi-row statements (`INSERT ... VALUES (...), (...), ...`) in chunks that stay well under
//! both dialects' limit on bound parameters: bulk writes cost one round trip per chunk instead
//! of one per row. Chunks have a fixed size, so each full chunk reuses one prepared statement.

use std::fmt::Write;

use sqlx::any::AnyRow;
use sqlx::AnyConnection;

/// One bound value of a row.
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

/// sqlx binds SQLite parameters in time quadratic in their number: SQLite gets small chunks.
const MAX_PARAMETERS_POSTGRES: usize = 16_000;
const MAX_PARAMETERS_SQLITE: usize = 1_000;
const MAX_ROWS: usize = 1_000;

fn max_parameters(conn: &AnyConnection) -> usize {
    if conn.backend_name() == "SQLite" {
        MAX_PARAMETERS_SQLITE
    } else {
        MAX_PARAMETERS_POSTGRES
    }
}

/// `head` ends with `VALUES`; `tail` (ON CONFLICT, RETURNING) follows the rows. Returns the rows
/// the statement returned, when `tail` has a RETURNING clause. Also serves `UPDATE ... FROM
/// (VALUES ...)`.
pub(super) async fn with_values(
    conn: &mut AnyConnection,
    head: &str,
    tail: &str,
    rows: Vec<Vec<Val>>,
) -> anyhow::Result<Vec<AnyRow>> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Ok(Vec::new());
    };
    let per_chunk = (max_parameters(conn) / width).clamp(1, MAX_ROWS);
    let mut returned = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Val>> = rows.by_ref().take(per_chunk).collect();
        let sql = statement(head, tail, width, chunk.len());
        let mut query = sqlx::query(&sql);
        for value in chunk.into_iter().flatten() {
            query = match value {
                Val::Text(v) => query.bind(v),
                Val::Int(v) => query.bind(v),
            };
        }
        returned.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(returned)
}

fn statement(head: &str, tail: &str, width: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * width * 6);
    sql.push_str(head);
    let mut n = 0;
    for row in 0..rows {
        sql.push_str(if row == 0 { " (" } else { ", (" });
        for column in 0..width {
            n += 1;
            let _ = write!(sql, "{}${n}", if column == 0 { "" } else { ", " });
        }
        sql.push(')');
    }
    sql.push(' ');
    sql.push_str(tail);
    sql
}

/// `column IN ($1, ..., $n)` over `values`, in chunks; `sql` holds `{in}` where the list goes.
pub(super) async fn select_in(
    conn: &mut AnyConnection,
    sql: &str,
    values: &[String],
) -> anyhow::Result<Vec<AnyRow>> {
    let mut rows = Vec::new();
    for chunk in values.chunks(max_parameters(conn)) {
        let list = (1..=chunk.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = sql.replace("{in}", &list);
        let mut query = sqlx::query(&sql);
        for value in chunk {
            query = query.bind(value);
        }
        rows.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_every_value_in_order() {
        assert_eq!(
            super::statement(
                "INSERT INTO t (a, b) VALUES",
                "ON CONFLICT DO NOTHING",
                2,
                2
            ),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING"
        );
    }
}
