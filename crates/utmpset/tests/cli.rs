//! utmpset's usage and option errors (the files themselves are exercised
//! in the unit tests and, against the reference, in tests/tests/runit_init.rs).

use assert_cmd::Command;

fn usage() -> String {
    format!(
        "usage: {} [-w] line\n\n",
        assert_cmd::cargo::cargo_bin("utmpset").display()
    )
}

#[test]
fn usage_exits_1() {
    for args in [&[][..], &["-w"][..], &["--"][..]] {
        Command::cargo_bin("utmpset")
            .unwrap()
            .args(args)
            .assert()
            .code(1)
            .stderr(usage());
    }
}

#[test]
fn illegal_option_names_the_base_name() {
    Command::cargo_bin("utmpset")
        .unwrap()
        .arg("-x")
        .assert()
        .code(1)
        .stderr(format!("utmpset: illegal option -- x\n{}", usage()));
}

#[test]
fn version_then_usage() {
    Command::cargo_bin("utmpset")
        .unwrap()
        .arg("-V")
        .assert()
        .code(1)
        .stderr(format!("{}\n{}", supervise_proto::VERSION_ID, usage()));
}

#[test]
fn too_long_a_line_is_refused_before_touching_utmp() {
    let long = "x".repeat(33);
    Command::cargo_bin("utmpset")
        .unwrap()
        .arg(&long)
        .assert()
        .code(111)
        .stderr(format!(
            "utmpset: fatal: unable to logout line {long} in utmp: name too long\n"
        ));
}
