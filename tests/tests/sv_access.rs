//! Status without root: the `status-group` and `control-group` settings.
//! runsv gives those groups access to supervise/; a user in the group
//! reads the status (and, for control-group, controls the service) with
//! our sv and runit's alike, and a user outside it gets runit's
//! "access denied" line, never a wrong state. Needs root (to start runsv
//! and to become `nobody` with chosen groups through setpriv(1)).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use runit_tests::*;

const NOBODY: u32 = 65534;
const READERS: u32 = 4242;
const OPERATORS: u32 = 4343;

fn root_with_setpriv() -> bool {
    let ok = rustix::process::geteuid().is_root()
        && std::process::Command::new("setpriv")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("*** not root or no setpriv: access tests skipped ***");
    }
    ok
}

/// A sandbox that `nobody` can enter, with a copy of runit's sv there
/// (the reference suite lives under root's home).
fn open_sandbox() -> (Sandbox, Option<PathBuf>) {
    let sb = Sandbox::new();
    std::fs::set_permissions(sb.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let theirs = reference().map(|r| {
        // Named sv: by any other name runit's sv is an LSB init script.
        std::fs::create_dir(sb.join("runit")).unwrap();
        let p = sb.join("runit/sv");
        copy_program(&r.runit("sv"), &p);
        p
    });
    (sb, theirs)
}

/// "stdout[stderr]rc=N" of `prog args` run as nobody with these groups.
fn as_nobody(sb: &Sandbox, groups: &[u32], prog: &Path, args: &[&str]) -> String {
    let mut c = sb.command("setpriv");
    c.arg(format!("--reuid={NOBODY}"))
        .arg(format!("--regid={NOBODY}"));
    if groups.is_empty() {
        c.arg("--clear-groups");
    } else {
        let g: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        c.arg(format!("--groups={}", g.join(",")));
    }
    c.arg("--").arg(prog).args(args).env_remove("SVDIR");
    let out = sb.run(c);
    normalize_sv(&format!(
        "{}[{}]rc={}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        out.status.code().unwrap_or(-1)
    ))
}

/// `group mode` of a path (following a symlink, as sv does).
fn group_mode(p: &Path) -> String {
    let m = std::fs::metadata(p).unwrap();
    format!("{} {:o}", m.gid(), m.mode() & 0o7777)
}

fn logged(sb: &Sandbox, name: &str) -> PathBuf {
    let d = sb.join(name);
    make_service(&d, "#!/bin/sh\nexec sleep 1000\n");
    write_script(d.join("log/run"), "#!/bin/sh\nexec cat > /dev/null\n");
    d
}

#[test]
fn status_group_reads_and_outsiders_do_not() {
    if !root_with_setpriv() {
        return;
    }
    let (mut sb, theirs) = open_sandbox();
    let d = logged(&sb, "web");
    std::fs::write(d.join("status-group"), format!("{READERS}\n")).unwrap();
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    wait_running(&d);
    wait_running(&d.join("log"));
    // The directory and ok go to the group; control and the files runit
    // writes keep their modes; the log service shares the setting.
    for sup in [d.join("supervise"), d.join("log/supervise")] {
        assert_eq!(group_mode(&sup), format!("{READERS} 750"));
        assert_eq!(group_mode(&sup.join("ok")), format!("{READERS} 620"));
        assert_eq!(group_mode(&sup.join("control")), "0 600");
        assert_eq!(group_mode(&sup.join("lock")), "0 600");
        assert_eq!(group_mode(&sup.join("status")), "0 644");
    }
    let dir = d.to_str().unwrap();
    let run_line = format!("run: {dir}: (pid N) Ns; run: log: (pid N) Ns\n[]rc=0");
    let denied = format!("warning: {dir}: unable to open supervise/ok: access denied\n[]rc=1");
    let control_denied =
        format!("warning: {dir}: unable to open supervise/control: access denied\n[]rc=1");
    let mut suites = vec![bin("sv")];
    suites.extend(theirs);
    for sv in &suites {
        assert_eq!(as_nobody(&sb, &[READERS], sv, &["status", dir]), run_line);
        // Reading is not controlling.
        assert_eq!(
            as_nobody(&sb, &[READERS], sv, &["down", dir]),
            control_denied
        );
        assert_eq!(as_nobody(&sb, &[], sv, &["status", dir]), denied);
        assert_eq!(as_nobody(&sb, &[OPERATORS], sv, &["status", dir]), denied);
    }
    let json = as_nobody(
        &sb,
        &[READERS],
        &bin("sv"),
        &["-o", "state,log.state", "status", dir],
    );
    assert_eq!(json, "run run\n[]rc=0");
    let json = as_nobody(&sb, &[], &bin("sv"), &["-o", "state", "status", dir]);
    assert_eq!(json, "unknown\n[]rc=7");
    // Readable, but ok not writable (modes changed by hand): runit's line
    // from both, never a state read from a file nobody may vouch for.
    std::fs::set_permissions(
        d.join("supervise/ok"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    for sv in &suites {
        assert_eq!(as_nobody(&sb, &[READERS], sv, &["status", dir]), denied);
    }
    let json = as_nobody(&sb, &[READERS], &bin("sv"), &["-o", "json", "status", dir]);
    assert!(
        json.contains(r#""state":"unknown","#)
            && json.contains(r#""error":"unable to open supervise/ok: access denied""#)
            && json.ends_with("[]rc=7"),
        "{json}"
    );
    stop_runsv(&mut sb, pid, &d).expect("runsv exits");
    sb.assert_no_leaks();
}

#[test]
fn control_group_controls() {
    if !root_with_setpriv() {
        return;
    }
    let (mut sb, theirs) = open_sandbox();
    // Controllers only: they read the status too.
    let ops = logged(&sb, "ops");
    std::fs::write(ops.join("control-group"), OPERATORS.to_string()).unwrap();
    // Separate groups: a controller must be in both.
    let both = logged(&sb, "both");
    std::fs::write(both.join("status-group"), READERS.to_string()).unwrap();
    std::fs::write(both.join("control-group"), OPERATORS.to_string()).unwrap();
    // The log has its own, narrower setting: readers only.
    std::fs::write(both.join("log/status-group"), READERS.to_string()).unwrap();
    let p1 = start_runsv(&mut sb, &bin("runsv"), &ops);
    let p2 = start_runsv(&mut sb, &bin("runsv"), &both);
    for d in [&ops, &both] {
        wait_running(d);
        wait_running(&d.join("log"));
    }
    assert_eq!(
        group_mode(&ops.join("supervise")),
        format!("{OPERATORS} 750")
    );
    assert_eq!(
        group_mode(&ops.join("supervise/control")),
        format!("{OPERATORS} 620")
    );
    assert_eq!(
        group_mode(&ops.join("log/supervise/control")),
        format!("{OPERATORS} 620")
    );
    assert_eq!(
        group_mode(&both.join("supervise")),
        format!("{READERS} 750")
    );
    assert_eq!(
        group_mode(&both.join("supervise/ok")),
        format!("{READERS} 620")
    );
    assert_eq!(
        group_mode(&both.join("supervise/control")),
        format!("{OPERATORS} 620")
    );
    assert_eq!(
        group_mode(&both.join("log/supervise")),
        format!("{READERS} 750")
    );
    assert_eq!(group_mode(&both.join("log/supervise/control")), "0 600");

    let mut suites = vec![bin("sv")];
    suites.extend(theirs);
    for sv in &suites {
        for (d, groups) in [(&ops, &[OPERATORS][..]), (&both, &[READERS, OPERATORS][..])] {
            let dir = d.to_str().unwrap();
            let down = format!("ok: down: {dir}: Ns, normally up\n[]rc=0");
            assert_eq!(as_nobody(&sb, groups, sv, &["-w", "10", "down", dir]), down);
            wait_down(d);
            let up = format!("ok: run: {dir}: (pid N) Ns\n[]rc=0");
            assert_eq!(as_nobody(&sb, groups, sv, &["-w", "10", "up", dir]), up);
        }
        // Only one of the two groups: not enough.
        let dir = both.to_str().unwrap();
        assert_eq!(
            as_nobody(&sb, &[OPERATORS], sv, &["down", dir]),
            format!("warning: {dir}: unable to open supervise/ok: access denied\n[]rc=1")
        );
        assert_eq!(
            as_nobody(&sb, &[READERS], sv, &["down", dir]),
            format!("warning: {dir}: unable to open supervise/control: access denied\n[]rc=1")
        );
        // Outsiders: nothing.
        let dir = ops.to_str().unwrap();
        assert_eq!(
            as_nobody(&sb, &[], sv, &["down", dir]),
            format!("warning: {dir}: unable to open supervise/ok: access denied\n[]rc=1")
        );
    }
    assert!(status_of(&ops).is_some_and(|s| s.wants_up() && s.pid != 0));
    for (p, d) in [(p1, &ops), (p2, &both)] {
        stop_runsv(&mut sb, p, d).expect("runsv exits");
    }
    sb.assert_no_leaks();
}

/// Group names come from /etc/group; a bad setting is a warning and
/// changes nothing; FIFOs a configuration tool chowned keep their owner.
#[test]
fn names_bad_values_and_existing_owners() {
    if !root_with_setpriv() {
        return;
    }
    let (mut sb, _) = open_sandbox();
    let named = sb.join("named");
    make_service(&named, "#!/bin/sh\nexec sleep 1000\n");
    let nogroup = std::fs::read_to_string("/etc/group")
        .unwrap()
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 2 && f[2] == NOBODY.to_string()).then(|| f[0].to_string())
        });
    let bad = sb.join("bad");
    make_service(&bad, "#!/bin/sh\nexec sleep 1000\n");
    std::fs::write(bad.join("status-group"), "no-such-group-here\n").unwrap();
    // Chef's way: supervise/ and its FIFOs made beforehand and given to a
    // user; runsv keeps the owner, and adds the group asked for.
    let chef = sb.join("chef");
    make_service(&chef, "#!/bin/sh\nexec sleep 1000\n");
    std::fs::create_dir(chef.join("supervise")).unwrap();
    for f in ["ok", "control"] {
        let p = chef.join("supervise").join(f);
        rustix::fs::mkfifoat(rustix::fs::CWD, &p, rustix::fs::Mode::from_raw_mode(0o600)).unwrap();
        std::os::unix::fs::chown(&p, Some(NOBODY), None).unwrap();
    }
    std::fs::write(chef.join("control-group"), OPERATORS.to_string()).unwrap();

    let mut pids = Vec::new();
    if let Some(name) = &nogroup {
        std::fs::write(named.join("status-group"), format!("{name}\n")).unwrap();
        pids.push((start_runsv(&mut sb, &bin("runsv"), &named), named.clone()));
    }
    pids.push((start_runsv(&mut sb, &bin("runsv"), &bad), bad.clone()));
    pids.push((start_runsv(&mut sb, &bin("runsv"), &chef), chef.clone()));
    for (_, d) in &pids {
        wait_running(d);
    }
    if nogroup.is_some() {
        assert_eq!(
            group_mode(&named.join("supervise")),
            format!("{NOBODY} 750")
        );
    }
    assert_eq!(group_mode(&bad.join("supervise")), "0 700");
    assert_eq!(group_mode(&bad.join("supervise/ok")), "0 600");
    assert_eq!(
        read(stderr_file(&bad)),
        format!(
            "runsv {}: warning: status-group: no such group: no-such-group-here\n",
            bad.display()
        )
    );
    let meta = std::fs::metadata(chef.join("supervise/control")).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o777),
        (NOBODY, OPERATORS, 0o620)
    );
    let meta = std::fs::metadata(chef.join("supervise/ok")).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o777),
        (NOBODY, OPERATORS, 0o620)
    );
    for (p, d) in pids {
        stop_runsv(&mut sb, p, &d).expect("runsv exits");
    }
    sb.assert_no_leaks();
}
