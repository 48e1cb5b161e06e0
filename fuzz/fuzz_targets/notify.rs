//! Fuzzes a notification datagram (sd_notify) and a notification-fd file.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::proto::notify(data));
