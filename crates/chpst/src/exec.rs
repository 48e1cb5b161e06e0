//! Running the program: execve through $PATH, as runit does it.
//!
//! The search path is the PATH chpst itself inherited, not one set by an
//! envdir (runit reads it from its own environment; an envdir cannot
//! redirect which binary runs). Without PATH the search is /bin:/usr/bin;
//! an empty element means the current directory. The search goes on past
//! "not found", "access denied", "permission denied" and "is a directory",
//! remembering the last of those three, and stops at any other error.
//! No shell fallback for files without a #! line.

use std::ffi::{CString, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;

use rustix::io::Errno;

use crate::sys::{execve, CArray};

fn cstring(b: &[u8]) -> CString {
    // Arguments come from C strings or from file contents that stop at
    // NUL; should one still contain NUL, cut it there as C would.
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    CString::new(&b[..end]).unwrap_or_default()
}

fn errno(e: &io::Error) -> Errno {
    Errno::from_raw_os_error(e.raw_os_error().unwrap_or(0))
}

/// Replaces the process with `file`, run with `argv` and `envp`; returns
/// the error when that was impossible. `path` is the inherited PATH.
pub fn exec(file: &[u8], argv: &[OsString], envp: &[Vec<u8>], path: Option<&[u8]>) -> io::Error {
    let argv = CArray::new(argv.iter().map(|a| cstring(a.as_bytes())).collect());
    let envp = CArray::new(envp.iter().map(|e| cstring(e)).collect());
    let try_exec = |p: &[u8]| execve(&cstring(p), &argv, &envp);

    if file.contains(&b'/') {
        return try_exec(file);
    }
    let path = path.unwrap_or(b"/bin:/usr/bin");
    let mut saved: Option<io::Error> = None;
    let mut last = io::Error::from(Errno::NOENT);
    for dir in path.split(|&b| b == b':') {
        let mut candidate = if dir.is_empty() {
            b".".to_vec()
        } else {
            dir.to_vec()
        };
        candidate.push(b'/');
        candidate.extend_from_slice(file);
        let e = try_exec(&candidate);
        let code = errno(&e);
        if code != Errno::NOENT {
            if !matches!(code, Errno::ACCESS | Errno::PERM | Errno::ISDIR) {
                return e;
            }
            saved = Some(io::Error::from(code));
        }
        last = e;
    }
    saved.unwrap_or(last)
}
