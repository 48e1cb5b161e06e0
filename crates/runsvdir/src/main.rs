// Entered from C's main: see supervise_proto::start for why and what
// that skips.
#![no_main]

use std::ffi::{c_char, c_int};

use supervise_proto::start::{self, SigPipe};

#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    start::init(SigPipe::Ignore);
    // SAFETY: the C runtime passes main a valid argv of argc strings.
    let args = unsafe { start::args(argc, argv) };
    runsvdir::run(&args)
}
