//! Readiness notification: the two ways a service can say "ready" and the
//! files in its directory that opt in to them.
//!
//! - `notification-fd` (s6's convention): the file holds a descriptor
//!   number N; the service gets the write end of a pipe as descriptor N and
//!   writes a newline there once it is ready.
//! - `notify-socket` (systemd's protocol, named after the variable the
//!   service is given): the file's presence is the opt-in; the service gets
//!   `NOTIFY_SOCKET`, the address of a datagram socket, and sends
//!   newline-separated `VAR=VALUE` lines there (`READY=1`, `STATUS=...`).
//!
//! This module parses, and receives a datagram with its sender; runsv
//! owns the descriptors.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use rustix::io::Errno;

/// The s6 file in the service directory (and in `log/`).
pub const NOTIFICATION_FD: &str = "notification-fd";
/// The file that opts in to systemd's notification protocol.
pub const NOTIFY_SOCKET: &str = "notify-socket";
/// The environment variable that tells a service where to send.
pub const NOTIFY_SOCKET_VAR: &str = "NOTIFY_SOCKET";
/// The largest datagram read (systemd's limit too); longer ones are cut.
pub const DATAGRAM_MAX: usize = 4096;
/// STATUS= text is kept to this many characters.
pub const STATUS_MAX: usize = 200;

/// What one datagram said. Variables this suite does not act on
/// (WATCHDOG=, ERRNO=, FDSTORE=, ...) are ignored, as the protocol allows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notice {
    /// `READY=1`
    pub ready: bool,
    /// `RELOADING=1`
    pub reloading: bool,
    /// `STOPPING=1`
    pub stopping: bool,
    /// The last `STATUS=` text, cut to [`STATUS_MAX`] characters.
    pub status: Option<String>,
    /// `MAINPID=N` with N a valid process id.
    pub main_pid: Option<u32>,
}

/// Parses one datagram. Any bytes are accepted: lines that are not
/// assignments, unknown variables and bad values are skipped.
pub fn parse_datagram(bytes: &[u8]) -> Notice {
    let mut n = Notice::default();
    for line in bytes.split(|&b| b == b'\n') {
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (key, value) = (&line[..eq], &line[eq + 1..]);
        match key {
            b"READY" => n.ready |= value == b"1",
            b"RELOADING" => n.reloading |= value == b"1",
            b"STOPPING" => n.stopping |= value == b"1",
            b"STATUS" => {
                let text = String::from_utf8_lossy(value);
                n.status = Some(text.chars().take(STATUS_MAX).collect());
            }
            b"MAINPID" => {
                if let Some(pid) = parse_pid(value) {
                    n.main_pid = Some(pid);
                }
            }
            _ => {}
        }
    }
    n
}

/// A process id in decimal: digits only, not 0, at most Linux's largest
/// pid (2^22).
fn parse_pid(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 7 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u32 = std::str::from_utf8(b).ok()?.parse().ok()?;
    (1..=4_194_304).contains(&n).then_some(n)
}

/// Why a `notification-fd` file was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadFd {
    /// Not a decimal number (optionally followed by a newline).
    NotANumber,
    /// 0, 1 or 2: those are the service's standard descriptors.
    Standard,
    /// At or above the descriptor limit the service runs with.
    TooLarge,
}

impl BadFd {
    /// The warning's text, after `notification-fd: `.
    pub fn text(self) -> &'static str {
        match self {
            BadFd::NotANumber => "not a descriptor number",
            BadFd::Standard => "descriptors 0, 1 and 2 are taken",
            BadFd::TooLarge => "descriptor number too large",
        }
    }
}

/// Parses a `notification-fd` file's contents: a decimal number, blanks
/// and one trailing newline allowed around it, below `limit` (the soft
/// RLIMIT_NOFILE, which dup2 cannot go past).
pub fn parse_notification_fd(bytes: &[u8], limit: u64) -> Result<u32, BadFd> {
    let text = bytes.trim_ascii();
    if text.is_empty() || text.len() > 10 || !text.iter().all(u8::is_ascii_digit) {
        return Err(BadFd::NotANumber);
    }
    let n: u64 = std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(BadFd::NotANumber)?;
    if n <= 2 {
        return Err(BadFd::Standard);
    }
    if n >= limit.min(i32::MAX as u64) {
        return Err(BadFd::TooLarge);
    }
    Ok(n as u32)
}

