//! runsvchdir's command line against a temporary runlevel directory
//! ($RUNSVDIR, as in runit 2.3.0).

use assert_cmd::Command;
use std::path::Path;

fn runsvchdir(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("runsvchdir").unwrap();
    c.env("RUNSVDIR", dir);
    c
}

fn levels() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("default")).unwrap();
    std::fs::create_dir(t.path().join("single")).unwrap();
    std::os::unix::fs::symlink("default", t.path().join("current")).unwrap();
    t
}

fn link(p: &Path) -> String {
    std::fs::read_link(p)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn usage() {
    let prog = assert_cmd::cargo::cargo_bin("runsvchdir");
    Command::cargo_bin("runsvchdir")
        .unwrap()
        .assert()
        .code(1)
        .stderr(format!("usage: {} dir\n\n", prog.display()));
}

#[test]
fn switch_and_switch_back() {
    let t = levels();
    let d = t.path();
    runsvchdir(d)
        .arg("default")
        .assert()
        .code(0)
        .stdout("runsvchdir: default: current.\n");
    assert!(!d.join("previous").exists());
    runsvchdir(d)
        .arg("single")
        .assert()
        .code(0)
        .stdout("runsvchdir: single: now current.\n")
        .stderr("");
    assert_eq!(link(&d.join("current")), "single");
    assert_eq!(link(&d.join("previous")), "default");
    assert!(std::fs::symlink_metadata(d.join("current.new")).is_err());
    runsvchdir(d)
        .arg("default")
        .assert()
        .code(0)
        .stdout("runsvchdir: default: now current.\n");
    assert_eq!(link(&d.join("current")), "default");
    assert_eq!(link(&d.join("previous")), "single");
}

#[test]
fn errors() {
    let prog = assert_cmd::cargo::cargo_bin("runsvchdir");
    let p = prog.display();
    let t = levels();
    let d = t.path();
    runsvchdir(d)
        .arg(".x")
        .assert()
        .code(111)
        .stdout("")
        .stderr(format!("{p}: fatal: .x: must not start with a dot.\n"));
    runsvchdir(d)
        .arg("nope")
        .assert()
        .code(111)
        .stderr(format!("{p}: fatal: nope: file does not exist\n"));
    std::fs::write(d.join("file"), "").unwrap();
    runsvchdir(d)
        .arg("file")
        .assert()
        .code(111)
        .stderr(format!("{p}: fatal: filenot a directory.\n"));
    let gone = d.join("gone");
    runsvchdir(&gone)
        .arg("single")
        .assert()
        .code(111)
        .stderr(format!(
            "{p}: fatal: unable to chdir: {}: file does not exist\n",
            gone.display()
        ));
    std::fs::remove_file(d.join("current")).unwrap();
    runsvchdir(d)
        .arg("single")
        .assert()
        .code(111)
        .stderr(format!(
            "{p}: fatal: unable to stat: current: file does not exist\n"
        ));
}
