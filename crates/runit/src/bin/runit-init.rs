//! runit-init: `init` for runit systems; `runit-init 0|6` halts or reboots.
//! See runit-init(8).
//!
//! Entered from C's main (see supervise_proto::start): as process 1 it
//! lives as long as the machine, so std's start-up pages are not kept.
#![no_main]

use std::ffi::{c_char, c_int};

use supervise_proto::start::{self, SigPipe};

#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    start::init(SigPipe::Ignore);
    // SAFETY: the C runtime passes main a valid argv of argc strings.
    let args = unsafe { start::args(argc, argv) };
    runit::initctl::main(&args)
}
