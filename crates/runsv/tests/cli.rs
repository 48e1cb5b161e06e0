//! runsv's command line and start-up failures (runit 2.1.2's texts and
//! codes). Live supervision is tested end to end in tests/tests/runsv.rs.

use assert_cmd::Command;
use predicates::prelude::*;

fn runsv() -> Command {
    Command::cargo_bin("runsv").unwrap()
}

#[test]
fn usage_exits_1() {
    let prog = assert_cmd::cargo::cargo_bin("runsv");
    let usage = format!("usage: {} dir\n\n", prog.display());
    runsv().assert().code(1).stderr(usage.clone());
    runsv().args(["a", "b"]).assert().code(1).stderr(usage);
}

#[test]
fn missing_directory() {
    runsv().arg("/no/such/service").assert().code(111).stderr(
        "runsv /no/such/service: fatal: unable to change to directory: file does not exist\n",
    );
}

#[test]
fn control_that_is_not_a_fifo() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("supervise")).unwrap();
    std::fs::write(t.path().join("supervise/control"), "").unwrap();
    runsv()
        .arg(t.path())
        .assert()
        .code(111)
        .stderr(predicate::str::ends_with(
            ": fatal: supervise/control exists but is not a fifo\n",
        ));
}

#[test]
fn unwritable_supervise_is_fatal() {
    let t = tempfile::tempdir().unwrap();
    // supervise as a plain file: the lock cannot be opened under it.
    std::fs::write(t.path().join("supervise"), "").unwrap();
    runsv()
        .arg(t.path())
        .assert()
        .code(111)
        .stderr(predicate::str::ends_with(
            ": fatal: unable to open supervise/lock: not a directory\n",
        ));
}
