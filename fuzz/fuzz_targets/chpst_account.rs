//! Fuzzes chpst's user:group arguments.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::chpst_props::account(data));
