//! chpst and its personalities, differentially: every scenario runs the
//! same command line under runit 2.1.2's chpst and under ours, and the
//! transcripts (exit status, stdout, stderr) must match byte for byte,
//! save one chosen difference: ours prints runit 2.3.0's usage line, which
//! lists the -C we implement (the reference's 2.1.2 line is swapped for it
//! before comparing).
//! The programs they run are probes printing what they see: ids and
//! groups from /proc/self/status, the environment (order included),
//! /proc/self/limits, nice value, session and process group, open
//! descriptors and lock state, root and working directory.

use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use runit_tests::*;

use chpst::personality::NAMES as PERSONALITIES;

/// runit 2.1.2's usage text, which 2.3.0's (ours) extends by `[-C pwd]`.
const USAGE_2_1_2: &str = " [-vVP012] [-u user[:group]] [-U user[:group]] [-b argv0] [-e dir] [-/ root] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] [-t n] prog";

/// One run: exit code or signal, stdout, stderr.
#[derive(Debug, PartialEq, Eq)]
struct Transcript {
    status: String,
    stdout: String,
    stderr: String,
}

/// A directory with `chpst` (a copy, so that unprivileged users can run
/// it) and the personality symlinks.
fn farm(dir: &Path, binary: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    copy_program(binary, &dir.join("chpst"));
    for p in PERSONALITIES {
        symlink("chpst", dir.join(p)).unwrap();
    }
    dir.to_path_buf()
}

struct World {
    sb: Sandbox,
    ours: PathBuf,
    theirs: PathBuf,
}

