//! Latency histograms and error counts per scenario.

use std::time::Duration;

use hdrhistogram::Histogram;

pub struct Stats {
    /// Microseconds.
    pub latency: Histogram<u64>,
    pub errors: u64,
    /// The first few distinct error messages, to show what failed.
    pub samples: Vec<String>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            latency: Histogram::new_with_bounds(1, 120_000_000, 3).expect("histogram bounds"),
            errors: 0,
            samples: Vec::new(),
        }
    }
}

impl Stats {
    pub fn ok(&mut self, elapsed: Duration) {
        let micros = (elapsed.as_micros() as u64).clamp(1, 120_000_000);
        self.latency.record(micros).expect("within bounds");
    }

    pub fn error(&mut self, error: &anyhow::Error) {
        self.errors += 1;
        let message = format!("{error:#}");
        if self.samples.len() < 5 && !self.samples.contains(&message) {
            self.samples.push(message);
        }
    }

    pub fn merge(&mut self, other: Stats) {
        self.latency.add(&other.latency).expect("same bounds");
        self.errors += other.errors;
        for s in other.samples {
            if self.samples.len() < 5 && !self.samples.contains(&s) {
                self.samples.push(s);
            }
        }
    }

    pub fn count(&self) -> u64 {
        self.latency.len()
    }

    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }
}
