//! `COPY`'s text format, and tables loaded without their indexes.

use sqlx::{PgConnection, Row};

/// Rows in `COPY`'s text format, sent in one `COPY ... FROM STDIN`.
#[derive(Default)]
pub(super) struct Copy {
    data: Vec<u8>,
    /// A field already written on the current line.
    open: bool,
}

impl Copy {
    pub(super) fn field(&mut self, value: Option<&str>) {
        if self.open {
            self.data.push(b'\t');
        }
        self.open = true;
        let Some(value) = value else {
            self.data.extend_from_slice(b"\\N");
            return;
        };
        for byte in value.bytes() {
            match byte {
                b'\\' => self.data.extend_from_slice(b"\\\\"),
                b'\t' => self.data.extend_from_slice(b"\\t"),
                b'\n' => self.data.extend_from_slice(b"\\n"),
                b'\r' => self.data.extend_from_slice(b"\\r"),
                other => self.data.push(other),
            }
        }
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
            self.field(value.map(|v| v.to_string()).as_deref());
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
        let mut copy = tx.copy_in_raw(&format!("COPY {target} FROM STDIN")).await?;
        for chunk in self.data.chunks(1 << 20) {
            copy.send(chunk).await?;
        }
        copy.finish().await?;
        Ok(())
    }
}

/// The indexes and constraints of tables loaded without them: as the catalog defines them (the
/// migrations stay the one place that does), dropped, then built again in the same transaction.
pub(super) struct Rebuild {
    /// Statements that build them again, in order.
    statements: Vec<String>,
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
        builds.extend(foreign);
        Ok(Rebuild { statements: builds })
    }

    pub(super) async fn build(self, tx: &mut PgConnection) -> anyhow::Result<()> {
        for statement in &self.statements {
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
