//! Fuzzes tai64n's line handling.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::tai64n_props::tai64n_stamper(data));
