//! envdir: one environment variable per file of a directory.
//!
//! For each entry whose name does not start with '.': the value is the
//! file's first line with trailing spaces and tabs removed and NUL bytes
//! turned into newlines; an empty (0-byte) file unsets the variable. Names
//! are used as they are, in directory order. As in runit the directory is
//! entered with chdir and the working directory restored afterwards, so
//! error texts name the same steps.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{open, Mode, OFlags};
use rustix::io::Errno;
use rustix::process::{chdir, fchdir};

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

fn open_file(path: &[u8], flags: OFlags) -> io::Result<File> {
    Ok(File::from(open(
        path,
        flags | OFlags::CLOEXEC,
        Mode::empty(),
    )?))
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
    let cwd = open(
        ".",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Die::sys("unable to open current working directory", &e.into()))?;
    chdir(dir).map_err(|e| Die::sys2("unable to switch to directory", dir, &e.into()))?;
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
        let read = open_file(name, OFlags::RDONLY | OFlags::NONBLOCK)
            .and_then(|mut f| f.read_to_end(&mut contents));
        match read {
            Ok(_) => {}
            // The entry vanished or is a dangling symlink. runit would
            // reuse the previous entry's bytes here; an unset is the
            // only safe reading (see docs/compat/chpst.md).
            Err(e) if Errno::from_io_error(&e) == Some(Errno::NOENT) => contents.clear(),
            Err(e) if Errno::from_io_error(&e) == Some(Errno::ISDIR) && skip_subdirs => {
                if verbose {
                    warn_unreadable(&entry_path(dir, name), &e);
                }
                continue;
            }
            Err(e) => return Err(die_unreadable(&entry_path(dir, name), &e)),
        }
        changes.set(name, value_of(&contents).as_deref());
    }
    fchdir(&cwd).map_err(|e| Die::sys("unable to switch to starting directory", &e.into()))?;
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
