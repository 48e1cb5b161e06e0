//! svok's exit statuses and messages, on directories made up for the
//! purpose (a held-open `supervise/ok` FIFO stands in for a supervisor).

use assert_cmd::Command;
use predicates::prelude::*;
use rustix::fs::{mkfifoat, open, Mode, OFlags, CWD};
use std::path::Path;

fn svok() -> Command {
    Command::cargo_bin("svok").unwrap()
}

fn fake(dir: &Path) {
    std::fs::create_dir_all(dir.join("supervise")).unwrap();
    mkfifoat(CWD, dir.join("supervise/ok"), Mode::from_raw_mode(0o600)).unwrap();
}

#[test]
fn usage_without_a_directory() {
    svok()
        .assert()
        .code(100)
        .stdout("")
        .stderr("svok: usage: svok dir\n");
}

#[test]
fn running_and_not_running() {
    let t = tempfile::tempdir().unwrap();
    fake(t.path());
    svok()
        .arg(t.path())
        .assert()
        .code(100)
        .stdout("")
        .stderr("");
    let _reader = open(
        t.path().join("supervise/ok"),
        OFlags::RDONLY | OFlags::NONBLOCK,
        Mode::empty(),
    )
    .unwrap();
    svok().arg(t.path()).assert().code(0).stdout("").stderr("");
    // Only the first argument counts.
    svok().arg(t.path()).arg("/nonexistent").assert().code(0);
}

#[test]
fn never_supervised_is_not_running() {
    let t = tempfile::tempdir().unwrap();
    svok().arg(t.path()).assert().code(100).stderr("");
}

#[test]
fn other_trouble_is_111() {
    let t = tempfile::tempdir().unwrap();
    svok()
        .arg("/nonexistent/x")
        .assert()
        .code(111)
        .stderr("svok: fatal: unable to chdir to /nonexistent/x: file does not exist\n");
    std::fs::create_dir_all(t.path().join("supervise/ok")).unwrap();
    svok()
        .current_dir(t.path())
        .arg(".")
        .assert()
        .code(111)
        .stderr("svok: fatal: unable to open ./supervise/ok: is a directory\n");
    std::fs::write(t.path().join("file"), "").unwrap();
    svok()
        .arg(t.path().join("file"))
        .assert()
        .code(111)
        .stderr(predicate::str::ends_with("/file: not a directory\n"));
}
