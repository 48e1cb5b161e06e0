//! Fuzzes svlogd's command line (-l, -b limits).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::svlogd_props::command_line(data));
