//! svstat's lines for made-up service directories: runit's 20-byte and
//! daemontools' 18-byte records, and every way of failing.

use assert_cmd::Command;
use rustix::fs::{mkfifoat, open, Mode, OFlags, CWD};
use std::os::fd::OwnedFd;
use std::path::Path;

fn svstat() -> Command {
    Command::cargo_bin("svstat").unwrap()
}

/// A stamp far in the future, so the age always reads 0 seconds.
fn record(pid: u32, paused: u8, want: u8) -> Vec<u8> {
    let mut b = 0x4000_0001_0000_0000u64.to_be_bytes().to_vec();
    b.extend_from_slice(&500u32.to_be_bytes());
    b.extend_from_slice(&pid.to_le_bytes());
    b.push(paused);
    b.push(want);
    b
}

/// A supervised-looking directory; the returned fd keeps it "running".
fn fake(dir: &Path, status: &[u8]) -> OwnedFd {
    std::fs::create_dir_all(dir.join("supervise")).unwrap();
    mkfifoat(CWD, dir.join("supervise/ok"), Mode::from_raw_mode(0o600)).unwrap();
    std::fs::write(dir.join("supervise/status"), status).unwrap();
    open(
        dir.join("supervise/ok"),
        OFlags::RDONLY | OFlags::NONBLOCK,
        Mode::empty(),
    )
    .unwrap()
}

#[test]
fn no_arguments_no_output() {
    svstat().assert().code(0).stdout("").stderr("");
}

#[test]
fn daemontools_and_runit_records() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let _a = fake(&d.join("dt"), &record(12, 1, b'u'));
    let mut runit = record(13, 0, b'd');
    runit.extend_from_slice(&[0, 1]);
    let _b = fake(&d.join("rs"), &runit);
    let _c = fake(&d.join("down"), &record(0, 0, b'u'));
    std::fs::write(d.join("down/down"), "").unwrap();
    let _e = fake(&d.join("once"), &record(14, 0, 0));
    svstat()
        .current_dir(d)
        .args(["dt", "rs", "down", "once"])
        .assert()
        .code(0)
        .stdout(
            "dt: up (pid 12) 0 seconds, paused\n\
             rs: up (pid 13) 0 seconds, want down\n\
             down: down 0 seconds, want up\n\
             once: up (pid 14) 0 seconds\n",
        )
        .stderr("");
}

#[test]
fn failures_are_reported_on_the_line() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let _a = fake(&d.join("short"), &record(1, 0, b'u')[..10]);
    let stopped = fake(&d.join("stopped"), &record(1, 0, b'u'));
    drop(stopped);
    std::fs::create_dir(d.join("plain")).unwrap();
    svstat()
        .current_dir(d)
        .args(["short", "stopped", "plain", "/nonexistent"])
        .assert()
        .code(0)
        .stdout(
            "short: unable to read supervise/status: bad format\n\
             stopped: supervise not running\n\
             plain: unable to open supervise/ok: file does not exist\n\
             /nonexistent: unable to chdir: file does not exist\n",
        );
}
