//! Issue #17, no enumeration: the self-registration's answer to a known number (a code issued,
//! an SMS queued) and to an unknown one are the same bytes apart from the flow's tokens, and
//! their median times are within 5 % (the response floor, `selfservice::floor`).

use std::time::{Duration, Instant};

use crate::common::{Backend, TestOp};
use crate::on_both_backends;
use crate::registration::{demo_siecle, without_tokens, Person, NUMBER};

on_both_backends!(known_and_unknown_numbers_get_the_same_bytes_in_the_same_time);

const ROUNDS: usize = 15;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

async fn known_and_unknown_numbers_get_the_same_bytes_in_the_same_time(backend: Backend) {
    let op = TestOp::start_with(backend, |c| {
        c.selfservice.response_floor_ms = 150;
        c.selfservice.starts_per_address_per_minute = 100;
        c.codes.sends_per_hour = 100;
        c.sms.per_number_per_day = 100;
        c.sms.per_address_per_day = 100;
    })
    .await;
    op.import_siecle(&demo_siecle()).await;
    let (mut known_times, mut unknown_times) = (Vec::new(), Vec::new());
    let mut pages = (None, None);
    for _ in 0..ROUNDS {
        for (number, times, seen) in [
            (NUMBER, &mut known_times, &mut pages.0),
            ("07 11 11 01 03", &mut unknown_times, &mut pages.1),
        ] {
            let mut person = Person::new();
            let began = Instant::now();
            let (status, page) = person.start(&op, number).await;
            times.push(began.elapsed());
            assert_eq!(status, 200);
            let page = without_tokens(&page, &person).replace("07 ••", "06 ••");
            match seen {
                Some(first) => assert_eq!(first, &page),
                None => *seen = Some(page),
            }
        }
    }
    assert_eq!(pages.0, pages.1, "byte-identical apart from tokens");
    // The two cases did differ behind the page: the known number was texted every time, the
    // unknown one never.
    let queued = op.app.durable.recent_messages(1000).await.unwrap();
    let to = |n: &str| queued.iter().filter(|q| q.message.recipient == n).count();
    assert_eq!(to("0639980103"), ROUNDS);
    assert_eq!(to("0711110103"), 0);
    let (known, unknown) = (median(known_times), median(unknown_times));
    let gap = known.abs_diff(unknown).as_secs_f64() / known.max(unknown).as_secs_f64();
    assert!(
        gap < 0.05,
        "medians {known:?} and {unknown:?} differ by {gap:.3}"
    );
}
