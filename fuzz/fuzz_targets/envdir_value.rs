//! Fuzzes an envdir file's contents.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::chpst_props::envdir_value(data));
