//! svc's bytes on a made-up control FIFO, its warnings and exit codes.

use assert_cmd::Command;
use rustix::fs::{mkfifoat, open, Mode, OFlags, CWD};
use std::os::fd::OwnedFd;
use std::path::Path;

fn svc() -> Command {
    Command::cargo_bin("svc").unwrap()
}

fn control(dir: &Path) -> OwnedFd {
    std::fs::create_dir_all(dir.join("supervise")).unwrap();
    let p = dir.join("supervise/control");
    mkfifoat(CWD, &p, Mode::from_raw_mode(0o600)).unwrap();
    open(p, OFlags::RDONLY | OFlags::NONBLOCK, Mode::empty()).unwrap()
}

fn drain(fd: &OwnedFd) -> Vec<u8> {
    let mut buf = [0u8; 256];
    let n = rustix::io::read(fd, &mut buf).unwrap_or(0);
    buf[..n].to_vec()
}

#[test]
fn every_option_once_in_order_to_every_directory() {
    let t = tempfile::tempdir().unwrap();
    let a = control(&t.path().join("a"));
    let b = control(&t.path().join("b"));
    svc()
        .current_dir(t.path())
        .args(["-udu", "-x", "-opchaitk", "a", "b"])
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
    assert_eq!(drain(&a), b"udxopchaitk");
    assert_eq!(drain(&b), b"udxopchaitk");
}

#[test]
fn problems_with_one_directory_are_warnings() {
    let t = tempfile::tempdir().unwrap();
    let a = control(&t.path().join("a"));
    std::fs::create_dir_all(t.path().join("stopped/supervise")).unwrap();
    mkfifoat(
        CWD,
        t.path().join("stopped/supervise/control"),
        Mode::from_raw_mode(0o600),
    )
    .unwrap();
    std::fs::create_dir(t.path().join("empty")).unwrap();
    svc()
        .current_dir(t.path())
        .args(["-t", "/nonexistent", "stopped", "empty", "a"])
        .assert()
        .code(0)
        .stderr(
            "svc: warning: unable to chdir to /nonexistent: file does not exist\n\
             svc: warning: unable to control stopped: supervise not running\n\
             svc: warning: unable to control empty: file does not exist\n",
        );
    assert_eq!(drain(&a), b"t");
}

#[test]
fn bad_option() {
    for bad in ["-z", "-q", "-1"] {
        svc().args([bad, "x"]).assert().code(100).stderr(format!(
            "svc: illegal option -- {}\nsvc options: u up, d down, o once, x exit, p pause, \
                 c continue, h hup, a alarm, i interrupt, t term, k kill\n",
            &bad[1..]
        ));
    }
}

#[test]
fn nothing_to_do() {
    svc().assert().code(0).stdout("").stderr("");
    svc().arg("-u").assert().code(0).stderr("");
}
