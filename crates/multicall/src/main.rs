//! runit-rs: the multicall binary (see the library for the dispatch).
//! Entered from C's main, like each program's own binary, so that no
//! start-up work of std's is done that the chosen program would not do.
#![no_main]

use std::ffi::{c_char, c_int};

// Out of memory: runit's message and exit 111 for the programs that set
// one (svlogd, as its own binary does); Rust's abort for the others.
#[global_allocator]
static ALLOC: supervise_proto::start::NomemExit = supervise_proto::start::NomemExit(b"");

/// Called by the C runtime only, with a valid argv of argc C strings.
#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: the C runtime passes main argc valid C strings.
    unsafe { multicall::main(argc, argv) }
}
