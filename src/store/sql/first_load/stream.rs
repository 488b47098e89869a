//! Each establishment's directory rows sent with `COPY` as soon as the establishment is staged,
//! while the next exports are read and matched: a task owns the load's transaction and writes
//! what it is given, so PostgreSQL takes the rows in on the other CPU instead of all at the end.

use sqlx::{Postgres, Transaction};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::copy::Copy;

/// Tables' rows queued for the task (three per establishment): the reading waits beyond that.
const QUEUED: usize = 24;

/// The tables whose rows belong to one establishment, written as it is staged.
pub(super) const DIRECTORY_TABLES: [&str; 3] = ["enrolments", "persons", "links"];

enum Job {
    /// Rows for `COPY <target> FROM STDIN`.
    Copy(&'static str, Copy),
    /// An establishment staged a second time in the run: the rows sent for it before go.
    Forget(String),
}

pub(super) struct Stream {
    jobs: mpsc::Sender<Job>,
    /// Gives the transaction back once every job is written, or stops at the first error.
    task: Option<JoinHandle<anyhow::Result<Transaction<'static, Postgres>>>>,
}

impl Stream {
    pub(super) fn start(mut tx: Transaction<'static, Postgres>) -> Stream {
        let (jobs, mut queue) = mpsc::channel(QUEUED);
        let task = tokio::spawn(async move {
            while let Some(job) = queue.recv().await {
                match job {
                    Job::Copy(target, rows) => rows.send(&mut tx, target).await?,
                    Job::Forget(uai) => {
                        for table in DIRECTORY_TABLES {
                            sqlx::query(&format!("DELETE FROM {table} WHERE uai = $1"))
                                .bind(&uai)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                }
            }
            Ok(tx)
        });
        Stream {
            jobs,
            task: Some(task),
        }
    }

    pub(super) async fn copy(&mut self, target: &'static str, rows: Copy) -> anyhow::Result<()> {
        self.send(Job::Copy(target, rows)).await
    }

    pub(super) async fn forget(&mut self, uai: &str) -> anyhow::Result<()> {
        self.send(Job::Forget(uai.to_owned())).await
    }

    async fn send(&mut self, job: Job) -> anyhow::Result<()> {
        if self.jobs.send(job).await.is_ok() {
            return Ok(());
        }
        // The task stopped: its error says why.
        match self.task.take() {
            Some(task) => Err(task
                .await?
                .err()
                .unwrap_or_else(|| anyhow::anyhow!("first load: the writing task stopped"))),
            None => anyhow::bail!("first load: the writing task stopped"),
        }
    }

    /// The transaction, once everything sent is written.
    pub(super) async fn finish(self) -> anyhow::Result<Transaction<'static, Postgres>> {
        drop(self.jobs);
        match self.task {
            Some(task) => task.await?,
            None => anyhow::bail!("first load: the writing task stopped"),
        }
    }
}
