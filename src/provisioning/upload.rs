//! Siècle uploads (`POST /admin/imports/siecle`), bounded (review #13, finding 4): at most
//! `admin.max_concurrent_imports` at once (the next one is turned away, not queued), each within
//! `admin.import_deadline_seconds` from the moment it is admitted (body, read and write), and all
//! interrupted when the server stops. An interrupted upload writes nothing: its read stops at the
//! reader's next look at its `Interrupt`, its transaction is dropped, so rolled back.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::{accept, import_establishment, Outcome};
use crate::siecle::{read_establishment_bytes_within, Export, Interrupt, Interruption, Limits};
use crate::store::DirectoryStore;

/// Why an upload was not carried out.
#[derive(Debug)]
pub enum UploadError {
    /// Every slot is taken.
    Busy,
    Interrupted(Interruption),
    Internal(anyhow::Error),
}

impl From<Interruption> for UploadError {
    fn from(why: Interruption) -> UploadError {
        UploadError::Interrupted(why)
    }
}

impl From<anyhow::Error> for UploadError {
    fn from(error: anyhow::Error) -> UploadError {
        UploadError::Internal(error)
    }
}

/// The uploads of one replica.
pub struct Uploads {
    capacity: usize,
    slots: Arc<Semaphore>,
    deadline: Duration,
    limits: Limits,
    /// Read by the reading threads.
    stop: Arc<AtomicBool>,
    /// Awaited by the uploads' futures.
    stopping: watch::Sender<bool>,
}

impl Uploads {
    pub fn new(concurrent: usize, deadline: Duration, limits: Limits) -> Uploads {
        Uploads {
            capacity: concurrent,
            slots: Arc::new(Semaphore::new(concurrent)),
            deadline,
            limits,
            stop: Arc::new(AtomicBool::new(false)),
            stopping: watch::Sender::new(false),
        }
    }

    /// Review #13.4: a slot, or `Busy` at once when every slot is taken.
    pub fn admit(&self) -> Result<Slot<'_>, UploadError> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(Interruption::Stopping.into());
        }
        let permit = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| UploadError::Busy)?;
        Ok(Slot {
            uploads: self,
            deadline: Instant::now() + self.deadline,
            _permit: permit,
        })
    }

    /// Uploads admitted and not finished.
    pub fn under_way(&self) -> usize {
        self.capacity - self.slots.available_permits()
    }

    /// Review #13.4: the server stops; every upload under way is interrupted, and no new one is
    /// admitted.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.stopping.send_replace(true);
    }
}

/// One admitted upload; its slot is freed when it is dropped.
pub struct Slot<'a> {
    uploads: &'a Uploads,
    deadline: Instant,
    _permit: OwnedSemaphorePermit,
}

impl Slot<'_> {
    /// `work`, unless the deadline passes or the server stops first (then it is dropped).
    pub async fn within<T>(&self, work: impl Future<Output = T>) -> Result<T, Interruption> {
        let mut stopping = self.uploads.stopping.subscribe();
        tokio::select! {
            done = work => Ok(done),
            _ = tokio::time::sleep_until(self.deadline) => Err(Interruption::Deadline),
            _ = stopping.wait_for(|stop| *stop) => Err(Interruption::Stopping),
        }
    }

    /// Reads and checks the two files on a blocking thread, within the slot's deadline: the
    /// export, or the refusal to answer (nothing written). Split from `write` so that the caller
    /// can look at the export (whose establishment it is) before anything is written.
    pub async fn read(
        &self,
        pupils: impl AsRef<[u8]> + Send + 'static,
        guardians: impl AsRef<[u8]> + Send + 'static,
        skip_invalid: bool,
    ) -> Result<Result<Export, Box<Outcome>>, UploadError> {
        let interrupt = Interrupt::new(self.deadline.into_std(), self.uploads.stop.clone());
        let limits = self.uploads.limits.clone();
        let reading = interrupt.clone();
        let read = tokio::task::spawn_blocking(move || {
            let read = read_establishment_bytes_within(
                pupils.as_ref(),
                guardians.as_ref(),
                &limits,
                &reading,
            );
            accept("envoi".to_owned(), read, skip_invalid, &limits)
        });
        // Past the deadline the thread goes on to its next look at `interrupt`, then ends.
        let read = self.within(read).await?.map_err(anyhow::Error::from)?;
        if let Some(why) = interrupt.fired() {
            return Err(why.into());
        }
        Ok(read)
    }

    /// Imports an export `read` accepted, as `import siecle` does, within the slot's deadline.
    pub async fn write(
        &self,
        store: &dyn DirectoryStore,
        export: &Export,
        now_ms: i64,
    ) -> Result<Outcome, UploadError> {
        let written = import_establishment(store, export, "api", now_ms);
        Ok(Outcome::Imported(self.within(written).await??))
    }
}
