//! Fuzzes svlogd's config file.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::svlogd_props::config_file(data));
