//! The chpst binary. `no_main`: Rust's start-up code would set SIGPIPE to
//! "ignore" and reopen closed standard descriptors, and the program chpst
//! execs would inherit both. chpst must pass its own state through
//! untouched, so it starts from C's main and reads argv directly.
#![no_main]

use std::ffi::CStr;

/// # Safety
/// Called by the C runtime with a valid argv of argc C strings.
#[no_mangle]
pub unsafe extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    let args: Vec<Vec<u8>> = (0..argc.max(0) as usize)
        // SAFETY: the C runtime passes argc valid C strings.
        .map(|i| unsafe { CStr::from_ptr(*argv.add(i)) }.to_bytes().to_vec())
        .collect();
    let d = chpst::run(&args);
    chpst::die::write_stderr(&d.text);
    d.code
}
