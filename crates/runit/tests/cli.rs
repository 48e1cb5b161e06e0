//! Command-line behaviour that needs no PID namespace. runit-init 0|6 is
//! never run here: outside a namespace it would signal the host's init.

use assert_cmd::Command;

#[test]
fn runit_refuses_unless_pid_1() {
    for args in [&[][..], &["single"][..]] {
        Command::cargo_bin("runit")
            .unwrap()
            .args(args)
            .assert()
            .code(111)
            .stdout("")
            .stderr("- runit: fatal: must be run as process no 1.\n");
    }
}

#[test]
fn runit_init_usage_exits_0() {
    let bin = assert_cmd::cargo::cargo_bin("runit-init");
    for args in [&[][..], &["x"][..], &["-0"][..], &[""][..], &["5", "0"][..]] {
        Command::new(&bin)
            .args(args)
            .assert()
            .code(0)
            .stdout("")
            .stderr(format!("usage: {} 0|6\n\n", bin.display()));
    }
}
