//! The loop both tools share: read a chunk, transform it, write everything
//! out, and only then wait for the next chunk.

use std::os::fd::BorrowedFd;
use supervise_proto::fdio::write_all;

use rustix::io::Errno;

/// A transformation of a byte stream, fed chunk by chunk.
pub trait Transform {
    /// Appends the output for `input` to `out`.
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>);
    /// Appends whatever is still held back at end of input.
    fn finish(&mut self, out: &mut Vec<u8>);
}

/// Exit status of the filter: daemontools' 0 at end of input, 111 when
/// reading or writing fails.
pub fn run(t: &mut impl Transform, input: BorrowedFd<'_>, output: BorrowedFd<'_>) -> i32 {
    let mut buf = vec![0u8; 8192];
    let mut out = Vec::with_capacity(16384);
    loop {
        let n = match rustix::io::read(input, &mut buf) {
            Ok(n) => n,
            Err(Errno::INTR) => continue,
            Err(_) => return 111,
        };
        if n == 0 {
            t.finish(&mut out);
            return if write_all(output, &out).is_ok() {
                0
            } else {
                111
            };
        }
        t.feed(&buf[..n], &mut out);
        if write_all(output, &out).is_err() {
            return 111;
        }
        out.clear();
    }
}
