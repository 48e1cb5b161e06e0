// Entered from C's main: see svlogd::start for why and what that skips.
#![no_main]

use std::ffi::{c_char, c_int};

#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    svlogd::start::init();
    // SAFETY: the C runtime passes main a valid argv of argc strings.
    let args = unsafe { svlogd::start::args(argc, argv) };
    svlogd::main_with(args)
}
