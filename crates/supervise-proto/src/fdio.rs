//! Writing whole buffers to a file descriptor, retrying short writes and
//! interrupted calls: status files, control bytes, filters and messages
//! all need it.

use rustix::fd::AsFd;
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

#[cfg(test)]
mod tests {
    use super::*;

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
