//! runsv's entry point. `no_main` skips std's start-up work (reading
//! /proc/self/maps for the stack guard, a signal stack for overflow
//! reports): pages that every one of the many runsv processes would
//! otherwise keep for its whole life.
#![no_main]

#[no_mangle]
extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    runsv::run(&args)
}
