//! runsvdir's command line: usage texts and exit codes, and the warnings
//! printed before any service is involved.

use assert_cmd::Command;
use predicates::prelude::*;
use std::time::Duration;

fn runsvdir() -> Command {
    Command::cargo_bin("runsvdir").unwrap()
}

#[test]
fn usage_without_a_directory() {
    let prog = assert_cmd::cargo::cargo_bin("runsvdir");
    let usage = format!("usage: {} [-P] dir\n\n", prog.display());
    for args in [&[][..], &["-P"], &["--"], &["-Pxyz"]] {
        runsvdir()
            .args(args)
            .assert()
            .code(1)
            .stdout("")
            .stderr(usage.clone());
    }
}

#[test]
fn missing_directory_is_retried_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let out = runsvdir()
        .current_dir(tmp.path())
        .arg("nothere")
        .timeout(Duration::from_millis(2500))
        .output()
        .unwrap();
    // Killed by the timeout: runsvdir never gives up on its directory.
    assert_eq!(out.status.code(), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("runsvdir nothere: warning: unable to stat nothere: file does not exist\n"),
        "{err}"
    );
}

#[test]
fn short_log_argument_is_disabled_with_two_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("s")).unwrap();
    runsvdir()
        .current_dir(tmp.path())
        .args(["s", "log:"])
        .timeout(Duration::from_millis(800))
        .assert()
        .stderr(predicate::eq(
            "runsvdir s: warning: log must have at least seven characters.\nrunsvdir s: warning: log service disabled.\n",
        ));
}

#[test]
fn a_word_that_is_not_an_option_is_the_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = runsvdir()
        .current_dir(tmp.path())
        .arg("-x")
        .timeout(Duration::from_millis(800))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("runsvdir -x: warning: unable to stat -x: file does not exist\n"),
        "{err}"
    );
}
