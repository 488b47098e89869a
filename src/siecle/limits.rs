//! The bounds on the work one Siècle file may cause (review #13, finding 4: an upload of many
//! attributes, deep nesting or millions of tiny elements took minutes of CPU or gigabytes of
//! memory). `Limits` holds every bound in one place, sized far above the largest real
//! establishment; `Budget` counts one file against them while it is read; `Interrupt` stops a read
//! past its deadline or when the server stops.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use quick_xml::events::BytesStart;

use super::FileError;

/// What one file may hold. The defaults leave a wide margin over the largest establishments
/// (about 5,000 pupils: some 230,000 elements and 25,000 records in the guardians file, up to
/// 10 guardian records for a pupil).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Attributes on one element (real exports: 2 at most, `ELEVE_ID` and `ELENOET`).
    pub attributes_per_element: usize,
    /// Elements open at once, the root included (real exports: 6).
    pub depth: usize,
    /// Elements in one file, known or not.
    pub elements_per_file: usize,
    /// Records (`ELEVE`, `PERSONNE`...) and sub-records (`STRUCTURE`) in one file.
    pub records_per_file: usize,
    /// Child elements of one record (a real `ELEVE` has about 40).
    pub children_per_record: usize,
    /// Problems listed when an export is refused; the others are counted in a last line.
    pub problems_listed: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            attributes_per_element: 64,
            depth: 32,
            elements_per_file: 5_000_000,
            records_per_file: 200_000,
            children_per_record: 256,
            problems_listed: 100,
        }
    }
}

/// Why a read stopped before the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interruption {
    /// The import's deadline (`admin.import_deadline_seconds`) passed.
    Deadline,
    /// The server is stopping.
    Stopping,
}

impl Interruption {
    pub fn describe(self) -> &'static str {
        match self {
            Interruption::Deadline => {
                "import interrompu : délai dépassé (admin.import_deadline_seconds)"
            }
            Interruption::Stopping => "import interrompu : le serveur s'arrête",
        }
    }
}

/// When a read must stop: at a deadline (a monotonic instant: a resource bound, not a decision
/// on the data, so not the injected clock), or once `stop` is set.
#[derive(Clone, Debug, Default)]
pub struct Interrupt {
    deadline: Option<Instant>,
    stop: Option<Arc<AtomicBool>>,
}

impl Interrupt {
    /// A read that runs to its end (the command line, tests).
    pub fn never() -> Interrupt {
        Interrupt::default()
    }

    pub fn new(deadline: Instant, stop: Arc<AtomicBool>) -> Interrupt {
        Interrupt {
            deadline: Some(deadline),
            stop: Some(stop),
        }
    }

    /// Why the read must stop now, if it must.
    pub fn fired(&self) -> Option<Interruption> {
        if self
            .stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
        {
            return Some(Interruption::Stopping);
        }
        self.deadline
            .filter(|d| Instant::now() >= *d)
            .map(|_| Interruption::Deadline)
    }
}

/// Events between two looks at the interrupt (a look reads the clock).
const EVENTS_PER_LOOK: usize = 1024;

/// One file counted against `Limits` while it is read.
pub struct Budget<'a> {
    pub limits: &'a Limits,
    interrupt: &'a Interrupt,
    file: &'a str,
    events: usize,
    elements: usize,
    records: usize,
}

impl<'a> Budget<'a> {
    pub fn new(file: &'a str, limits: &'a Limits, interrupt: &'a Interrupt) -> Budget<'a> {
        Budget {
            limits,
            interrupt,
            file,
            events: 0,
            elements: 0,
            records: 0,
        }
    }

    fn refuse(&self, line: usize, message: String) -> FileError {
        FileError::new(self.file, line, message)
    }

    /// Review #13.4: a read past its deadline, or while the server stops, ends at once (the
    /// first event included, so a deadline already passed reads nothing).
    pub fn event(&mut self, line: usize) -> Result<(), FileError> {
        self.events += 1;
        if self.events % EVENTS_PER_LOOK != 1 {
            return Ok(());
        }
        match self.interrupt.fired() {
            Some(why) => Err(self.refuse(line, why.describe().to_owned())),
            None => Ok(()),
        }
    }

    /// An element starts (`depth`: open elements with it). Each bound checked in turn.
    pub fn element(
        &mut self,
        line: usize,
        name: &str,
        depth: usize,
        element: &BytesStart<'_>,
    ) -> Result<(), FileError> {
        self.element_count(line, name)?;
        self.depth(line, name, depth)?;
        self.attribute_count(line, name, element)
    }

    /// Review #13.4: millions of tiny elements are refused, known or not.
    fn element_count(&mut self, line: usize, name: &str) -> Result<(), FileError> {
        self.elements += 1;
        if self.elements > self.limits.elements_per_file {
            return Err(self.refuse(
                line,
                format!(
                    "<{name}> : plus de {} éléments dans le fichier",
                    self.limits.elements_per_file
                ),
            ));
        }
        Ok(())
    }

    /// Review #13.4: nesting is bounded (the reader keeps every open element).
    fn depth(&self, line: usize, name: &str, depth: usize) -> Result<(), FileError> {
        if depth > self.limits.depth {
            return Err(self.refuse(
                line,
                format!(
                    "<{name}> : plus de {} éléments imbriqués",
                    self.limits.depth
                ),
            ));
        }
        Ok(())
    }

    /// Review #13.4: attributes are counted without quick-xml's duplicate check (quadratic in
    /// their number), and refused past the bound before any is read with it.
    fn attribute_count(
        &self,
        line: usize,
        name: &str,
        element: &BytesStart<'_>,
    ) -> Result<(), FileError> {
        let bound = self.limits.attributes_per_element;
        let count = element
            .attributes()
            .with_checks(false)
            .take(bound + 1)
            .count();
        if count > bound {
            return Err(self.refuse(
                line,
                format!("<{name}> : plus de {bound} attributs sur un élément"),
            ));
        }
        Ok(())
    }

    /// Review #13.4: records are what the reader keeps; their number is bounded.
    pub fn record(&mut self, line: usize, name: &str) -> Result<(), FileError> {
        self.records += 1;
        if self.records > self.limits.records_per_file {
            return Err(self.refuse(
                line,
                format!(
                    "<{name}> : plus de {} fiches dans le fichier",
                    self.limits.records_per_file
                ),
            ));
        }
        Ok(())
    }

    /// Review #13.4: a record's child elements (`children` with this one) are bounded.
    pub fn child(
        &self,
        line: usize,
        record: &str,
        record_line: usize,
        children: usize,
    ) -> Result<(), FileError> {
        if children > self.limits.children_per_record {
            return Err(self.refuse(
                line,
                format!(
                    "<{record}> (ligne {record_line}) : plus de {} éléments dans une fiche",
                    self.limits.children_per_record
                ),
            ));
        }
        Ok(())
    }
}
