//! The two migration folders stay twins: `migrations/postgres` applied to a fresh PostgreSQL
//! schema and `migrations/sqlite` to a fresh SQLite file must define the same tables, columns
//! (name, type as mapped below, nullability), primary keys, unique constraints, indexes (name,
//! columns, unique, partial predicate) and foreign keys. One `SqlStore` runs the same statements
//! on both (ADR 0001), so a difference is a bug waiting for the other dialect.
//!
//! The folders are read at run time (not the migrator compiled into the crate), so the test
//! judges the files as they are on disk.
//!
//! Accepted differences, and only these:
//! - types: PostgreSQL `text` is SQLite `TEXT`; PostgreSQL `bigint` is SQLite `INTEGER` or
//!   `BIGINT` (both of INTEGER affinity, 64-bit: epoch-millisecond timestamps, 0/1 flags,
//!   counters). Any other type fails the test until it is added to `kind`.
//! - nullability of primary-key columns: SQLite lets a primary key other than `INTEGER PRIMARY
//!   KEY` hold NULL unless declared `NOT NULL`; no statement of ours writes one, so they count
//!   as NOT NULL, as in PostgreSQL.
//! - the names of the indexes behind primary keys and `UNIQUE` constraints (`accounts_pkey`,
//!   `sqlite_autoindex_accounts_1`), which neither dialect lets us choose: those are compared by
//!   their columns. Indexes made by `CREATE INDEX` are compared by name.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{isolated_config, Backend};
use educonnect::store::sql::SqlStore;
use sqlx::any::AnyRow;
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Row};

/// A column type, as both dialects are allowed to spell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Text,
    Integer,
}

/// The accepted type mapping (see the header).
fn kind(dialect: &str, declared: &str) -> Result<Kind, String> {
    match (dialect, declared.to_ascii_lowercase().as_str()) {
        ("postgres", "text") | ("sqlite", "text") => Ok(Kind::Text),
        ("postgres", "bigint") | ("sqlite", "integer" | "bigint") => Ok(Kind::Integer),
        _ => Err(format!(
            "{dialect} type {declared} has no accepted twin (tests/migrations.rs)"
        )),
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// Name → (type, nullable).
    columns: BTreeMap<String, (Kind, bool)>,
    primary_key: Vec<String>,
    /// Columns of each `UNIQUE` constraint.
    unique: BTreeSet<Vec<String>>,
    /// `CREATE INDEX` name → (columns, unique, predicate folded).
    indexes: BTreeMap<String, (Vec<String>, bool, String)>,
    /// (columns, referenced table, referenced columns, on delete).
    foreign_keys: BTreeSet<(Vec<String>, String, Vec<String>, String)>,
}

type Catalog = BTreeMap<String, Table>;

/// The rows of a catalog query, given its one parameter if it has one.
async fn rows(pool: &AnyPool, sql: &str, parameter: Option<&str>) -> Vec<AnyRow> {
    let mut query = sqlx::query(sql);
    if let Some(parameter) = parameter {
        query = query.bind(parameter.to_owned());
    }
    query
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn list(joined: &str) -> Vec<String> {
    joined.split(',').map(str::to_owned).collect()
}

/// `(mobile_key IS NOT NULL)` and `mobile_key IS NOT NULL` read the same, and so do
/// PostgreSQL's `status = 'pending'::text` and `status = 'pending'`.
fn fold_predicate(sql: &str) -> String {
    sql.replace("::text", "")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '(' && *c != ')')
        .collect::<String>()
        .to_ascii_lowercase()
}

async fn migrated(dialect: &str, backend: Backend, dir: &Path) -> AnyPool {
    let config = isolated_config(backend, dir).await;
    let store = SqlStore::connect(&config.database_url, 2)
        .await
        .expect("the database answers");
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dialect);
    Migrator::new(folder)
        .await
        .expect("the migration folder reads")
        .run(store.pool())
        .await
        .unwrap_or_else(|e| panic!("migrations/{dialect} apply: {e}"));
    store.pool().clone()
}

