//! A daemon for the readiness tests that speaks systemd's notification
//! protocol the way libsystemd's sd_notify does: one datagram per message
//! to the address in $NOTIFY_SOCKET (`@name` = Linux abstract namespace,
//! otherwise a path), from an unbound datagram socket.
//!
//! It performs its arguments in order, then sleeps until killed:
//!
//! ```text
//! send:TEXT     one datagram; "\n" in TEXT stands for a newline
//! sleep:MS      wait MS milliseconds
//! wait:PATH     wait until PATH exists
//! env:PATH      write $NOTIFY_SOCKET's value to PATH
//! fork          go on in a child; the parent sleeps (the child's pid is
//!               written to ./child-pid if that can be done)
//! exit:CODE     exit now
//! ```

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

fn main() {
    let target = std::env::var("NOTIFY_SOCKET").unwrap_or_default();
    for step in std::env::args().skip(1) {
        let (verb, arg) = step.split_once(':').unwrap_or((&step, ""));
        match verb {
            "send" => send(&target, &arg.replace("\\n", "\n")),
            "sleep" => std::thread::sleep(Duration::from_millis(arg.parse().unwrap_or(0))),
            "wait" => {
                while !std::path::Path::new(arg).exists() {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            "env" => std::fs::write(arg, &target).expect("write env file"),
            "fork" => {
                // SAFETY: single-threaded; both sides go on with plain
                // Rust code, as after any fork of a one-thread process.
                let pid = unsafe { libc::fork() };
                if pid > 0 {
                    let _ = std::fs::write("child-pid", pid.to_string());
                    forever();
                }
                assert!(pid == 0, "fork failed");
            }
            "exit" => std::process::exit(arg.parse().unwrap_or(0)),
            _ => panic!("unknown step {step:?}"),
        }
    }
    forever();
}

fn send(target: &str, text: &str) {
    let sock = UnixDatagram::unbound().expect("socket");
    let addr = match target.strip_prefix('@') {
        Some(name) => SocketAddr::from_abstract_name(name.as_bytes()),
        None => SocketAddr::from_pathname(target),
    }
    .expect("NOTIFY_SOCKET address");
    sock.send_to_addr(text.as_bytes(), &addr)
        .expect("send to NOTIFY_SOCKET");
}

fn forever() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
