//! `COPY`'s text format, and tables loaded without their indexes.

use std::io::Write;

use sqlx::postgres::PgCopyIn;
use sqlx::{PgConnection, Row};

/// Rows in `COPY`'s text format, sent in one `COPY ... FROM STDIN`.
#[derive(Default)]
pub(super) struct Copy {
    data: Vec<u8>,
    /// A field already written on the current line.
    open: bool,
}

impl Copy {
    /// The tab before every field but a line's first.
    fn separate(&mut self) {
        if self.open {
            self.data.push(b'\t');
        }
        self.open = true;
    }

    pub(super) fn field(&mut self, value: Option<&str>) {
        self.separate();
        let Some(value) = value else {
            self.data.extend_from_slice(b"\\N");
            return;
        };
        let mut rest = value.as_bytes();
        while let Some(at) = rest
            .iter()
            .position(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
        {
            self.data.extend_from_slice(&rest[..at]);
            self.data.extend_from_slice(match rest[at] {
                b'\\' => b"\\\\",
                b'\t' => b"\\t",
                b'\n' => b"\\n",
                _ => b"\\r",
            });
            rest = &rest[at + 1..];
        }
        self.data.extend_from_slice(rest);
    }

    /// Text fields.
    pub(super) fn row<'a>(&mut self, values: impl IntoIterator<Item = Option<&'a str>>) {
        for value in values {
            self.field(value);
        }
    }

    /// Integer fields.
    pub(super) fn ints(&mut self, values: impl IntoIterator<Item = Option<i64>>) {
        for value in values {
            match value {
                Some(v) => {
                    self.separate();
                    write!(self.data, "{v}").expect("writing to a vector");
                }
                None => self.field(None),
            }
        }
    }

    pub(super) fn end(&mut self) {
        self.data.push(b'\n');
        self.open = false;
    }

    pub(super) async fn send(self, tx: &mut PgConnection, target: &str) -> anyhow::Result<()> {
        if self.data.is_empty() {
            return Ok(());
        }
        let mut copy = CopyIn::start(tx, target).await?;
        copy.rows = self;
        copy.finish().await
    }
}

/// Rows sent to PostgreSQL as they are encoded, a megabyte at a time.
const CHUNK: usize = 1 << 20;

/// A `COPY ... FROM STDIN` under way: the rows encoded into `rows` go out a chunk at a time, so
/// PostgreSQL takes one in while the next is encoded.
pub(super) struct CopyIn<'c> {
    copy: PgCopyIn<&'c mut PgConnection>,
    pub(super) rows: Copy,
}

impl<'c> CopyIn<'c> {
    pub(super) async fn start(tx: &'c mut PgConnection, target: &str) -> anyhow::Result<Self> {
        Ok(CopyIn {
            copy: tx.copy_in_raw(&format!("COPY {target} FROM STDIN")).await?,
            rows: Copy::default(),
        })
    }

    /// Ends the row encoded into `rows`, and sends what is encoded once a chunk is full.
    pub(super) async fn end(&mut self) -> anyhow::Result<()> {
        self.rows.end();
        if self.rows.data.len() >= CHUNK {
            let full = std::mem::replace(&mut self.rows.data, Vec::with_capacity(CHUNK + 4096));
            self.copy.send(full).await?;
        }
        Ok(())
    }

    pub(super) async fn finish(mut self) -> anyhow::Result<()> {
        let rows = std::mem::take(&mut self.rows.data);
        for chunk in rows.chunks(CHUNK) {
            self.copy.send(chunk).await?;
        }
        self.copy.finish().await?;
        Ok(())
    }
}

/// The indexes and constraints of tables loaded without them: as the catalog defines them (the
/// migrations stay the one place that does), dropped, then built again in the same transaction.
pub(super) struct Rebuild {
    /// Statements that build the tables' own indexes and constraints again, in order.
    statements: Vec<String>,
    /// Then the foreign keys that point at them.
    foreign: Vec<String>,
}

impl Rebuild {
    pub(super) async fn drop(
        tx: &mut PgConnection,
        tables: &[(&str, bool)],
    ) -> anyhow::Result<Rebuild> {
        // Foreign keys that point at a table hold on to its unique index: dropped first, and
        // added back last.
        let mut drops = Vec::new();
        let mut builds = Vec::new();
        let mut foreign = Vec::new();
        let mut foreign_drops = Vec::new();
        for (table, _) in tables.iter().filter(|(_, rebuild)| *rebuild) {
            for row in sqlx::query(
                "SELECT conrelid::regclass::text AS owner, quote_ident(conname) AS name,
                     pg_get_constraintdef(oid) AS def
                 FROM pg_constraint WHERE confrelid = $1::regclass AND contype = 'f'",
            )
            .bind(table)
            .fetch_all(&mut *tx)
            .await?
            {
                let (owner, name, def): (String, String, String) = (
                    row.try_get("owner")?,
                    row.try_get("name")?,
                    row.try_get("def")?,
                );
                foreign_drops.push(format!("ALTER TABLE {owner} DROP CONSTRAINT {name}"));
                foreign.push(format!("ALTER TABLE {owner} ADD CONSTRAINT {name} {def}"));
            }
            for row in sqlx::query(
                "SELECT quote_ident(conname) AS name, pg_get_constraintdef(oid) AS def
                 FROM pg_constraint WHERE conrelid = $1::regclass AND contype IN ('p', 'u')",
            )
            .bind(table)
            .fetch_all(&mut *tx)
            .await?
            {
                let (name, def): (String, String) = (row.try_get("name")?, row.try_get("def")?);
                drops.push(format!("ALTER TABLE {table} DROP CONSTRAINT {name}"));
                builds.push(format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def}"));
            }
            for row in sqlx::query(
                "SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS def
                 FROM pg_index i WHERE indrelid = $1::regclass
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            )
            .bind(table)
            .fetch_all(&mut *tx)
            .await?
            {
                let (name, def): (String, String) = (row.try_get("name")?, row.try_get("def")?);
                drops.push(format!("DROP INDEX {name}"));
                builds.push(def);
            }
        }
        for statement in foreign_drops.iter().chain(&drops) {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        Ok(Rebuild {
            statements: builds,
            foreign,
        })
    }

    /// What `other` dropped too, built after this one's.
    pub(super) fn and(mut self, other: Rebuild) -> Rebuild {
        self.statements.extend(other.statements);
        self.foreign.extend(other.foreign);
        self
    }

    pub(super) async fn build(self, tx: &mut PgConnection) -> anyhow::Result<()> {
        for statement in self.statements.iter().chain(&self.foreign) {
            let started = std::time::Instant::now();
            sqlx::query(statement).execute(&mut *tx).await?;
            tracing::debug!(
                statement,
                ms = started.elapsed().as_millis() as u64,
                "rebuilt"
            );
        }
        Ok(())
    }
}
