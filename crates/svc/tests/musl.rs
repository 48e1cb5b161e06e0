//! svc, svok and svstat built for musl still see their arguments.
//!
//! The three enter at C's main (supervise_proto::c_main!); under musl,
//! std's `args_os()` is empty in such a program, so each must take the
//! argv the macro hands it. One test for the three, since they share the
//! entry and one musl build serves them all. It builds them for musl in a
//! target directory of its own (a few seconds the first time) when Rust's
//! musl target is installed; without it the test says so and passes,
//! except under CI (`CI` set), where that is a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn musl_triple() -> String {
    format!("{}-unknown-linux-musl", std::env::consts::ARCH)
}

/// Whether rustc has the musl standard library.
fn musl_installed(triple: &str) -> bool {
    let Ok(out) = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", triple])
        .output()
    else {
        return false;
    };
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    out.status.success()
        && std::fs::read_dir(dir).is_ok_and(|mut d| {
            d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("libstd-")))
        })
}

/// Builds the three for musl; returns the directory holding them.
fn build_for_musl(triple: &str) -> PathBuf {
    let ours = Path::new(env!("CARGO_BIN_EXE_svc"));
    let target_dir = ours.parent().unwrap().parent().unwrap().join("musl-test");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "-q", "--offline", "--locked", "--target", triple])
        .args(["-p", "svc", "-p", "svok", "-p", "svstat"])
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(&target_dir)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the musl build failed");
    target_dir.join(triple).join("debug")
}

fn run(bin: &Path, args: &[&str]) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(bin).args(args).output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

#[test]
fn musl_builds_read_their_arguments() {
    let triple = musl_triple();
    if !musl_installed(&triple) {
        let why = format!("Rust's {triple} target is not installed");
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipped: {why}");
        return;
    }
    let dir = build_for_musl(&triple);
    let tmp = tempfile::tempdir().unwrap();
    let idle = tmp.path().to_str().unwrap();
    let gone = "/nonexistent-runit-rs";

    // Without its argument each would act as if none were given: svok
    // would print its usage, svstat and svc would do nothing.
    assert_eq!(
        run(&dir.join("svok"), &[gone]),
        (
            111,
            String::new(),
            format!("svok: fatal: unable to chdir to {gone}: file does not exist\n")
        )
    );
    assert_eq!(run(&dir.join("svok"), &[idle]).0, 100);
    assert_eq!(
        run(&dir.join("svstat"), &[gone, idle]),
        (
            0,
            format!(
                "{gone}: unable to chdir: file does not exist\n\
                 {idle}: unable to open supervise/ok: file does not exist\n"
            ),
            String::new()
        )
    );
    let (code, _, err) = run(&dir.join("svc"), &["-z", idle]);
    assert_eq!(code, 100);
    assert!(err.starts_with("svc: illegal option -- z\n"), "{err}");
    assert_eq!(
        run(&dir.join("svc"), &["-u", gone]),
        (
            0,
            String::new(),
            format!("svc: warning: unable to chdir to {gone}: file does not exist\n")
        )
    );
}
