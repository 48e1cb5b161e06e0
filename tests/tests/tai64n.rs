//! tai64n and tai64nlocal against daemontools 0.76's: the same input,
//! the same output (stamps masked, then checked against the clock), the
//! same exit codes; and the two round trip through each other.

use runit_tests::*;

#[test]
fn tai64nlocal_matches_daemontools() {
    let Some((ours, theirs)) = daemontools_pair("tai64nlocal") else {
        return;
    };
    let sb = Sandbox::new();
    let inputs: &[&[u8]] = &[
        b"@4000000037c219bf2ef02e94 mark\nplain\n",
        b"@4000000037c219bf2ef02e94mark\nx@4000000037c219bf2ef02e94\n",
        b"@4000000037c219bf2ef02e94\n@4000000037c219bf2ef02e94 \n",
        b"abc",
        b"",
        b"\n\n@400000000000000a00000000 x\n",
        b"@400000000000000affffffff x\n@00400000000000000a00000001 x\n",
        b"@400000000000000a00000001\r\n@3fffffffffffffff00000000 pre\n",
        b"@3ffffffff0000000000000ab pre\n",
        b"@400000006b01427a2544e6b4 up\n@400000006b01427a2544e6b4\tbinary \x00\xff\n",
        b"@4000000037c219bf2ef02e94 no newline at the end",
    ];
    for tz in ["UTC", "US/Pacific", "Europe/Berlin", "Asia/Kolkata"] {
        for input in inputs {
            let mut c = sb.command(&ours);
            c.env("TZ", tz);
            let a = outcome(feed(c, input));
            let mut c = sb.command(&theirs);
            c.env("TZ", tz);
            let b = outcome(feed(c, input));
            assert_eq!(a, b, "TZ={tz} input {:?}", String::from_utf8_lossy(input));
        }
    }
    // Where daemontools crashes (SIGSEGV: localtime fails) or drops a
    // stamp cut short by end of input, ours passes the text on.
    for (input, want) in [
        (&b"@\n"[..], &b"@\n"[..]),
        (b"@4000 short\n", b"@4000 short\n"),
        (
            b"@4000000037C219BF2EF02E94 upper\n",
            b"@4000000037C219BF2EF02E94 upper\n",
        ),
        (
            b"a\n@400000000000000a00000000",
            b"a\n1970-01-01 00:00:00.000000000",
        ),
    ] {
        let mut c = sb.command(&ours);
        c.env("TZ", "UTC");
        let a = outcome(feed(c, input));
        assert_eq!(a.code, Some(0));
        assert_eq!(a.stdout.as_bytes(), want);
    }
}

/// Replaces the 24 hex digits after each line's `@`.
fn norm_stamps(s: &str) -> String {
    s.split_inclusive('\n')
        .map(|l| match l.strip_prefix('@') {
            Some(rest) if rest.len() >= 24 && rest[..24].bytes().all(|b| b.is_ascii_hexdigit()) => {
                format!("@STAMP{}", &rest[24..])
            }
            _ => l.to_string(),
        })
        .collect()
}

#[test]
fn tai64n_matches_daemontools() {
    let Some((ours, theirs)) = daemontools_pair("tai64n") else {
        return;
    };
    let sb = Sandbox::new();
    let d = sb.path();
    let inputs: &[&[u8]] = &[
        b"a\n\nb\n",
        b"",
        b"no newline",
        b"\x00\xff\r\n@x\n",
        &[b'y'; 20000],
    ];
    for input in inputs {
        let before = now_tai();
        let a = run_tool_with(&sb, &ours, &[], d, input);
        let after = now_tai();
        let b = run_tool_with(&sb, &theirs, &[], d, input);
        assert_eq!(
            (norm_stamps(&a.stdout), &a.stderr, a.code),
            (norm_stamps(&b.stdout), &b.stderr, b.code)
        );
        for line in a.stdout.split_inclusive('\n') {
            let t = supervise_proto::Tai64n::parse(&line[..25]).expect("stamp");
            assert!(t.secs >= before && t.secs <= after, "{line}");
            assert_eq!(t.nanos % 1000, 500);
            assert_eq!(&line[25..26], " ");
        }
    }
    // Trouble reading stdin or writing stdout: 111, silently.
    for prog in [&ours, &theirs] {
        let mut c = sb.command(prog);
        c.stdin(std::fs::File::open(d).unwrap());
        let o = outcome(c.output().unwrap());
        assert_eq!((o.code, o.stderr.as_str()), (Some(111), ""));
        let mut c = sb.command(prog);
        c.stdin(
            std::fs::File::open("/etc/hostname")
                .or_else(|_| std::fs::File::open("/proc/self/stat"))
                .unwrap(),
        );
        c.stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        );
        let o = outcome(c.output().unwrap());
        assert_eq!((o.code, o.stderr.as_str()), (Some(111), ""));
    }
    // Round trip through both tai64nlocals gives the same local times.
    let stamped = run_tool_with(&sb, &ours, &[], d, b"one\ntwo\n").stdout;
    let mut c = sb.command(bin("tai64nlocal"));
    c.env("TZ", "UTC");
    let a = outcome(feed(c, stamped.as_bytes()));
    let mut c = sb.command(reference().unwrap().daemontools("tai64nlocal"));
    c.env("TZ", "UTC");
    let b = outcome(feed(c, stamped.as_bytes()));
    assert_eq!(a, b);
    assert!(a.stdout.lines().nth(1).unwrap().ends_with(" two"));
}
