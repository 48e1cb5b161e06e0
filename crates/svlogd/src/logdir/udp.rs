//! The `u`/`U` copies of selected lines, sent as UDP datagrams.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::LogDir;

impl LogDir {
    /// The UDP copy of a selected line: stamp, prefix, head, `...` when
    /// the line was cut, newline.
    pub fn udp_line(&mut self, stamp: &[u8], head: &[u8], truncated: bool) {
        if self.cfg.udp_port == 0 {
            return;
        }
        let prefix = std::mem::take(&mut self.cfg.prefix);
        let dots: &[u8] = if truncated { b"..." } else { b"" };
        self.send_udp(&[stamp, &prefix, head, dots, b"\n"]);
        self.cfg.prefix = prefix;
    }

    /// Sends a selected line through UDP when configured; failures are
    /// reported into the log directory itself, as runit does.
    pub fn send_udp(&mut self, parts: &[&[u8]]) {
        let Some(addr) = self.cfg.udp_addr() else {
            return;
        };
        let msg: Vec<u8> = parts.concat();
        match &self.udp {
            None => {
                self.append(&[b"warning: no udp socket available: ", &msg], true);
            }
            Some(sock) => {
                if !udp_send(sock, &msg, addr) {
                    self.append(&[b"warning: failure sending through udp: ", &msg], true);
                }
            }
        }
    }
}

/// A non-blocking UDP socket for the `u`/`U` copies (None when the
/// system refuses one; lines then carry runit's warning instead).
pub(super) fn udp_socket() -> Option<OwnedFd> {
    // SAFETY: socket(2) returns a new descriptor we then own.
    let fd = unsafe {
        libc::socket(
            libc::AF_INET,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sends one datagram; whether all of it went.
fn udp_send(sock: &OwnedFd, msg: &[u8], addr: std::net::SocketAddrV4) -> bool {
    // SAFETY: a zeroed sockaddr_in is valid; the fields are then set.
    let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = addr.port().to_be();
    sa.sin_addr.s_addr = u32::from_ne_bytes(addr.ip().octets());
    // SAFETY: msg and sa are valid for the lengths given.
    let n = unsafe {
        libc::sendto(
            sock.as_raw_fd(),
            msg.as_ptr().cast(),
            msg.len(),
            libc::MSG_NOSIGNAL,
            (&sa as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    n >= 0 && n as usize == msg.len()
}
