//! chpst and its personalities from the command line: texts, exit codes
//! and what the program it runs actually gets. The expected texts were
//! taken from runit 2.1.2's chpst (tests/tests/chpst.rs compares with it
//! directly), except the usage line, which is 2.3.0's (with -C).

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command as Cmd;

const USAGE: &str = "usage: chpst [-vVP012] [-u user[:group]] [-U user[:group]] [-b argv0] [-e dir] [-/ root] [-C pwd] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] [-t n] prog\n\n";

fn chpst() -> Cmd {
    Cmd::new(env!("CARGO_BIN_EXE_chpst"))
}

/// A temp dir (mode 0755, so other users can reach it) holding the six
/// personality symlinks.
struct Farm {
    dir: tempfile::TempDir,
}

impl Farm {
    fn new() -> Farm {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let exe = dir.path().join("chpst");
        // A copy, not a link: a test may run it as another user.
        runit_tests::copy_program(Path::new(env!("CARGO_BIN_EXE_chpst")), &exe);
        for p in chpst::personality::NAMES {
            symlink("chpst", dir.path().join(p)).unwrap();
        }
        Farm { dir }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn prog(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn cmd(&self, name: &str) -> Cmd {
        let mut c = Cmd::new(self.prog(name));
        c.current_dir(self.path());
        c
    }
}

fn is_root() -> bool {
    runit_tests::need_root("a test that changes users")
}

#[test]
fn usage_and_option_errors() {
    chpst().assert().code(100).stdout("").stderr(USAGE);
    chpst().arg("-v").assert().code(100).stderr(USAGE);
    chpst()
        .args(["-z", "true"])
        .assert()
        .code(100)
        .stderr(format!("chpst: illegal option -- z\n{USAGE}"));
    chpst()
        .arg("-u")
        .assert()
        .code(100)
        .stderr(format!("chpst: option requires an argument -- u\n{USAGE}"));
    for bad in [
        &["-l", "a", "-L", "b", "true"][..],
        &["-m", "1k", "true"],
        &["-n", "x", "true"],
        &["-o", "-1", "true"],
    ] {
        chpst().args(bad).assert().code(100).stderr(USAGE);
    }
    chpst()
        .args(["-V", "true"])
        .assert()
        .code(100)
        .stderr(format!("{}\n{USAGE}", supervise_proto::VERSION_ID));
}

#[test]
fn words_starting_with_double_dash_end_options() {
    chpst()
        .args(["--x", "echo", "hi"])
        .assert()
        .success()
        .stdout("hi\n");
    chpst()
        .args(["-v", "--", "echo", "-v"])
        .assert()
        .success()
        .stdout("-v\n");
}

#[test]
fn exec_failures_name_argv0() {
    chpst()
        .arg("no-such-program-runit-rs")
        .assert()
        .code(111)
        .stderr("chpst: fatal: unable to run: no-such-program-runit-rs: file does not exist\n");
    chpst()
        .args(["-b", "shown", "no-such-program-runit-rs"])
        .assert()
        .code(111)
        .stderr("chpst: fatal: unable to run: shown: file does not exist\n");
    chpst()
        .arg("/tmp")
        .assert()
        .code(111)
        .stderr("chpst: fatal: unable to run: /tmp: access denied\n");
}

#[test]
fn exit_status_and_argv0_pass_through() {
    chpst().args(["sh", "-c", "exit 7"]).assert().code(7);
    chpst()
        .args(["-b", "myname", "sh", "-c", "echo $0"])
        .assert()
        .success()
        .stdout("myname\n");
}

#[test]
fn unknown_and_invalid_accounts() {
    chpst()
        .args(["-u", "no-such-user-runit-rs", "true"])
        .assert()
        .code(111)
        .stderr("chpst: fatal: unknown user/group: no-such-user-runit-rs\n");
    chpst()
        .args(["-U", "root:no-such-group-runit-rs", "true"])
        .assert()
        .code(111)
        .stderr("chpst: fatal: unknown user/group: root:no-such-group-runit-rs\n");
    chpst()
        .args(["-u", ":12:x", "true"])
        .assert()
        .code(111)
        .stderr("chpst: fatal: invalid uid/gids: 12:x\n");
}

#[test]
fn env_uid_gid() {
    chpst()
        .args(["-U", ":5:6:7", "sh", "-c", "echo $UID $GID"])
        .assert()
        .success()
        .stdout("5 6\n");
    chpst()
        .args(["-U", "root", "sh", "-c", "echo $UID $GID"])
        .assert()
        .success()
        .stdout("0 0\n");
}

fn status_ids() -> [&'static str; 3] {
    [
        "sh",
        "-c",
        "grep -E '^(Uid|Gid|Groups)' /proc/self/status | tr -s '\\t ' ' '",
    ]
}

#[test]
fn set_user_groups_exactly_as_listed() {
    if !is_root() {
        return;
    }
    let mut c = chpst();
    c.args(["-u", "nobody"]).args(status_ids());
    c.assert()
        .success()
        .stdout("Uid: 65534 65534 65534 65534\nGid: 65534 65534 65534 65534\nGroups: 65534 \n");
    let mut c = chpst();
    c.args(["-u", ":1000:1001:1002"]).args(status_ids());
    c.assert()
        .success()
        .stdout("Uid: 1000 1000 1000 1000\nGid: 1001 1001 1001 1001\nGroups: 1001 1002 \n");
    let mut c = chpst();
    c.args(["-u", "nobody:root:daemon"]).args(status_ids());
    c.assert()
        .success()
        .stdout("Uid: 65534 65534 65534 65534\nGid: 0 0 0 0\nGroups: 0 1 \n");
}

#[test]
fn unprivileged_user_cannot_change_ids() {
    if !is_root() {
        return;
    }
    let farm = Farm::new();
    let inner = farm.prog("chpst");
    farm.cmd("chpst")
        .args(["-u", "nobody"])
        .arg(&inner)
        .args(["-u", "nobody", "true"])
        .assert()
        .code(111)
        .stderr("chpst: fatal: unable to setgroups: permission denied\n");
    farm.cmd("setuidgid")
        .arg("nobody")
        .arg(&inner)
        .args(["-n", "-1", "true"])
        .assert()
        .code(111)
        .stderr("chpst: fatal: unable to set nice level: permission denied\n");
}

#[test]
fn envdir_rules() {
    let d = tempfile::tempdir().unwrap();
    let e = d.path().join("env");
    std::fs::create_dir(&e).unwrap();
    std::fs::write(e.join("A"), "a b \t\nsecond").unwrap();
    std::fs::write(e.join("B"), "x\0y").unwrap();
    std::fs::write(e.join("EMPTY"), "\n").unwrap();
    std::fs::write(e.join("GONE"), "").unwrap();
    std::fs::write(e.join(".hidden"), "h").unwrap();
    std::fs::write(e.join("PATH"), "/nonexistent").unwrap();
    std::fs::create_dir(e.join("sub")).unwrap();
    let out = chpst()
        .current_dir(d.path())
        .env_clear()
        .env("GONE", "1")
        .env("PATH", "/usr/bin:/bin")
        .args(["-e", "env", "env"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .split_terminator('\n')
        .map(String::from)
        .collect();
    lines.sort();
    // B's NUL became a newline, so `env` prints "y" on a line of its own;
    // PATH from the envdir is passed on, but the search used the old one.
    assert_eq!(lines, ["A=a b", "B=x", "EMPTY=", "PATH=/nonexistent", "y"]);
    // A subdirectory: skipped by chpst -e (warned with -v) ...
    chpst()
        .current_dir(d.path())
        .args(["-v", "-e", "env", "true"])
        .assert()
        .success()
        .stderr("chpst: warning: unable to read env/sub: is a directory\n");
    // ... fatal for envdir.
    let farm = Farm::new();
    let mut c = Cmd::new(farm.prog("envdir"));
    c.current_dir(d.path()).args(["env", "true"]);
    c.assert()
        .code(111)
        .stderr("chpst: fatal: unable to read env/sub: is a directory\n");
    let mut c = Cmd::new(farm.prog("envdir"));
    c.current_dir(d.path()).args(["missing", "true"]);
    c.assert()
        .code(111)
        .stderr("chpst: fatal: unable to switch to directory: missing: file does not exist\n");
}

#[test]
fn unreadable_envdir_entry() {
    if !is_root() {
        return;
    }
    let farm = Farm::new();
    let e = farm.path().join("env");
    std::fs::create_dir(&e).unwrap();
    std::fs::write(e.join("SECRET"), "x").unwrap();
    std::fs::set_permissions(e.join("SECRET"), std::fs::Permissions::from_mode(0o600)).unwrap();
    farm.cmd("setuidgid")
        .args(["nobody", "./chpst", "-e", "env", "true"])
        .assert()
        .code(111)
        .stderr("chpst: fatal: unable to read env/SECRET: access denied\n");
}

#[test]
fn close_descriptors() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("fds");
    let script = format!("ls /proc/self/fd > {} 2>&1", out.display());
    chpst()
        .args(["-1", "-2", "sh", "-c", &script])
        .assert()
        .success();
    // sh reopened 1 and 2 for the redirection; 0 is still ours.
    let fds = std::fs::read_to_string(&out).unwrap();
    assert!(fds.lines().any(|l| l == "0"), "{fds}");
    chpst().args(["-0", "true"]).assert().success();
    // runit: closing an already closed descriptor is a failure.
    let st = Command::new(env!("CARGO_BIN_EXE_chpst"))
        .args(["-2", "-2", "sh", "-c", "exec 2>&-; exec \"$0\" -2 true"])
        .arg(env!("CARGO_BIN_EXE_chpst"))
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(111));
}

#[test]
fn limits_soft_only_and_clamped() {
    chpst()
        .args(["-o", "100", "-c", "0", "sh", "-c", "ulimit -Sn; ulimit -Sc"])
        .assert()
        .success()
        .stdout("100\n0\n");
    // Above the hard limit: clamped to it.
    let hard = String::from_utf8(
        Command::new("sh")
            .args(["-c", "ulimit -Hn"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    chpst()
        .args(["-o", "999999999999", "sh", "-c", "ulimit -Sn"])
        .assert()
        .success()
        .stdout(hard.clone());
    let farm = Farm::new();
    farm.cmd("softlimit")
        .args(["-o", "=", "sh", "-c", "ulimit -Sn"])
        .assert()
        .success()
        .stdout(hard);
    farm.cmd("softlimit")
        .args(["-m", "x", "true"])
        .assert()
        .code(100)
        .stderr(USAGE.replacen("chpst", "softlimit", 1));
}

#[test]
fn nice_and_session() {
    let nice = |extra: &[&str]| {
        let out = chpst()
            .args(extra)
            .args(["sh", "-c", "cut -d')' -f2 /proc/self/stat | cut -d' ' -f18"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse::<i32>()
            .unwrap()
    };
    let base = nice(&[]);
    assert_eq!(nice(&["-n", "+3"]), (base + 3).min(19));
    assert_eq!(nice(&["-n", "2"]), (base + 2).min(19));
    // -P: the program leads a new session (and process group).
    chpst()
        .args([
            "-P",
            "sh",
            "-c",
            "set -- $(cut -d')' -f2 /proc/self/stat); [ $3 = $$ ] && [ $4 = $$ ] && echo leader",
        ])
        .assert()
        .success()
        .stdout("leader\n");
}

#[test]
fn chroot_and_chdir() {
    if !is_root() {
        return;
    }
    // An empty new root: the program is looked up inside it.
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("w")).unwrap();
    chpst()
        .args(["-/"])
        .arg(d.path())
        .args(["/bin/sh", "-c", "true"])
        .assert()
        .code(111)
        .stderr("chpst: fatal: unable to run: /bin/sh: file does not exist\n");
    chpst()
        .args(["-/", "/nonexistent-root", "true"])
        .assert()
        .code(111)
        .stderr(
            "chpst: fatal: unable to change directory: /nonexistent-root: file does not exist\n",
        );
    // -C (runit 2.2.0): the working directory, after the chroot.
    chpst()
        .args(["-C"])
        .arg(d.path().join("w"))
        .args(["sh", "-c", "pwd"])
        .assert()
        .success()
        .stdout(format!("{}\n", d.path().join("w").display()));
    chpst()
        .args(["-/", "/", "-C", "/nonexistent-dir", "true"])
        .assert()
        .code(111)
        .stderr(
            "chpst: fatal: unable to change directory: /nonexistent-dir: file does not exist\n",
        );
}

#[test]
fn personalities_usage() {
    let farm = Farm::new();
    for (p, u) in [
        ("envdir", "usage: envdir dir child\n\n"),
        ("envuidgid", "usage: envuidgid account child\n\n"),
        ("pgrphack", "usage: pgrphack child\n\n"),
        (
            "setlock",
            "usage: setlock [ -nNxX ] file program [ arg ... ]\n\n",
        ),
        ("setuidgid", "usage: setuidgid account child\n\n"),
    ] {
        farm.cmd(p).assert().code(100).stderr(u);
    }
    farm.cmd("setlock")
        .args(["-z", "f", "true"])
        .assert()
        .code(100)
        .stderr(
            "setlock: illegal option -- z\nusage: setlock [ -nNxX ] file program [ arg ... ]\n\n",
        );
    farm.cmd("setuidgid")
        .args(["nobody:nogroup", "true"])
        .assert()
        .code(111)
        .stderr("chpst: fatal: unknown account: nobody:nogroup\n");
    farm.cmd("envuidgid")
        .args(["root", "sh", "-c", "echo $UID:$GID"])
        .assert()
        .success()
        .stdout("0:0\n");
    farm.cmd("pgrphack")
        .arg("no-such-program-runit-rs")
        .assert()
        .code(111)
        .stderr("chpst: fatal: unable to run: no-such-program-runit-rs: file does not exist\n");
}

#[test]
fn lock_held() {
    let farm = Farm::new();
    let me = farm.prog("chpst");
    // The outer chpst holds the lock while the inner one tries.
    farm.cmd("chpst")
        .args(["-L", "lk"])
        .arg(&me)
        .args(["-L", "lk", "true"])
        .assert()
        .code(111)
        .stderr("chpst: fatal: unable to lock: lk: temporary failure\n");
    // setlock: no wait by default (runit inverts daemontools here) ...
    farm.cmd("chpst")
        .args(["-l", "lk"])
        .arg(farm.prog("setlock"))
        .args(["lk", "true"])
        .assert()
        .code(111)
        .stderr("chpst: fatal: unable to lock: lk: temporary failure\n");
    // ... and -x makes both kinds of failure a silent success.
    farm.cmd("chpst")
        .args(["-l", "lk"])
        .arg(farm.prog("setlock"))
        .args(["-x", "lk", "echo", "ran"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    farm.cmd("setlock")
        .args(["-x", "lk", "no-such-program-runit-rs"])
        .assert()
        .success()
        .stderr("");
    farm.cmd("setlock")
        .args(["/nonexistent/lk", "true"])
        .assert()
        .code(111)
        .stderr("chpst: fatal: unable to open lock: /nonexistent/lk: file does not exist\n");
    // The lock file: created 0600, the descriptor inherited, flock'ed.
    let out = farm
        .cmd("chpst")
        .args([
            "-L",
            "new",
            "sh",
            "-c",
            "grep -c FLOCK /proc/self/fdinfo/3; stat -c %a new",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n600\n");
}

#[test]
fn setlock_n_waits_for_the_lock() {
    let farm = Farm::new();
    // Holder: keeps the lock until its stdin closes.
    let mut holder = Command::new(farm.prog("chpst"))
        .current_dir(farm.path())
        .args(["-L", "lk", "sh", "-c", "echo locked; read x"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line, "locked\n");
    let mut waiter = Command::new(farm.prog("setlock"))
        .current_dir(farm.path())
        .args(["-n", "lk", "sh", "-c", "echo got"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The lock is still held, so the waiter cannot have finished.
    assert!(waiter.try_wait().unwrap().is_none());
    drop(holder.stdin.take());
    holder.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while waiter.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "setlock -n never got the lock");
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = waiter.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "got\n");
}

#[test]
fn sigpipe_and_signal_state_pass_through() {
    // chpst must not leave SIGPIPE ignored for the program (a Rust
    // start-up default) ...
    let out = chpst()
        .args(["grep", "SigIgn", "/proc/self/status"])
        .output()
        .unwrap();
    let ign = String::from_utf8_lossy(&out.stdout).to_string();
    let direct = Command::new("grep")
        .args(["SigIgn", "/proc/self/status"])
        .output()
        .unwrap();
    assert_eq!(ign, String::from_utf8_lossy(&direct.stdout));
    // ... nor reopen a closed standard descriptor.
    let st = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "exec 0<&-; exec {} sh -c 'test -e /proc/self/fd/0 && exit 1; exit 0'",
            env!("CARGO_BIN_EXE_chpst")
        ))
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn makefile_installs_every_personality() {
    // The Makefile cannot import the Rust list, so this keeps the two equal.
    let makefile = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Makefile"))
        .expect("the workspace Makefile");
    let listed: Vec<&str> = makefile
        .lines()
        .find_map(|l| l.strip_prefix("PERSONALITIES = "))
        .expect("a PERSONALITIES = line")
        .split_whitespace()
        .collect();
    assert_eq!(listed, chpst::personality::NAMES);
}
