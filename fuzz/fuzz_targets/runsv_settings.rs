//! Fuzzes runsv's setting files (restart-delay-max, restart-limit, down-signal, timeout-kill, grouping, cgroup).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runit_props::proto::runsv_settings(data));
