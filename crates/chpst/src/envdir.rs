//! envdir: one environment variable per file of a directory.
//!
//! For each entry whose name does not start with '.': the value is the
//! file's first line with trailing spaces and tabs removed and NUL bytes
//! turned into newlines; an empty (0-byte) file unsets the variable. Names
//! are used as they are, in directory order. As in runit the directory is
//! entered with chdir and the working directory restored afterwards, so
//! error texts name the same steps.

use std::ffi::CString;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::FromRawFd;

use crate::die::{die_unreadable, warn_unreadable, Die};
use crate::env::Changes;

/// The variable's new value for a file's contents (None: unset).
pub fn value_of(contents: &[u8]) -> Option<Vec<u8>> {
    if contents.is_empty() {
        return None;
    }
    let line = match contents.iter().position(|&b| b == b'\n') {
        Some(i) => &contents[..i],
        None => contents,
    };
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    Some(
        line[..end]
            .iter()
            .map(|&b| if b == 0 { b'\n' } else { b })
            .collect(),
    )
}

fn open_raw(path: &[u8], flags: i32) -> io::Result<std::fs::File> {
    let c = CString::new(path).map_err(|_| io::Error::from_raw_os_error(libc::ENOENT))?;
    // SAFETY: a valid C string; the fd is owned by the returned File.
    let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd was just opened and is ours.
    Ok(unsafe { std::fs::File::from_raw_fd(fd) })
}

fn chdir(path: &[u8]) -> io::Result<()> {
    let c = CString::new(path).map_err(|_| io::Error::from_raw_os_error(libc::ENOENT))?;
    // SAFETY: a valid C string.
    if unsafe { libc::chdir(c.as_ptr()) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn entry_path(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    p.push(b'/');
    p.extend_from_slice(name);
    p
}

/// Reads `dir` into `changes`. Under chpst -e a subdirectory is skipped
/// (with a warning when `verbose`); as the envdir program it is fatal.
pub fn read_into(
    dir: &[u8],
    skip_subdirs: bool,
    verbose: bool,
    changes: &mut Changes,
) -> Result<(), Die> {
    // O_PATH: the way back needs no read permission on the working
    // directory (runit opens it for reading, which can fail needlessly).
    let cwd = open_raw(b".", libc::O_PATH | libc::O_DIRECTORY)
        .map_err(|e| Die::sys("unable to open current working directory", &e))?;
    chdir(dir).map_err(|e| Die::sys2("unable to switch to directory", dir, &e))?;
    let entries =
        std::fs::read_dir(".").map_err(|e| Die::sys2("unable to open directory", dir, &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Die::sys2("unable to read directory", dir, &e))?;
        let name = entry.file_name();
        let name = name.as_bytes();
        if name.first() == Some(&b'.') {
            continue;
        }
        let mut contents = Vec::new();
        // Non-blocking, as runit: a FIFO without a writer reads as empty
        // instead of hanging the service's start.
        let read = open_raw(name, libc::O_RDONLY | libc::O_NONBLOCK)
            .and_then(|mut f| f.read_to_end(&mut contents));
        match read {
            Ok(_) => {}
            // The entry vanished or is a dangling symlink. runit would
            // reuse the previous entry's bytes here; an unset is the
            // only safe reading (see docs/compat/chpst.md).
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => contents.clear(),
            Err(e) if e.raw_os_error() == Some(libc::EISDIR) && skip_subdirs => {
                if verbose {
                    warn_unreadable(&entry_path(dir, name), &e);
                }
                continue;
            }
            Err(e) => return Err(die_unreadable(&entry_path(dir, name), &e)),
        }
        changes.set(name, value_of(&contents).as_deref());
    }
    // SAFETY: cwd is an open directory descriptor.
    if unsafe { libc::fchdir(std::os::unix::io::AsRawFd::as_raw_fd(&cwd)) } == -1 {
        return Err(Die::sys(
            "unable to switch to starting directory",
            &io::Error::last_os_error(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(value_of(b""), None);
        assert_eq!(value_of(b"\n"), Some(b"".to_vec()));
        assert_eq!(value_of(b"a b \t\nsecond"), Some(b"a b".to_vec()));
        assert_eq!(value_of(b"x\0y"), Some(b"x\ny".to_vec()));
        assert_eq!(value_of(b" lead\t \n"), Some(b" lead".to_vec()));
        // Trimming stops at a NUL, which becomes a newline afterwards.
        assert_eq!(value_of(b"v\0 "), Some(b"v\n".to_vec()));
        assert_eq!(value_of(b"   "), Some(b"".to_vec()));
    }
}
