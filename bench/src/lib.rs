//! The load driver of educonnect (see docs/benchmarks.md), as a library for the
//! `educonnect-bench` command, the criterion micro-benchmarks and the driver's own tests.

pub mod bounds;
pub mod http;
pub mod letters;
pub mod reference;
pub mod runner;
pub mod scenarios;
pub mod seed;
pub mod stats;
pub mod suite;
