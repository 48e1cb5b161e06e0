//! The end of a forked child whose exec failed, as runit's programs end
//! it: one message on standard error, exit code 111. Runs between fork
//! and exec, so it allocates nothing.

use crate::errstr::raw_errno_str;

/// Writes `parts`, then runit's text for the current errno and a newline,
/// to standard error in one write, and exits 111.
pub fn exec_failed(parts: &[&[u8]]) -> ! {
    // SAFETY: reading errno right after the failed call.
    let errno = unsafe { *libc::__errno_location() };
    let mut buf = [0u8; 4096];
    let mut n = fill(&mut buf, parts);
    n += fill(&mut buf[n..], &[raw_errno_str(errno).as_bytes(), b"\n"]);
    // SAFETY: plain system calls; _exit never returns.
    unsafe {
        libc::write(2, buf.as_ptr().cast(), n);
        libc::_exit(111)
    }
}

/// Concatenates `parts` into `buf` (truncating); returns the length.
fn fill(buf: &mut [u8], parts: &[&[u8]]) -> usize {
    let mut n = 0;
    for p in parts {
        let take = p.len().min(buf.len() - n);
        buf[n..n + take].copy_from_slice(&p[..take]);
        n += take;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_without_overflow() {
        let mut b = [0u8; 8];
        assert_eq!(fill(&mut b, &[b"abc", b"defgh", b"ij"]), 8);
        assert_eq!(&b, b"abcdefgh");
        assert_eq!(fill(&mut b[8..], &[b"x"]), 0);
    }
}
