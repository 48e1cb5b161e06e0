//! svstat against daemontools 0.76's: status records of every shape
//! (daemontools' 18 bytes, runit's 20, short, long, empty), down files,
//! unusual directories; the lines and exit codes compared.

use runit_tests::*;

#[test]
fn svstat_lines_match_daemontools() {
    let Some((ours, theirs)) = daemontools_pair("svstat") else {
        return;
    };
    let sb = Sandbox::new();
    let d = sb.path();
    let mut held = Vec::new();
    // (name, status bytes, supervisor running, ./down present)
    let future = -1000;
    let cases: Vec<(&str, Option<Vec<u8>>, bool, bool)> = vec![
        (
            "up",
            Some(status_record(future, 4242, 0, b'u', None)),
            true,
            false,
        ),
        (
            "up-normally-down",
            Some(status_record(future, 4242, 0, b'u', None)),
            true,
            true,
        ),
        (
            "up-paused",
            Some(status_record(future, 4242, 1, b'u', None)),
            true,
            false,
        ),
        (
            "up-want-down",
            Some(status_record(future, 4242, 0, b'd', None)),
            true,
            false,
        ),
        (
            "up-once-dt",
            Some(status_record(future, 4242, 0, 0, None)),
            true,
            false,
        ),
        (
            "up-everything",
            Some(status_record(future, 4242, 1, b'd', None)),
            true,
            true,
        ),
        (
            "down",
            Some(status_record(future, 0, 0, b'd', None)),
            true,
            true,
        ),
        (
            "down-normally-up",
            Some(status_record(future, 0, 0, b'd', None)),
            true,
            false,
        ),
        (
            "down-want-up",
            Some(status_record(future, 0, 0, b'u', None)),
            true,
            false,
        ),
        (
            "down-want-up-normally-down",
            Some(status_record(future, 0, 0, b'u', None)),
            true,
            true,
        ),
        (
            "down-paused",
            Some(status_record(future, 0, 1, b'd', None)),
            true,
            true,
        ),
        (
            "old",
            Some(status_record(100_000, 7, 0, b'u', None)),
            true,
            false,
        ),
        (
            "runit-run",
            Some(status_record(future, 99, 0, b'u', Some((0, 1)))),
            true,
            false,
        ),
        (
            "runit-finish",
            Some(status_record(future, 98, 0, b'd', Some((0, 2)))),
            true,
            false,
        ),
        (
            "runit-got-term",
            Some(status_record(future, 97, 0, b'd', Some((1, 1)))),
            true,
            false,
        ),
        (
            "runit-down",
            Some(status_record(future, 0, 0, b'd', Some((0, 0)))),
            true,
            false,
        ),
        (
            "runit-bad-state",
            Some(status_record(future, 5, 0, b'u', Some((0, 9)))),
            true,
            false,
        ),
        (
            "nineteen",
            Some(status_record(future, 5, 0, b'u', Some((0, 1)))[..19].to_vec()),
            true,
            false,
        ),
        (
            "long",
            Some([status_record(future, 5, 0, b'u', Some((0, 1))), vec![7; 30]].concat()),
            true,
            false,
        ),
        (
            "short",
            Some(status_record(future, 5, 0, b'u', None)[..17].to_vec()),
            true,
            false,
        ),
        ("empty-status", Some(Vec::new()), true, false),
        ("no-status", None, true, false),
        (
            "not-running",
            Some(status_record(future, 5, 0, b'u', None)),
            false,
            false,
        ),
    ];
    for (name, status, running, down) in &cases {
        let dir = d.join(name);
        fake_service(&dir, status.as_deref(), *running, &mut held);
        if *down {
            std::fs::write(dir.join("down"), "").unwrap();
        }
    }
    std::fs::create_dir_all(d.join("status-dir/supervise/status")).unwrap();
    mkfifo(&d.join("status-dir/supervise/ok"));
    held.push(hold_fifo(&d.join("status-dir/supervise/ok")));
    std::fs::create_dir_all(d.join("down-loop/supervise")).unwrap();
    std::os::unix::fs::symlink("down", d.join("down-loop/down")).unwrap();
    std::fs::create_dir_all(d.join("down-dangling/supervise")).unwrap();
    std::os::unix::fs::symlink("nowhere", d.join("down-dangling/down")).unwrap();
    mkfifo(&d.join("down-dangling/supervise/ok"));
    std::fs::create_dir_all(d.join("ok-dir/supervise/ok")).unwrap();
    std::fs::create_dir(d.join("unsupervised")).unwrap();
    std::fs::write(d.join("plainfile"), "").unwrap();

    let mut args: Vec<String> = cases.iter().map(|c| c.0.to_string()).collect();
    for extra in [
        "down-loop",
        "down-dangling",
        "ok-dir",
        "unsupervised",
        "plainfile",
        "/nonexistent",
        "-x",
        "up",
        ".",
        "",
    ] {
        args.push(extra.into());
    }
    args.push(d.join("up").to_string_lossy().into_owned());
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let mine = run_tool(&sb, &ours, &a, d);
    let ref_ = run_tool(&sb, &theirs, &a, d);
    assert_eq!(mine.code, Some(0));
    assert_eq!(mine.stderr, "");
    assert_eq!(
        (norm_seconds(&mine.stdout), &mine.stderr, mine.code),
        (norm_seconds(&ref_.stdout), &ref_.stderr, ref_.code)
    );
    // Deterministic lines (stamps in the future read as 0 seconds).
    let lines: Vec<&str> = mine.stdout.lines().collect();
    for want in [
        "up: up (pid 4242) 0 seconds",
        "up-everything: up (pid 4242) 0 seconds, normally down, paused, want down",
        "up-once-dt: up (pid 4242) 0 seconds",
        "down-want-up: down 0 seconds, normally up, want up",
        "down-paused: down 0 seconds",
        "runit-finish: up (pid 98) 0 seconds, want down",
        "short: unable to read supervise/status: bad format",
        "no-status: unable to open supervise/status: file does not exist",
        "not-running: supervise not running",
        "down-loop: unable to stat down: symbolic link loop",
        "down-dangling: supervise not running",
        "ok-dir: unable to open supervise/ok: is a directory",
        "unsupervised: unable to open supervise/ok: file does not exist",
        "plainfile: unable to chdir: not a directory",
        "/nonexistent: unable to chdir: file does not exist",
        "-x: unable to chdir: file does not exist",
    ] {
        assert!(
            lines.contains(&want),
            "missing {want:?} in\n{}",
            mine.stdout
        );
    }
    assert!(
        lines.contains(&"old: up (pid 7) 100000 seconds")
            || lines.contains(&"old: up (pid 7) 100001 seconds")
    );
    // No arguments: nothing, status 0.
    assert_eq!(run_tool(&sb, &ours, &[], d), run_tool(&sb, &theirs, &[], d));
    // Deliberate difference: daemontools compares read(2)'s -1 with an
    // unsigned size, so a failed read passes as success and the line shows
    // the previous directory's record (or zeros). Ours says what happened.
    let ref_ = run_tool(&sb, &theirs, &["up-paused", "status-dir"], d);
    assert_eq!(
        norm_seconds(&ref_.stdout),
        "up-paused: up (pid 4242) N seconds, paused\nstatus-dir: up (pid 4242) N seconds, paused\n"
    );
    let mine = run_tool(&sb, &ours, &["up-paused", "status-dir"], d);
    assert_eq!(
        norm_seconds(&mine.stdout),
        "up-paused: up (pid 4242) N seconds, paused\n\
         status-dir: unable to read supervise/status: is a directory\n"
    );
    drop(held);
}

