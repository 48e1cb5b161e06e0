//! Fuzzes chpst's command line.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::chpst_props::command_line(data));
