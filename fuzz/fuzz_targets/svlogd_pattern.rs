//! Fuzzes svlogd's pattern language.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::svlogd_props::pattern(data));
