//! Any bytes given to the Siècle reader, as either of an establishment's two files (the other
//! one a valid sample): it answers an export or a refusal, never panics, and stays within its
//! limits (libFuzzer's -rss_limit_mb and -timeout catch the rest).

#![no_main]

use libfuzzer_sys::fuzz_target;

const PUPILS: &[u8] =
    include_bytes!("../../../shared/fixtures/siecle/sample/2530829B/ElevesSansAdresses.xml");
const GUARDIANS: &[u8] =
    include_bytes!("../../../shared/fixtures/siecle/sample/2530829B/ResponsablesAvecAdresses.xml");

fuzz_target!(|data: &[u8]| {
    let _ = educonnect::siecle::read_establishment_bytes(data, GUARDIANS);
    let _ = educonnect::siecle::read_establishment_bytes(PUPILS, data);
});
