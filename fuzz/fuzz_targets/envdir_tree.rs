//! Fuzzes an envdir directory (names, files, FIFOs, subdirectories).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::chpst_props::envdir_tree(data));
