//! The chpst binary. `no_main`: Rust's start-up code would set SIGPIPE to
//! "ignore" and reopen closed standard descriptors, and the program chpst
//! execs would inherit both. chpst must pass its own state through
//! untouched, so it starts from C's main and reads argv directly (not
//! through supervise_proto::c_main!, whose start-up does both of those).
#![no_main]

use std::ffi::{c_char, c_int};

/// Called by the C runtime only, with a valid argv of argc C strings.
#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: the C runtime passes main argc valid C strings.
    let args = unsafe { supervise_proto::start::args(argc, argv) };
    let d = chpst::run(&args);
    chpst::die::write_stderr(&d.text);
    d.code
}
