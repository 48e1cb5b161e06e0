//! The calls chpst makes through the C library because rustix has no safe
//! form of them: execve, the environment it inherited (`environ`), and a
//! close of a standard descriptor that reports its error (rustix's close
//! discards it; runit prints it). Credentials and user lookups have their
//! own modules (privs, ids); everything else goes through rustix.

use std::ffi::{c_char, CStr, CString};
use std::io;

/// C strings and the NULL-terminated pointer array execve takes, built
/// together so the pointers cannot outlive the strings.
pub struct CArray {
    _strings: Vec<CString>,
    ptrs: Vec<*const c_char>,
}

impl CArray {
    pub fn new(strings: Vec<CString>) -> CArray {
        let mut ptrs: Vec<*const c_char> = strings.iter().map(|s| s.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        CArray {
            _strings: strings,
            ptrs,
        }
    }
}

/// Replaces the process image; returns only with the reason it could not.
pub fn execve(path: &CStr, argv: &CArray, envp: &CArray) -> io::Error {
    // SAFETY: `path` is a C string and both arrays are NULL-terminated
    // arrays of C strings owned by `argv` and `envp`, alive for the call.
    unsafe { libc::execve(path.as_ptr(), argv.ptrs.as_ptr(), envp.ptrs.as_ptr()) };
    io::Error::last_os_error()
}

extern "C" {
    static environ: *const *const c_char;
}

/// The inherited environment, entry by entry, in order (entries without
/// `=` included: they are passed on as runit passes them).
pub fn environment() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    // SAFETY: environ is the C library's NULL-terminated array of C
    // strings; chpst is single-threaded and never modifies it.
    unsafe {
        let mut p = environ;
        if p.is_null() {
            return out;
        }
        while !(*p).is_null() {
            out.push(CStr::from_ptr(*p).to_bytes().to_vec());
            p = p.add(1);
        }
    }
    out
}

/// Closes standard descriptor `fd` (0, 1 or 2) for -0, -1 and -2; an
/// already closed one is an error, as in runit.
pub fn close_standard(fd: u8) -> io::Result<()> {
    assert!(fd <= 2, "only a standard descriptor is closed by number");
    // SAFETY: nothing in chpst holds descriptors 0-2 as an owned object
    // (stderr is written through a fresh borrow each time), so closing
    // one invalidates no live handle.
    if unsafe { libc::close(i32::from(fd)) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
