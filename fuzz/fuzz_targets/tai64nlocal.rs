//! Fuzzes tai64nlocal's input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::tai64n_props::tai64nlocal(data));
