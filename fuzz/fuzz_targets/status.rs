//! Fuzzes supervise/status: runit's 20 bytes and daemontools' 18.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::proto::status(data));