impl World {
    fn new() -> Option<World> {
        let reference = reference()?;
        let sb = Sandbox::new();
        std::fs::set_permissions(sb.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let ours = farm(&sb.join("ours"), &bin("chpst"));
        let theirs = farm(&sb.join("ref"), &reference.runit("chpst"));
        let e = sb.join("e");
        std::fs::create_dir(&e).unwrap();
        std::fs::write(e.join("A"), "a b \t\nsecond").unwrap();
        std::fs::write(e.join("B"), "x\0y").unwrap();
        std::fs::write(e.join("HOME"), "").unwrap();
        std::fs::write(e.join("EMPTY"), "\n").unwrap();
        std::fs::write(e.join("PATH"), "/nonexistent").unwrap();
        std::fs::write(e.join(".hidden"), "v").unwrap();
        std::fs::write(e.join("X=Y"), "q\n").unwrap();
        std::fs::write(e.join("SECRET"), "s").unwrap();
        std::fs::set_permissions(e.join("SECRET"), std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::create_dir(e.join("sub")).unwrap();
        let flat = sb.join("flat");
        std::fs::create_dir(&flat).unwrap();
        std::fs::write(flat.join("ONE"), "1").unwrap();
        std::fs::write(flat.join("FOO"), "").unwrap();
        Some(World { sb, ours, theirs })
    }

    /// Runs `prog args` from farm `dir`, with `{D}` in args standing for
    /// the farm, in a fixed environment.
    fn run(&self, dir: &Path, prog: &str, args: &[&str]) -> Transcript {
        let d = dir.to_str().unwrap();
        // "sh": a shell that then runs {D}/... itself.
        let exe = if prog == "sh" {
            PathBuf::from("/bin/sh")
        } else {
            dir.join(prog)
        };
        let mut c = Command::new(exe);
        c.args(args.iter().map(|a| a.replace("{D}", d)))
            .current_dir(self.sb.path())
            .env_clear()
            .env(TAG_VAR, self.sb.tag())
            .env("FOO", "1")
            .env("HOME", "/h")
            .env("PATH", "/usr/bin:/bin")
            .env("UID", "77")
            .stdin(Stdio::null());
        let o = c.output().unwrap();
        let status = match (o.status.code(), o.status.signal()) {
            (Some(c), _) => format!("exit {c}"),
            (_, Some(s)) => format!("signal {s}"),
            _ => "?".into(),
        };
        let norm = |b: &[u8]| String::from_utf8_lossy(b).replace(d, "{D}");
        Transcript {
            status,
            stdout: norm(&o.stdout),
            stderr: norm(&o.stderr),
        }
    }

    /// Runs a scenario under both and asserts equal transcripts; returns
    /// ours for further checks.
    fn same(&self, prog: &str, args: &[&str]) -> Transcript {
        let mut theirs = self.run(&self.theirs, prog, args);
        theirs.stderr = theirs.stderr.replace(USAGE_2_1_2, chpst::chpst::USAGE);
        let ours = self.run(&self.ours, prog, args);
        assert_eq!(ours, theirs, "\nscenario: {prog} {args:?}");
        if std::env::var_os("CHPST_SHOW").is_some() {
            eprintln!("== {prog} {args:?}\n{ours:#?}");
        }
        ours
    }
}

fn is_root() -> bool {
    need_root("scenarios that change users or the root directory")
}

const IDS: &str = "grep -E '^(Uid|Gid|Groups)' /proc/self/status";

#[test]
fn usage_and_bad_input() {
    let Some(mut w) = World::new() else { return };
    for args in [
        &[][..],
        &["-z", "true"],
        &["-u"],
        &["-v"],
        &["-l", "a", "-L", "b", "true"],
        &["-L", "a", "-l", "b", "true"],
        &["-m", "x", "true"],
        &["-o", "1k", "true"],
        &["-n", "-+3", "true"],
        &["-n", "x", "true"],
        &["-vz"],
        &["-e"],
    ] {
        w.same("chpst", args);
    }
    for p in PERSONALITIES {
        w.same(p, &[]);
        w.same(p, &["x"]);
    }
    w.same("setlock", &["-z", "lk", "true"]);
    w.same("setlock", &["-n"]);
    w.same("softlimit", &["-z", "true"]);
    w.same("softlimit", &["-m", "x", "true"]);
    w.same("softlimit", &["-o"]);
    w.sb.assert_no_leaks();
}

#[test]
fn option_scanning_and_exec() {
    let Some(mut w) = World::new() else { return };
    w.same("chpst", &["--x", "echo", "hi"]);
    w.same("chpst", &["-v", "--", "echo", "-v"]);
    w.same("chpst", &["-", "echo"]);
    w.same("chpst", &["no-such-program"]);
    w.same("chpst", &["-b", "shown", "no-such-program"]);
    w.same("chpst", &["/nonexistent/prog"]);
    w.same("chpst", &["./e"]);
    w.same("chpst", &["sh", "-c", "exit 7"]);
    w.same("chpst", &["sh", "-c", "kill -TERM $$"]);
    w.same(
        "chpst",
        &[
            "-b",
            "myname",
            "sh",
            "-c",
            "echo $0; tr '\\0' ' ' < /proc/$$/cmdline",
        ],
    );
    w.same("pgrphack", &["no-such-program"]);
    w.same("softlimit", &["no-such-program"]);
    w.sb.assert_no_leaks();
}

#[test]
fn environment_and_envdir() {
    let Some(mut w) = World::new() else { return };
    // Whole environment, order included.
    w.same("chpst", &["-e", "e", "env"]);
    w.same("chpst", &["-e", "flat", "-U", ":5:6", "env"]);
    w.same("chpst", &["-U", "nobody:root:daemon", "env"]);
    w.same("chpst", &["-U", ":5", "env"]);
    w.same("chpst", &["-v", "-e", "e", "true"]);
    w.same("chpst", &["-v", "-e", "e/", "true"]);
    w.same("chpst", &["-e", "missing", "true"]);
    w.same("chpst", &["-e", "flat/ONE", "true"]);
    // The envdir's PATH is passed on, but not used for the search.
    w.same("chpst", &["-e", "e", "sh", "-c", "echo $PATH"]);
    w.same("envdir", &["e", "true"]);
    w.same("envdir", &["flat", "env"]);
    w.same("envdir", &["missing", "true"]);
    w.same("envuidgid", &["nobody", "env"]);
    w.same("envuidgid", &["nosuch-user", "env"]);
    if is_root() {
        // Unreadable entry: read as nobody.
        w.same("setuidgid", &["nobody", "{D}/chpst", "-e", "e", "true"]);
        // The envdir is read before the uid changes.
        w.same("chpst", &["-u", "nobody", "-e", "e", "env"]);
    }
    w.sb.assert_no_leaks();
}

#[test]
fn users_and_groups() {
    let Some(mut w) = World::new() else { return };
    let sixty: Vec<String> = (1..=60).map(|i| i.to_string()).collect();
    let sixty = sixty.join(":");
    let n60 = format!(":1000:{sixty}");
    let n60c = format!(":1000:{sixty}:");
    let n61 = format!(":1000:{sixty}:61");
    let names60 = format!("nobody{}", ":daemon".repeat(60));
    let names61 = format!("{names60}:nosuch:root");
    for spec in [
        "nosuch-user",
        "nobody:nosuch",
        "root:",
        "nobody::",
        "nobody:0",
        "0",
        ":",
        ":12",
        ":12:x",
        ":a:1",
        n61.as_str(),
    ] {
        w.same("chpst", &["-u", spec, "true"]);
    }
    w.same("setuidgid", &["nosuch-user", "true"]);
    w.same("setuidgid", &["nobody:nogroup", "true"]);
    if !is_root() {
        return;
    }
    for spec in [
        "nobody",
        "nobody:root",
        "nobody:root:daemon:nogroup",
        ":1000:1001:1002",
        ":1000:",
        ":1000::3",
        ":1000:1:",
        "::",
        ":99999999999:1",
        n60.as_str(),
        n60c.as_str(),
        names60.as_str(),
        names61.as_str(),
    ] {
        w.same("chpst", &["-u", spec, "sh", "-c", IDS]);
    }
    w.same("setuidgid", &["nobody", "sh", "-c", IDS]);
    w.same("setuidgid", &["root", "sh", "-c", IDS]);
    // Unprivileged: every privileged step fails with runit's message.
    w.same(
        "chpst",
        &["-u", "nobody", "{D}/chpst", "-u", "nobody", "true"],
    );
    w.same(
        "chpst",
        &["-u", "nobody", "{D}/setuidgid", "nobody", "true"],
    );
    w.same("chpst", &["-u", "nobody", "{D}/chpst", "-n", "-1", "true"]);
    w.same("chpst", &["-u", "nobody", "{D}/chpst", "-/", "/", "true"]);
    w.same(
        "chpst",
        &[
            "-u",
            "nobody",
            "{D}/chpst",
            "-U",
            "nobody",
            "sh",
            "-c",
            "echo $UID $GID",
        ],
    );
    w.sb.assert_no_leaks();
}

#[test]
fn nice_session_descriptors_root() {
    let Some(mut w) = World::new() else { return };
    let nice = "cut -d')' -f2 /proc/self/stat | cut -d' ' -f18";
    for n in ["5", "+2", "-", "99", "0"] {
        w.same("chpst", &["-n", n, "sh", "-c", nice]);
    }
    if is_root() {
        w.same("chpst", &["-n", "-3", "sh", "-c", nice]);
    }
    let session = "set -- $(cut -d')' -f2 /proc/self/stat); [ $3 = $$ ] && echo pgrp-leader; [ $4 = $$ ] && echo session-leader; true";
    w.same("chpst", &["sh", "-c", session]);
    w.same("chpst", &["-P", "sh", "-c", session]);
    w.same("pgrphack", &["sh", "-c", session]);
    let fds = "ls /proc/self/fd >&2";
    w.same("chpst", &["sh", "-c", fds]);
    w.same("chpst", &["-0", "sh", "-c", fds]);
    w.same("chpst", &["-1", "sh", "-c", fds]);
    w.same("chpst", &["-0", "-1", "sh", "-c", fds]);
    w.same("chpst", &["-2", "sh", "-c", "ls /proc/self/fd"]);
    w.same("chpst", &["-0", "-0", "true"]);
    // Closing what is already closed is runit's "unable to close".
    w.same("sh", &["-c", "exec {D}/chpst -0 true <&-"]);
    w.same("sh", &["-c", "exec {D}/chpst -2 true 2>&-"]);
    let wher = "readlink /proc/self/root; pwd";
    if is_root() {
        w.same("chpst", &["-/", "/", "sh", "-c", wher]);
        w.same("chpst", &["-/", "/nonexistent", "true"]);
        w.same("chpst", &["-/", "e", "/bin/sh"]);
    }
    w.sb.assert_no_leaks();
}

#[test]
fn limits() {
    let Some(mut w) = World::new() else { return };
    let lim = "cat /proc/self/limits";
    w.same(
        "chpst",
        &[
            "-o",
            "100",
            "-p",
            "50",
            "-f",
            "1000000",
            "-c",
            "0",
            "-r",
            "4096",
            "-t",
            "100",
            "-d",
            "100000000",
            "sh",
            "-c",
            lim,
        ],
    );
    w.same("chpst", &["-m", "100000000", "sh", "-c", lim]);
    w.same(
        "chpst",
        &["-m", "100000000", "-d", "200000000", "sh", "-c", lim],
    );
    w.same("chpst", &["-o", "999999999999", "sh", "-c", lim]);
    for v in [
        "18446744073709551615",
        "18446744073709551614",
        "9223372036854775808",
        "18446744073709551617",
    ] {
        w.same(
            "sh",
            &[
                "-c",
                &format!("ulimit -Sn 50; exec {{D}}/chpst -o {v} sh -c 'ulimit -n'"),
            ],
        );
    }
    w.same(
        "softlimit",
        &[
            "-m",
            "100000000",
            "-s",
            "5000000",
            "-t",
            "10",
            "-c",
            "=",
            "sh",
            "-c",
            lim,
        ],
    );
    w.same(
        "softlimit",
        &[
            "-a",
            "100000000",
            "-l",
            "4096",
            "-o",
            "=",
            "-p",
            "=",
            "-f",
            "=",
            "-r",
            "=",
            "-d",
            "=",
            "sh",
            "-c",
            lim,
        ],
    );
    w.same(
        "sh",
        &[
            "-c",
            "ulimit -Sn 50; exec {D}/softlimit -o = sh -c 'ulimit -n'",
        ],
    );
    w.same("chpst", &["-c", "0", "-m", "", "true"]);
    w.sb.assert_no_leaks();
}

#[test]
fn locks() {
    let Some(mut w) = World::new() else { return };
    let probe = "ls /proc/self/fd; grep -E '^(flags|lock)' /proc/self/fdinfo/3 | sed 's/ [0-9]* [0-9a-f]*:[0-9a-f]*:[0-9]* / PID DEV /'; stat -c %a lk";
    w.same("chpst", &["-L", "lk", "sh", "-c", probe]);
    w.same("chpst", &["-l", "lk", "sh", "-c", probe]);
    w.same("setlock", &["lk", "sh", "-c", probe]);
    w.same("setlock", &["-n", "lk", "true"]);
    // Held by the outer program: the inner one fails or stays silent.
    w.same("chpst", &["-L", "lk", "{D}/chpst", "-L", "lk", "true"]);
    w.same("chpst", &["-l", "lk", "{D}/setlock", "lk", "true"]);
    w.same("chpst", &["-l", "lk", "{D}/setlock", "-N", "lk", "true"]);
    w.same(
        "chpst",
        &["-l", "lk", "{D}/setlock", "-x", "lk", "echo", "ran"],
    );
    w.same("chpst", &["-l", "lk", "{D}/setlock", "-xX", "lk", "true"]);
    w.same("setlock", &["/nonexistent/lk", "true"]);
    w.same("setlock", &["-x", "/nonexistent/lk", "true"]);
    w.same("setlock", &["-x", "lk", "no-such-program"]);
    w.same("setlock", &["lk", "no-such-program"]);
    w.same("chpst", &["-L", "/nonexistent/lk", "true"]);
    if is_root() {
        // The lock is opened as the new user.
        w.same("chpst", &["-u", "nobody", "-L", "lk", "true"]);
        w.same("chpst", &["-u", "nobody", "-L", "newlk", "true"]);
    }
    w.sb.assert_no_leaks();
}

#[test]
fn version_line_is_ours() {
    // -V names this implementation in runit's `$Id: ... $` shape; the
    // usage that follows (2.3.0's) and the exit code are runit's.
    let Some(mut w) = World::new() else { return };
    let theirs = w.run(&w.theirs, "chpst", &["-V"]);
    let ours = w.run(&w.ours, "chpst", &["-V"]);
    assert_eq!(ours.status, theirs.status);
    let (id, tail) = theirs.stderr.split_once('\n').unwrap();
    assert!(id.starts_with("$Id: ") && id.ends_with(" $"), "{id}");
    assert_eq!(
        ours.stderr,
        format!(
            "{}\n{}",
            supervise_proto::VERSION_ID,
            tail.replace(USAGE_2_1_2, chpst::chpst::USAGE)
        )
    );
    w.sb.assert_no_leaks();
}

#[test]
fn chdir_option_from_runit_2_2() {
    // -C is not in 2.1.2 (its chpst calls it illegal); ours applies it
    // after the chroot, as 2.2.0 does.
    let Some(mut w) = World::new() else { return };
    let theirs = w.run(&w.theirs, "chpst", &["-C", "e", "pwd"]);
    assert_eq!(theirs.status, "exit 100");
    let ours = w.run(&w.ours, "chpst", &["-C", "e", "pwd"]);
    assert_eq!(ours.status, "exit 0");
    assert_eq!(ours.stdout, format!("{}\n", w.sb.join("e").display()));
    if is_root() {
        let ours = w.run(&w.ours, "chpst", &["-/", "/", "-C", "e", "pwd"]);
        assert_eq!(
            ours.stderr,
            "chpst: fatal: unable to change directory: e: file does not exist\n"
        );
        let ours = w.run(&w.ours, "chpst", &["-/", "/", "-C", "/tmp", "pwd"]);
        assert_eq!(ours.stdout, "/tmp\n");
    }
    w.sb.assert_no_leaks();
}

#[test]
fn dangling_envdir_entry_unsets() {
    // Deliberate difference: runit gives a dangling entry the previous
    // entry's value (plus a newline); ours unsets the variable.
    let Some(mut w) = World::new() else { return };
    let d = w.sb.join("dangle");
    std::fs::create_dir(&d).unwrap();
    for n in ["A", "B", "C", "E", "F", "G", "H"] {
        std::fs::write(d.join(n), format!("val{n}")).unwrap();
    }
    symlink("/nonexistent", d.join("D")).unwrap();
    let ours = w.run(&w.ours, "chpst", &["-e", "dangle", "env"]);
    assert_eq!(ours.status, "exit 0");
    assert!(
        !ours.stdout.lines().any(|l| l.starts_with("D=")),
        "{}",
        ours.stdout
    );
    for n in ["A", "B", "C", "E", "F", "G", "H"] {
        assert!(ours.stdout.contains(&format!("{n}=val{n}\n")));
    }
    // runit's quirk shows only when D is not the first entry read.
    let first = std::fs::read_dir(&d)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    if first != "D" {
        let theirs = w.run(&w.theirs, "chpst", &["-e", "dangle", "env"]);
        assert!(
            theirs.stdout.lines().any(|l| l.starts_with("D=val")),
            "{}",
            theirs.stdout
        );
    }
    w.sb.assert_no_leaks();
}
