//! Fuzzes svlogd's line handling (-l, -r, -R).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::svlogd_props::lines(data));
