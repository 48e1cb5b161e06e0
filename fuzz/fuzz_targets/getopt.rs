//! Fuzzes the option scanner with every program's option string.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::proto::getopt(data));
