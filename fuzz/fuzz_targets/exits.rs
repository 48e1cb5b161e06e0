//! Fuzzes supervise/exits and max-death-tally.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::proto::exit_log(data));
