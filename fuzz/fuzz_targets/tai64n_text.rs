//! Fuzzes TAI64N labels in text (`@` and 24 hex digits).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::proto::tai64n_text(data));