async fn postgres_catalog(pool: &AnyPool) -> Result<Catalog, String> {
    let mut catalog = Catalog::new();
    let columns = rows(
        pool,
        "SELECT c.table_name::text AS t, c.column_name::text AS c, c.data_type::text AS ty,
                c.is_nullable::text AS nullable
         FROM information_schema.columns c JOIN information_schema.tables t
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
           AND c.table_name <> '_sqlx_migrations'",
        None,
    )
    .await;
    for row in columns {
        let table = catalog.entry(row.get("t")).or_default();
        let kind = kind("postgres", row.get("ty"))?;
        let nullable = row.get::<String, _>("nullable") == "YES";
        table.columns.insert(row.get("c"), (kind, nullable));
    }
    // The index's columns in their order; `constraint_made`: behind a PRIMARY KEY or UNIQUE.
    let indexes = rows(
        pool,
        "SELECT t.relname::text AS t, i.relname::text AS name,
                array_to_string(ARRAY(
                    SELECT a.attname FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(n, o)
                    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o
                ), ',') AS cols,
                ix.indisunique::int AS is_unique, ix.indisprimary::int AS is_primary,
                EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid)::int
                    AS constraint_made,
                COALESCE(pg_get_expr(ix.indpred, ix.indrelid), '') AS predicate
         FROM pg_index ix
         JOIN pg_class i ON i.oid = ix.indexrelid
         JOIN pg_class t ON t.oid = ix.indrelid
         WHERE t.relnamespace = current_schema()::regnamespace
           AND t.relname <> '_sqlx_migrations'",
        None,
    )
    .await;
    for row in indexes {
        let table = catalog.entry(row.get("t")).or_default();
        let cols = list(row.get("cols"));
        if row.get::<i32, _>("is_primary") == 1 {
            table.primary_key = cols;
        } else if row.get::<i32, _>("constraint_made") == 1 {
            table.unique.insert(cols);
        } else {
            let predicate = fold_predicate(row.get("predicate"));
            let unique = row.get::<i32, _>("is_unique") == 1;
            table
                .indexes
                .insert(row.get("name"), (cols, unique, predicate));
        }
    }
    let foreign_keys = rows(
        pool,
        "SELECT t.relname::text AS t, r.relname::text AS r,
                array_to_string(ARRAY(
                    SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o
                ), ',') AS cols,
                array_to_string(ARRAY(
                    SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o
                ), ',') AS ref_cols,
                c.confdeltype::text AS on_delete
         FROM pg_constraint c
         JOIN pg_class t ON t.oid = c.conrelid
         JOIN pg_class r ON r.oid = c.confrelid
         WHERE c.contype = 'f' AND t.relnamespace = current_schema()::regnamespace",
        None,
    )
    .await;
    for row in foreign_keys {
        let on_delete = match row.get::<String, _>("on_delete").as_str() {
            "c" => "CASCADE",
            "n" => "SET NULL",
            "r" => "RESTRICT",
            _ => "NO ACTION",
        };
        catalog
            .entry(row.get("t"))
            .or_default()
            .foreign_keys
            .insert((
                list(row.get("cols")),
                row.get("r"),
                list(row.get("ref_cols")),
                on_delete.to_owned(),
            ));
    }
    Ok(catalog)
}

async fn sqlite_catalog(pool: &AnyPool) -> Result<Catalog, String> {
    let mut catalog = Catalog::new();
    let tables = rows(
        pool,
        "SELECT name FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
        None,
    )
    .await;
    for row in tables {
        let name: String = row.get("name");
        let mut table = Table::default();
        let columns = rows(
            pool,
            "SELECT name, type, \"notnull\" AS not_null, pk FROM pragma_table_info($1) ORDER BY pk",
            Some(&name),
        )
        .await;
        for column in columns {
            let pk = column.get::<i64, _>("pk") > 0;
            if pk {
                table.primary_key.push(column.get("name"));
            }
            let nullable = column.get::<i64, _>("not_null") == 0 && !pk;
            let kind = kind("sqlite", column.get("type"))?;
            table.columns.insert(column.get("name"), (kind, nullable));
        }
        let indexes = rows(
            pool,
            "SELECT l.name, l.\"unique\" AS is_unique, l.origin, COALESCE(m.sql, '') AS sql
             FROM pragma_index_list($1) l LEFT JOIN sqlite_master m ON m.name = l.name",
            Some(&name),
        )
        .await;
        for index in indexes {
            let index_name: String = index.get("name");
            let cols: Vec<String> = rows(
                pool,
                "SELECT name FROM pragma_index_info($1) ORDER BY seqno",
                Some(&index_name),
            )
            .await
            .iter()
            .map(|r| r.get("name"))
            .collect();
            match index.get::<String, _>("origin").as_str() {
                // The primary key is read from the columns above.
                "pk" => {}
                "u" => {
                    table.unique.insert(cols);
                }
                _ => {
                    let sql: String = index.get("sql");
                    let predicate = sql
                        .to_ascii_uppercase()
                        .rfind(" WHERE ")
                        .map(|at| fold_predicate(&sql[at + 7..]))
                        .unwrap_or_default();
                    let unique = index.get::<i64, _>("is_unique") == 1;
                    table.indexes.insert(index_name, (cols, unique, predicate));
                }
            }
        }
        let foreign_keys = rows(
            pool,
            "SELECT id, \"table\" AS r, \"from\" AS c, \"to\" AS rc, on_delete
             FROM pragma_foreign_key_list($1) ORDER BY id, seq",
            Some(&name),
        )
        .await;
        let mut by_id: BTreeMap<i64, (Vec<String>, String, Vec<String>, String)> = BTreeMap::new();
        for fk in foreign_keys {
            let entry = by_id
                .entry(fk.get("id"))
                .or_insert_with(|| (Vec::new(), fk.get("r"), Vec::new(), fk.get("on_delete")));
            entry.0.push(fk.get("c"));
            entry.2.push(fk.get("rc"));
        }
        table.foreign_keys = by_id.into_values().collect();
        catalog.insert(name, table);
    }
    Ok(catalog)
}