/// Reads one datagram from a socket with SO_PASSCRED, and its sender's
/// pid (0 when the kernel could not name it, as for a sender in a pid
/// namespace the reader cannot see). `Ok(None)`: nothing waiting.
///
/// libc's recvmsg rather than rustix's: rustix decodes the credentials
/// into a type whose pid cannot be 0 (undefined behaviour when the kernel
/// reports 0), even when they are only dropped.
pub fn receive(fd: &OwnedFd) -> Result<Option<(u32, Vec<u8>)>, Errno> {
    let mut data = vec![0u8; DATAGRAM_MAX];
    // Room for one SCM_CREDENTIALS message, aligned as cmsghdr needs.
    let mut control = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // SAFETY: msghdr is plain data; every pointer set below refers to a
    // live buffer of the stated length for the duration of the call.
    let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
    hdr.msg_iov = &mut iov;
    hdr.msg_iovlen = 1;
    hdr.msg_control = control.as_mut_ptr().cast();
    hdr.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: fd is an open socket; hdr describes the buffers above.
    let n = unsafe {
        libc::recvmsg(
            fd.as_fd().as_raw_fd(),
            &mut hdr,
            libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC,
        )
    };
    if n < 0 {
        let e = Errno::from_io_error(&std::io::Error::last_os_error()).unwrap_or(Errno::IO);
        return match e {
            Errno::AGAIN | Errno::INTR => Ok(None),
            e => Err(e),
        };
    }
    data.truncate(n as usize);
    let mut pid = 0;
    // SAFETY: the CMSG_* macros walk the control buffer the kernel filled,
    // within hdr.msg_controllen; the credentials are read unaligned.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&hdr);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_CREDENTIALS {
                let cred: libc::ucred = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                pid = cred.pid.max(0) as u32;
            }
            c = libc::CMSG_NXTHDR(&hdr, c);
        }
    }
    Ok(Some((pid, data)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagram_variables() {
        let n = parse_datagram(b"READY=1\nSTATUS=accepting connections\nMAINPID=42\n");
        assert_eq!(
            n,
            Notice {
                ready: true,
                status: Some("accepting connections".into()),
                main_pid: Some(42),
                ..Notice::default()
            }
        );
        let n = parse_datagram(b"RELOADING=1\nMONOTONIC_USEC=1234\nSTOPPING=1");
        assert!(n.reloading && n.stopping && !n.ready);
        // Only the value 1 counts; the last STATUS= wins.
        let n = parse_datagram(b"READY=0\nREADY=yes\nSTATUS=a\nSTATUS=b");
        assert!(!n.ready);
        assert_eq!(n.status.as_deref(), Some("b"));
        // STATUS= may contain '='; an empty value is kept.
        assert_eq!(parse_datagram(b"STATUS=x=y").status.as_deref(), Some("x=y"));
        assert_eq!(parse_datagram(b"STATUS=").status.as_deref(), Some(""));
    }

    #[test]
    fn datagram_oddities_are_skipped() {
        assert_eq!(parse_datagram(b""), Notice::default());
        assert_eq!(parse_datagram(b"\n\n=\n==\nREADY\n"), Notice::default());
        assert_eq!(
            parse_datagram(b"ready=1\n READY=1\nREADY=1 "),
            Notice::default()
        );
        for bad in [
            &b"MAINPID=0"[..],
            b"MAINPID=-1",
            b"MAINPID=12x",
            b"MAINPID=",
            b"MAINPID=99999999",
            b"MAINPID=4194305",
        ] {
            assert_eq!(parse_datagram(bad).main_pid, None, "{bad:?}");
        }
        assert_eq!(parse_datagram(b"MAINPID=4194304").main_pid, Some(4_194_304));
        let long = format!("STATUS={}", "é".repeat(1000));
        assert_eq!(
            parse_datagram(long.as_bytes())
                .status
                .unwrap()
                .chars()
                .count(),
            STATUS_MAX
        );
        assert_eq!(
            parse_datagram(b"STATUS=\xff\xfe").status.as_deref(),
            Some("\u{fffd}\u{fffd}")
        );
    }

    #[test]
    fn datagram_never_panics() {
        // Every byte in every position of a short datagram, and a
        // pseudo-random stream of longer ones.
        for a in 0..=255u8 {
            for b in [0u8, b'\n', b'=', b'1', 0xff] {
                parse_datagram(&[a, b, a]);
                parse_datagram(&[b'R', b'E', b'A', b'D', b'Y', b'=', a, b]);
                parse_datagram(&[b'M', b'A', b'I', b'N', b'P', b'I', b'D', b'=', a, b]);
            }
        }
        let mut x: u32 = 12345;
        let mut buf = vec![0u8; DATAGRAM_MAX];
        for _ in 0..200 {
            for byte in buf.iter_mut() {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *byte = [b'\n', b'=', b'1', b'R', x as u8][(x >> 8) as usize % 5];
            }
            parse_datagram(&buf[..(x as usize % DATAGRAM_MAX)]);
        }
    }

    #[test]
    fn a_datagram_comes_with_its_sender() {
        use rustix::net::{socketpair, sockopt, AddressFamily, SocketFlags, SocketType};
        let (a, b) = socketpair(
            AddressFamily::UNIX,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )
        .unwrap();
        sockopt::set_socket_passcred(&b, true).unwrap();
        assert_eq!(receive(&b), Ok(None));
        rustix::net::send(&a, b"READY=1", rustix::net::SendFlags::empty()).unwrap();
        assert_eq!(
            receive(&b),
            Ok(Some((std::process::id(), b"READY=1".to_vec())))
        );
        assert_eq!(receive(&b), Ok(None));
    }

    #[test]
    fn notification_fd_file() {
        assert_eq!(parse_notification_fd(b"3\n", 1024), Ok(3));
        assert_eq!(parse_notification_fd(b" 7 \n", 1024), Ok(7));
        assert_eq!(parse_notification_fd(b"1023", 1024), Ok(1023));
        assert_eq!(parse_notification_fd(b"1024", 1024), Err(BadFd::TooLarge));
        assert_eq!(
            parse_notification_fd(b"99999999999", 1024),
            Err(BadFd::NotANumber)
        );
        assert_eq!(
            parse_notification_fd(b"4294967296", u64::MAX),
            Err(BadFd::TooLarge)
        );
        for std in [&b"0"[..], b"1", b"2\n", b"00"] {
            assert_eq!(parse_notification_fd(std, 1024), Err(BadFd::Standard));
        }
        for bad in [
            &b""[..],
            b"\n",
            b"x",
            b"-3",
            b"+3",
            b"3 4",
            b"3\n4\n",
            b"0x3",
            b"\xff",
        ] {
            assert_eq!(
                parse_notification_fd(bad, 1024),
                Err(BadFd::NotANumber),
                "{bad:?}"
            );
        }
    }
}
