//! The `u`/`U` copies of selected lines, sent as UDP datagrams.

use std::net::SocketAddrV4;
use std::os::fd::OwnedFd;

use rustix::net::{self, AddressFamily, SendFlags, SocketFlags, SocketType};

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
    net::socket_with(
        AddressFamily::INET,
        SocketType::DGRAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )
    .ok()
}

/// Sends one datagram; whether all of it went.
fn udp_send(sock: &OwnedFd, msg: &[u8], addr: SocketAddrV4) -> bool {
    net::sendto(sock, msg, SendFlags::NOSIGNAL, &addr) == Ok(msg.len())
}
