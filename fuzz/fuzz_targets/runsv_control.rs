//! Fuzzes control bytes fed to runsv's planner.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::proto::control_stream(data));
