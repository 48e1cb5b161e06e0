//! Fuzzes chpst's and softlimit's limit values.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::chpst_props::limit(data));
