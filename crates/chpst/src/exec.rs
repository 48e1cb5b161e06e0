//! Running the program: execve through $PATH, as runit does it.
//!
//! The search path is the PATH chpst itself inherited, not one set by an
//! envdir (runit reads it from its own environment; an envdir cannot
//! redirect which binary runs). Without PATH the search is /bin:/usr/bin;
//! an empty element means the current directory. The search goes on past
//! "not found", "access denied", "permission denied" and "is a directory",
//! remembering the last of those three, and stops at any other error.
//! No shell fallback for files without a #! line.

use std::ffi::CString;
use std::io;

fn cstring(b: &[u8]) -> CString {
    // Arguments come from C strings or from file contents that stop at
    // NUL; should one still contain NUL, cut it there as C would.
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    CString::new(&b[..end]).expect("no NUL")
}

/// Replaces the process with `file`, run with `argv` and `envp`; returns
/// the error when that was impossible. `path` is the inherited PATH.
pub fn exec(file: &[u8], argv: &[Vec<u8>], envp: &[Vec<u8>], path: Option<&[u8]>) -> io::Error {
    let argv_c: Vec<CString> = argv.iter().map(|a| cstring(a)).collect();
    let envp_c: Vec<CString> = envp.iter().map(|e| cstring(e)).collect();
    let mut argv_p: Vec<*const libc::c_char> = argv_c.iter().map(|c| c.as_ptr()).collect();
    argv_p.push(std::ptr::null());
    let mut envp_p: Vec<*const libc::c_char> = envp_c.iter().map(|c| c.as_ptr()).collect();
    envp_p.push(std::ptr::null());

    let try_exec = |p: &[u8]| -> io::Error {
        let p = cstring(p);
        // SAFETY: NULL-terminated arrays of valid C strings that outlive
        // the call.
        unsafe { libc::execve(p.as_ptr(), argv_p.as_ptr(), envp_p.as_ptr()) };
        io::Error::last_os_error()
    };

    if file.contains(&b'/') {
        return try_exec(file);
    }
    let path = path.unwrap_or(b"/bin:/usr/bin");
    let mut saved: Option<io::Error> = None;
    let mut last = io::Error::from_raw_os_error(libc::ENOENT);
    for dir in path.split(|&b| b == b':') {
        let mut candidate = if dir.is_empty() {
            b".".to_vec()
        } else {
            dir.to_vec()
        };
        candidate.push(b'/');
        candidate.extend_from_slice(file);
        let e = try_exec(&candidate);
        let code = e.raw_os_error().unwrap_or(0);
        if code != libc::ENOENT {
            if !matches!(code, libc::EACCES | libc::EPERM | libc::EISDIR) {
                return e;
            }
            saved = Some(io::Error::from_raw_os_error(code));
        }
        last = e;
    }
    saved.unwrap_or(last)
}
