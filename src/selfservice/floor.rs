//! A floor under the response time of the answers that must not tell an existing account, number
//! or address from an unknown one (issue #17, no enumeration). The page is the same bytes in
//! both cases; the work is not (a message queued, a code issued), so the answer waits until the
//! floor has passed since the request arrived. Measured in
//! `tests/protocol/recovery_enumeration.rs`.
//!
//! Real time, not the injected clock: this is about what a stopwatch on the other side sees.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// Runs `work`, then waits until `floor` has passed since `started`. Work that took longer than
/// the floor is counted (`educonnect_selfservice_floor_overruns_total`): the floor is then too
/// low for this machine and timing could tell the cases apart.
pub async fn answered_after<F: Future>(started: Instant, floor: Duration, work: F) -> F::Output {
    let output = work.await;
    let deadline = started + floor;
    if Instant::now() > deadline {
        metrics::counter!("educonnect_selfservice_floor_overruns_total").increment(1);
        tracing::warn!("self-service answer slower than its response floor");
    }
    tokio::time::sleep_until(deadline).await;
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn quick_work_waits_for_the_floor_and_keeps_its_result() {
        let started = Instant::now();
        let value = answered_after(started, Duration::from_millis(60), async { 7 }).await;
        assert_eq!(value, 7);
        assert!(started.elapsed() >= Duration::from_millis(60));
    }
}
