//! Fuzzes supervise/xstatus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::proto::xstatus(data));