/// Every difference between the two catalogs, one line each.
fn differences(postgres: &Catalog, sqlite: &Catalog) -> Vec<String> {
    let mut found = Vec::new();
    let names: BTreeSet<&String> = postgres.keys().chain(sqlite.keys()).collect();
    for name in names {
        let (p, s) = match (postgres.get(name), sqlite.get(name)) {
            (Some(p), Some(s)) => (p, s),
            (Some(_), None) => {
                found.push(format!("table {name}: only in PostgreSQL"));
                continue;
            }
            (None, _) => {
                found.push(format!("table {name}: only in SQLite"));
                continue;
            }
        };
        let columns: BTreeSet<&String> = p.columns.keys().chain(s.columns.keys()).collect();
        for column in columns {
            let (pc, sc) = (p.columns.get(column), s.columns.get(column));
            if pc != sc {
                found.push(format!(
                    "{name}.{column}: PostgreSQL {pc:?}, SQLite {sc:?} ((type, nullable))"
                ));
            }
        }
        let indexes: BTreeSet<&String> = p.indexes.keys().chain(s.indexes.keys()).collect();
        for index in indexes {
            let (pi, si) = (p.indexes.get(index), s.indexes.get(index));
            if pi != si {
                found.push(format!(
                    "index {index} on {name}: PostgreSQL {pi:?}, SQLite {si:?} \
                     ((columns, unique, predicate))"
                ));
            }
        }
        let pairs = [
            (
                "primary key",
                format!("{:?}", p.primary_key),
                format!("{:?}", s.primary_key),
            ),
            (
                "unique constraints",
                format!("{:?}", p.unique),
                format!("{:?}", s.unique),
            ),
            (
                "foreign keys",
                format!("{:?}", p.foreign_keys),
                format!("{:?}", s.foreign_keys),
            ),
        ];
        for (what, pv, sv) in pairs {
            if pv != sv {
                found.push(format!("{name} {what}: PostgreSQL {pv}, SQLite {sv}"));
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_dialects_define_the_same_tables_columns_indexes_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let postgres = migrated("postgres", Backend::Production, dir.path()).await;
    let sqlite = migrated("sqlite", Backend::Embedded, dir.path()).await;
    let postgres = postgres_catalog(&postgres).await.unwrap();
    let sqlite = sqlite_catalog(&sqlite).await.unwrap();
    assert!(
        postgres.len() > 15 && postgres.contains_key("accounts"),
        "the catalog was read: {:?}",
        postgres.keys()
    );
    let found = differences(&postgres, &sqlite);
    assert!(
        found.is_empty(),
        "migrations/postgres and migrations/sqlite differ:\n{}",
        found.join("\n")
    );
}

#[tokio::test]
async fn both_dialects_have_the_same_migration_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files = Vec::new();
    for dialect in ["postgres", "sqlite"] {
        let migrator = Migrator::new(root.join(dialect)).await.unwrap();
        let names: Vec<(i64, String)> = migrator
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect();
        files.push(names);
    }
    assert_eq!(
        files[0], files[1],
        "each migration has its twin, same number and name"
    );
}
