//! Writing whole buffers to a file descriptor, retrying short writes and
//! interrupted calls: status files, control bytes, filters and messages
//! all need it. And reading a small file whole, as the settings files of a
//! service directory and the extra status files are read.

use rustix::fd::AsFd;
use rustix::fs::{fstat, open, FileType, Mode, OFlags};
use rustix::io::Errno;

/// Writes all of `bytes`; a write that makes no progress is EIO.
pub fn write_all<Fd: AsFd>(fd: Fd, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        match rustix::io::write(fd.as_fd(), bytes) {
            Ok(0) => return Err(Errno::IO),
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Writes a message to standard error whole, ignoring failure: a program
/// has nowhere else to report that its standard error is gone. Every
/// program's diagnostics go through here.
pub fn eprint(bytes: &[u8]) {
    let _ = write_all(rustix::stdio::stderr(), bytes);
}

/// Reads the regular file `path` whole, when it has at most `limit` bytes.
/// Opened without blocking (and without becoming a controlling terminal),
/// so a FIFO or a device put in its place cannot hang or capture the
/// reader. `Ok(None)` when it does not exist; EINVAL when it is not a
/// regular file; EFBIG when it is larger than `limit`.
pub fn read_small_file(path: &std::path::Path, limit: usize) -> Result<Option<Vec<u8>>, Errno> {
    let fd = match open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(None),
        Err(e) => return Err(e),
    };
    if FileType::from_raw_mode(fstat(&fd)?.st_mode) != FileType::RegularFile {
        return Err(Errno::INVAL);
    }
    // One byte more than allowed tells "too large" from "exactly limit".
    let mut buf = vec![0u8; limit + 1];
    let mut got = 0;
    while got < buf.len() {
        match rustix::io::read(&fd, &mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e),
        }
    }
    if got > limit {
        return Err(Errno::FBIG);
    }
    buf.truncate(got);
    Ok(Some(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_files_whole_or_not_at_all() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("f");
        assert_eq!(read_small_file(&p, 4), Ok(None));
        std::fs::write(&p, b"1234").unwrap();
        assert_eq!(read_small_file(&p, 4), Ok(Some(b"1234".to_vec())));
        assert_eq!(read_small_file(&p, 3), Err(Errno::FBIG));
        assert_eq!(read_small_file(t.path(), 4), Err(Errno::INVAL));
        let fifo = t.path().join("fifo");
        rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, Mode::from_raw_mode(0o600)).unwrap();
        assert_eq!(read_small_file(&fifo, 4), Err(Errno::INVAL));
    }

    #[test]
    fn writes_everything_and_reports_errors() {
        let (r, w) = rustix::pipe::pipe().unwrap();
        write_all(&w, b"hello world").unwrap();
        let mut buf = [0u8; 32];
        let n = rustix::io::read(&r, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"hello world");
        drop(r);
        // Rust ignores SIGPIPE, so a closed reader is EPIPE.
        assert_eq!(write_all(&w, b"x"), Err(Errno::PIPE));
    }
}
