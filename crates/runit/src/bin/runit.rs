//! runit: stage init, to be run as process 1. See runit(8).
//!
//! Entered from C's main (see supervise_proto::start): as process 1 it
//! lives as long as the machine, so std's start-up pages are not kept.
#![no_main]

use std::ffi::{c_char, c_int};

use supervise_proto::start::{self, SigPipe};

#[no_mangle]
extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    start::init(SigPipe::Ignore);
    runit::runit_main()
}