#[test]
fn fifo_as_status_file_is_bad_format_not_a_hang() {
    let Some((ours, theirs)) = daemontools_pair("svstat") else {
        return;
    };
    let sb = Sandbox::new();
    let d = sb.path();
    let mut held = Vec::new();
    fake_service(&d.join("svc"), None, true, &mut held);
    mkfifo(&d.join("svc/supervise/status"));
    for prog in [&ours, &theirs] {
        let o = run_tool_within(&sb, prog, &["svc"], d, WAIT);
        assert_eq!(
            (o.code, o.stdout.as_str(), o.stderr.as_str()),
            (
                Some(0),
                "svc: unable to read supervise/status: bad format\n",
                ""
            ),
            "{}",
            prog.display()
        );
    }
    drop(held);
}

/// daemontools prints a status's age through a double: past 2^53
/// seconds (a stamp from before 1970, say) its digits are the double's,
/// and ours are the same.
#[test]
fn huge_ages_are_printed_as_daemontools_prints_them() {
    let Some((ours, theirs)) = daemontools_pair("svstat") else {
        return;
    };
    let sb = Sandbox::new();
    let d = sb.path();
    let mut held = Vec::new();
    let mut b = Vec::new();
    b.extend_from_slice(&0x1fae_a7a2_9bb7_5d2du64.to_be_bytes());
    b.extend_from_slice(&[0, 0, 0, 0]);
    b.extend_from_slice(&2_510_240_337u32.to_le_bytes());
    b.extend_from_slice(&[1, b'u', 0, 1]);
    fake_service(&d.join("svc"), Some(&b), true, &mut held);
    let both = || {
        [&ours, &theirs].map(|p| {
            let o = run_tool_within(&sb, p, &["svc"], d, WAIT);
            (o.code, o.stdout, o.stderr)
        })
    };
    let mut outs = both();
    if outs[0] != outs[1] {
        // The age may have crossed a step of the double between the runs.
        outs = both();
    }
    assert_eq!(outs[0], outs[1], "ours, then daemontools'");
    // Near 2^61 a double steps by 512: the age printed is such a step
    // (the exact difference almost never is).
    let secs: u64 = outs[0]
        .1
        .split(") ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no age in {:?}", outs[0]));
    assert_eq!(secs % 512, 0, "{:?}", outs[0]);
    assert!(outs[0].1.ends_with(" seconds, paused\n"), "{:?}", outs[0]);
    drop(held);
}
