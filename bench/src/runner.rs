//! Runs groups of workers side by side for a fixed time and collects their figures. A plain
//! scenario is one group; the login flood runs login with probes of the light endpoints.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::http::Conn;
use crate::scenarios::{Scenario, Target, Worker};
use crate::stats::Stats;

/// `connections` workers of `scenario`, each as fast as it can or, with `pace`, one operation
/// per `pace` (a probe measuring latency without adding load).
#[derive(Clone, Copy, Debug)]
pub struct Group {
    pub scenario: Scenario,
    pub connections: usize,
    pub pace: Option<Duration>,
}

pub struct Outcome {
    pub group: Group,
    pub stats: Stats,
    pub elapsed: Duration,
    /// Workers that could not even prepare (their error is in `stats`).
    pub failed_workers: usize,
}

/// Connections for `scenario`: logins have their own count (each holds a hashing thread for
/// a whole argon2 verification), every other scenario `others`.
pub fn connections_for(scenario: Scenario, others: usize, logins: usize) -> usize {
    if scenario == Scenario::Login {
        logins
    } else {
        others
    }
}

impl Outcome {
    pub fn rate(&self) -> f64 {
        self.stats.count() as f64 / self.elapsed.as_secs_f64()
    }

    /// `| scenario | connections | ops/s | p50 ms | p99 ms | errors |` as a markdown table row.
    pub fn row(&self) -> String {
        format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {} |",
            self.group.scenario.name(),
            self.group.connections,
            self.rate(),
            self.stats.quantile_ms(0.5),
            self.stats.quantile_ms(0.99),
            self.stats.errors
        )
    }
}

/// Prepares every worker, then runs all of them for `warmup` (not measured) and `duration`.
pub async fn run(
    target: Arc<Target>,
    groups: &[Group],
    warmup: Duration,
    duration: Duration,
) -> Vec<Outcome> {
    let mut handles = Vec::new();
    let start_gate = Arc::new(tokio::sync::Barrier::new(
        groups.iter().map(|g| g.connections).sum::<usize>() + 1,
    ));
    for (index, group) in groups.iter().enumerate() {
        for _ in 0..group.connections {
            let target = target.clone();
            let gate = start_gate.clone();
            let scenario = group.scenario;
            let pace = group.pace;
            handles.push((
                index,
                tokio::spawn(async move {
                    let mut conn = Conn::new(target.addr);
                    let mut stats = Stats::default();
                    let worker = Worker::prepare(scenario, &target, &mut conn).await;
                    gate.wait().await;
                    let mut worker = match worker {
                        Ok(w) => w,
                        Err(e) => {
                            stats.error(&e.context("prepare"));
                            return (stats, true);
                        }
                    };
                    let begin = Instant::now();
                    let measure_from = begin + warmup;
                    let end = measure_from + duration;
                    let mut ticks = pace.map(|p| {
                        let mut t = tokio::time::interval(p);
                        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                        t
                    });
                    loop {
                        if let Some(t) = ticks.as_mut() {
                            t.tick().await;
                        }
                        let started = Instant::now();
                        if started >= end {
                            break;
                        }
                        let result = worker.step(&target, &mut conn).await;
                        // Completions inside the window count (throughput = completions per
                        // second), whenever the operation started.
                        let done = Instant::now();
                        if done >= measure_from && done <= end {
                            match result {
                                Ok(()) => stats.ok(started.elapsed()),
                                Err(e) => stats.error(&e),
                            }
                        }
                    }
                    (stats, false)
                }),
            ));
        }
    }
    start_gate.wait().await;
    let mut outcomes: Vec<Outcome> = groups
        .iter()
        .map(|g| Outcome {
            group: *g,
            stats: Stats::default(),
            elapsed: duration,
            failed_workers: 0,
        })
        .collect();
    for (index, handle) in handles {
        let (stats, failed) = handle.await.expect("worker panicked");
        outcomes[index].stats.merge(stats);
        outcomes[index].failed_workers += usize::from(failed);
    }
    outcomes
}
