//! Error texts in runit's words. runit prints its own wording for errno
//! values ("file does not exist", not "No such file or directory"), and
//! scripts match on it, so every tool of this suite uses this table.

use rustix::io::Errno;

/// (errno, text) in runit's order; the first match wins, which matters
/// where Linux gives two names one number (EAGAIN/EWOULDBLOCK).
static TABLE: &[(Errno, &str)] = &[
    (Errno::INTR, "interrupted system call"),
    (Errno::NOMEM, "out of memory"),
    (Errno::NOENT, "file does not exist"),
    (Errno::TXTBSY, "text busy"),
    (Errno::IO, "input/output error"),
    (Errno::EXIST, "file already exists"),
    (Errno::TIMEDOUT, "timed out"),
    (Errno::INPROGRESS, "operation in progress"),
    (Errno::AGAIN, "temporary failure"),
    (Errno::PIPE, "broken pipe"),
    (Errno::PERM, "permission denied"),
    (Errno::ACCESS, "access denied"),
    (Errno::NXIO, "device not configured"),
    (Errno::PROTO, "protocol error"),
    (Errno::ISDIR, "is a directory"),
    (Errno::CONNREFUSED, "connection refused"),
    (Errno::NOTDIR, "not a directory"),
    (Errno::SRCH, "no such process"),
    (Errno::TOOBIG, "argument list too long"),
    (Errno::NOEXEC, "exec format error"),
    (Errno::BADF, "file descriptor not open"),
    (Errno::CHILD, "no child processes"),
    (Errno::DEADLK, "operation would cause deadlock"),
    (Errno::FAULT, "bad address"),
    (Errno::NOTBLK, "not a block device"),
    (Errno::BUSY, "device busy"),
    (Errno::XDEV, "cross-device link"),
    (Errno::NODEV, "device does not support operation"),
    (Errno::INVAL, "invalid argument"),
    (Errno::NFILE, "system cannot open more files"),
    (Errno::MFILE, "process cannot open more files"),
    (Errno::NOTTY, "not a tty"),
    (Errno::FBIG, "file too big"),
    (Errno::NOSPC, "out of disk space"),
    (Errno::SPIPE, "unseekable descriptor"),
    (Errno::ROFS, "read-only file system"),
    (Errno::MLINK, "too many links"),
    (Errno::DOM, "input out of range"),
    (Errno::RANGE, "output out of range"),
    (Errno::ALREADY, "operation already in progress"),
    (Errno::NOTSOCK, "not a socket"),
    (Errno::DESTADDRREQ, "destination address required"),
    (Errno::MSGSIZE, "message too long"),
    (Errno::PROTOTYPE, "incorrect protocol type"),
    (Errno::NOPROTOOPT, "protocol not available"),
    (Errno::PROTONOSUPPORT, "protocol not supported"),
    (Errno::SOCKTNOSUPPORT, "socket type not supported"),
    (Errno::OPNOTSUPP, "operation not supported"),
    (Errno::PFNOSUPPORT, "protocol family not supported"),
    (Errno::AFNOSUPPORT, "address family not supported"),
    (Errno::ADDRINUSE, "address already used"),
    (Errno::ADDRNOTAVAIL, "address not available"),
    (Errno::NETDOWN, "network down"),
    (Errno::NETUNREACH, "network unreachable"),
    (Errno::NETRESET, "network reset"),
    (Errno::CONNABORTED, "connection aborted"),
    (Errno::CONNRESET, "connection reset"),
    (Errno::NOBUFS, "out of buffer space"),
    (Errno::ISCONN, "already connected"),
    (Errno::NOTCONN, "not connected"),
    (Errno::SHUTDOWN, "socket shut down"),
    (Errno::TOOMANYREFS, "too many references"),
    (Errno::LOOP, "symbolic link loop"),
    (Errno::NAMETOOLONG, "file name too long"),
    (Errno::HOSTDOWN, "host down"),
    (Errno::HOSTUNREACH, "host unreachable"),
    (Errno::NOTEMPTY, "directory not empty"),
    (Errno::USERS, "too many users"),
    (Errno::DQUOT, "disk quota exceeded"),
    (Errno::STALE, "stale NFS file handle"),
    (Errno::REMOTE, "too many levels of remote in path"),
    (Errno::NOLCK, "no locks available"),
    (Errno::NOSYS, "system call not available"),
    (Errno::IDRM, "identifier removed"),
    (Errno::NOMSG, "no message of desired type"),
    (Errno::NOSTR, "not a stream device"),
    (Errno::TIME, "timer expired"),
    (Errno::NOSR, "out of stream resources"),
    (Errno::NOLINK, "link severed"),
    (Errno::BADMSG, "bad message"),
    (Errno::CANCELED, "operation canceled"),
];

/// runit's text for an errno value.
pub fn errno_str(e: Errno) -> &'static str {
    raw_errno_str(e.raw_os_error())
}

/// runit's text for a raw errno number (0 is "no error").
pub fn raw_errno_str(n: i32) -> &'static str {
    if n == 0 {
        return "no error";
    }
    TABLE
        .iter()
        .find(|(e, _)| e.raw_os_error() == n)
        .map(|(_, s)| *s)
        .unwrap_or("unknown error")
}

/// runit's text for an `std::io::Error` (its OS error code, if any).
pub fn io_error_str(e: &std::io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(n) => raw_errno_str(n),
        None => "unknown error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_texts() {
        assert_eq!(errno_str(Errno::NOENT), "file does not exist");
        assert_eq!(errno_str(Errno::ACCESS), "access denied");
        assert_eq!(errno_str(Errno::AGAIN), "temporary failure");
        assert_eq!(errno_str(Errno::WOULDBLOCK), "temporary failure");
        assert_eq!(errno_str(Errno::NXIO), "device not configured");
        assert_eq!(raw_errno_str(0), "no error");
        assert_eq!(raw_errno_str(4000), "unknown error");
        let e = std::io::Error::from_raw_os_error(Errno::NOSPC.raw_os_error());
        assert_eq!(io_error_str(&e), "out of disk space");
        assert_eq!(io_error_str(&std::io::Error::other("x")), "unknown error");
    }
}
