//! sv's command line, without a supervisor: usage, option errors, service
//! lookup and the failures it reports (runit 2.1.2's texts and codes).

use assert_cmd::Command;

fn sv() -> Command {
    let mut c = Command::cargo_bin("sv").unwrap();
    c.env_remove("SVDIR").env_remove("SVWAIT");
    c
}

const USAGE: &str = "usage: sv [-v] [-w sec] command service ...\n\n";

#[test]
fn usage_exits_100() {
    sv().assert().code(100).stdout("").stderr(USAGE);
    sv().arg("status").assert().code(100).stderr(USAGE);
    sv().args(["-v", "-w", "3"])
        .assert()
        .code(100)
        .stderr(USAGE);
    for bad in ["bogus", "rx", "fx", "Q", ""] {
        sv().args([bad, "svc"]).assert().code(100).stderr(USAGE);
    }
}

#[test]
fn machine_form_errors() {
    sv().args(["-o", "json", "up", "x"])
        .assert()
        .code(100)
        .stdout("")
        .stderr(USAGE);
    sv().args(["-o", "pid,nonsense", "status", "x"])
        .assert()
        .code(100)
        .stderr(format!("sv: unknown field: nonsense\n{USAGE}"));
    sv().args(["-o", "prom:", "status", "x"])
        .assert()
        .code(100)
        .stderr(format!("sv: -o prom: needs a file name\n{USAGE}"));
    sv().args(["-o"])
        .assert()
        .code(100)
        .stderr(format!("sv: option requires an argument -- o\n{USAGE}"));
    sv().args(["-o", "state,service", "status", "/nonexistent"])
        .assert()
        .code(6)
        .stdout("missing /nonexistent\n")
        .stderr("");
}

#[test]
fn option_errors() {
    sv().args(["-z", "status", "x"])
        .assert()
        .code(100)
        .stderr(format!("sv: illegal option -- z\n{USAGE}"));
    sv().arg("-w")
        .assert()
        .code(100)
        .stderr(format!("sv: option requires an argument -- w\n{USAGE}"));
    // -V: this suite's `$Id: ... $` line where runit prints its own.
    sv().arg("-V")
        .assert()
        .code(100)
        .stdout("")
        .stderr(format!("{}\n{USAGE}", supervise_proto::VERSION_ID));
}

#[test]
fn missing_services_fail_one_each() {
    let t = tempfile::tempdir().unwrap();
    for cmd in [
        "status",
        "up",
        "down",
        "once",
        "pause",
        "cont",
        "hup",
        "alarm",
        "interrupt",
        "quit",
        "1",
        "2",
        "term",
        "kill",
        "exit",
        "start",
        "stop",
        "reload",
        "restart",
        "shutdown",
        "force-stop",
        "force-reload",
        "force-restart",
        "force-shutdown",
        "try-restart",
        "check",
    ] {
        sv().env("SVDIR", t.path())
            .args([cmd, "a", "/no/such/b"])
            .assert()
            .code(2)
            .stdout(
                "fail: a: unable to change to service directory: file does not exist\n\
                 fail: /no/such/b: unable to change to service directory: file does not exist\n",
            );
    }
}

#[test]
fn unsupervised_directory() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("svc/supervise")).unwrap();
    sv().env("SVDIR", t.path())
        .args(["status", "svc"])
        .assert()
        .code(1)
        .stdout("warning: svc: unable to open supervise/ok: file does not exist\n");
    // A FIFO nobody reads: runsv is not running.
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        t.path().join("svc/supervise/ok"),
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .unwrap();
    sv().env("SVDIR", t.path())
        .args(["up", "svc"])
        .assert()
        .code(1)
        .stdout("fail: svc: runsv not running\n");
    sv().env("SVDIR", t.path())
        .args(["exit", "svc"])
        .assert()
        .code(0)
        .stdout("ok: svc: runsv not running\n");
}

#[test]
fn exit_code_is_capped_at_99() {
    let names: Vec<String> = (0..150).map(|i| format!("/no/such/{i}")).collect();
    sv().arg("status").args(&names).assert().code(99);
}

#[test]
fn lsb_mode_by_name() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("init.d")).unwrap();
    let link = t.path().join("init.d/myservice");
    std::os::unix::fs::symlink(assert_cmd::cargo::cargo_bin("sv"), &link).unwrap();
    let run = |args: &[&str]| {
        let mut c = Command::new(&link);
        c.env("SVDIR", t.path()).args(args);
        c.assert()
    };
    run(&[])
        .code(2)
        .stderr("usage: myservice [-w sec] command\n\n");
    run(&["sfoo"]).code(2);
    run(&["status"])
        .code(1)
        .stdout("fail: myservice: unable to change to service directory: file does not exist\n");
    run(&["start"]).code(1);
    // -o is sv's extension; an init script keeps runit's options.
    run(&["-o", "json", "status"])
        .code(2)
        .stderr("myservice: illegal option -- o\nusage: myservice [-w sec] command\n\n");
}
