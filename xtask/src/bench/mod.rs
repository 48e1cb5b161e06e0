//! Benchmarks, each comparing our binaries with the reference runit 2.1.2
//! in the same run and printing ratios. Never run by `make check`.
//!
//! To add one: write `bench/NAME.rs` with `pub fn run(ctx: &Ctx)`, and add
//! it to `BENCHES`.

mod chpst;
pub mod common;
mod crashloop;
mod floor;
mod idle;
mod latency;
mod readiness;
mod runit;
mod runsvdir;
mod sizes;
mod stopping;
mod supervise;
mod svlogd;
mod svtools;

pub use common::Ctx;

type Bench = (&'static str, fn(&Ctx));

/// Every benchmark, by name, in the order `make bench` runs them.
const BENCHES: &[Bench] = &[
    ("supervise", supervise::run),
    ("readiness", readiness::run),
    ("latency", latency::run),
    ("chpst", chpst::run),
    ("svtools", svtools::run),
    ("runit", runit::run),
    ("svlogd", svlogd::run),
    ("runsvdir", runsvdir::run),
    ("idle", idle::run),
    ("stopping", stopping::run),
    ("crashloop", crashloop::run),
    ("sizes", sizes::run),
];

pub fn names() -> Vec<&'static str> {
    BENCHES.iter().map(|(n, _)| *n).collect()
}

pub fn run(args: &[String]) -> i32 {
    let ctx = match Ctx::new() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bench: {e}");
            return 111;
        }
    };
    ctx.header();
    for (name, f) in BENCHES {
        if args.is_empty() || args.iter().any(|a| a == name) {
            println!("\n## {name}");
            f(&ctx);
        }
    }
    0
}
