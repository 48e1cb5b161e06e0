//! svlogd under a tight RLIMIT_AS. runit's svlogd, when an allocation
//! fails, prints "svlogd: fatal: out of memory." and exits 111; below
//! that, the dynamic loader fails (exit 127). Ours must do the same
//! between the limit it needs and the loader's: never die by a signal
//! (Rust's default on a failed allocation is SIGABRT).

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use runit_tests::*;

const PAGE: u64 = 4096;

/// How one run under a limit ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// Exit 0 with the 100 lines logged.
    Logged,
    /// Exit 111 with runit's message, no line logged.
    OutOfMemory,
    /// The program never ran: exec refused, the kernel could not load it,
    /// or the dynamic loader failed (127).
    NotStarted,
    Other(String),
}

fn under(sb: &mut Sandbox, bin: &Path, limit: u64) -> End {
    let dir = sb.join(format!("log-{limit}"));
    // A limit may be tried twice (bisection, then the scan).
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    let input = sb.join("input");
    if !input.exists() {
        let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&input, text).unwrap();
    }
    let err = sb.join(format!("err-{limit}"));
    let mut c = sb.command(bin);
    c.arg(&dir)
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap());
    memlimit::limit(&mut c, limit, Some(limit));
    let pid = match exec_probe::spawn_seeing_exec(c) {
        exec_probe::Exec::Loaded(child) => sb.adopt(child),
        _ => return End::NotStarted,
    };
    let st = sb.wait_exit(pid, Duration::from_secs(20));
    let said = read(&err);
    let logged = read(dir.join("current")).lines().count();
    match (st.code(), st.signal()) {
        (Some(0), _) if logged == 100 => End::Logged,
        (Some(111), _) if said == "svlogd: fatal: out of memory.\n" && logged == 0 => {
            End::OutOfMemory
        }
        (Some(127), _) => End::NotStarted,
        _ => End::Other(format!(
            "exit {:?} signal {:?}, {logged} lines, said {said:?}",
            st.code(),
            st.signal()
        )),
    }
}

/// The lowest limit (to a page) under which `bin` logs, found by
/// bisection; then every page below it, down to where the program no
/// longer starts, must end in runit's out-of-memory exit. Returns the
/// limit and how many pages below it said "out of memory".
fn scan(sb: &mut Sandbox, bin: &Path) -> (u64, usize) {
    let (mut lo, mut hi) = (0u64, 256 << 20);
    assert_eq!(under(sb, bin, hi), End::Logged, "under 256 MB");
    while hi - lo > PAGE {
        let mid = (lo + hi) / 2 / PAGE * PAGE;
        if under(sb, bin, mid) == End::Logged {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let mut oom = 0;
    let mut limit = hi - PAGE;
    for _ in 0..512 {
        match under(sb, bin, limit) {
            End::OutOfMemory => oom += 1,
            End::NotStarted => break,
            e => panic!("{}: under {limit} bytes (needs {hi}): {e:?}", bin.display()),
        }
        limit -= PAGE;
    }
    (hi, oom)
}

#[test]
fn out_of_memory_is_runits_message_and_exit_111_never_a_signal() {
    let mut sb = Sandbox::new();
    // runit's svlogd first: the behaviour asked of ours is its own.
    if let Some(r) = reference() {
        let (_, oom) = scan(&mut sb, &r.runit("svlogd"));
        assert!(oom > 0, "runit's svlogd never said out of memory");
    }
    let (hi, oom) = scan(&mut sb, &bin("svlogd"));
    assert!(
        oom > 0,
        "no limit between the loader's and {hi} bytes ran out of memory in svlogd itself"
    );
    sb.assert_no_leaks();
}

/// svlogd under a soft RLIMIT_AS of `limit` (the hard limit stays
/// unlimited, so the test can raise it later), reading `input` (a regular
/// file, so its offset afterwards says how much svlogd took) into `dir`.
fn start_soft(
    sb: &mut Sandbox,
    bin: &Path,
    dir: &Path,
    input: &std::fs::File,
    err: &Path,
    limit: u64,
) -> u32 {
    let mut c = sb.command(bin);
    c.arg(dir)
        .stdin(input.try_clone().unwrap())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(err).unwrap());
    memlimit::limit(&mut c, limit, None);
    sb.spawn(c)
}

/// Numbered lines in the log directory's files: (distinct, duplicates).
fn logged_lines(dir: &Path, n: usize) -> (Vec<bool>, usize) {
    let mut seen = vec![false; n];
    let mut dup = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name != "current" && !name.starts_with('@') {
            continue;
        }
        for l in read(e.path()).lines() {
            let num = l.strip_prefix("line ").and_then(|r| r.split(' ').next());
            if let Some(i) = num.and_then(|i| i.parse::<usize>().ok()) {
                if i < n && std::mem::replace(&mut seen[i], true) {
                    dup += 1;
                }
            }
        }
    }
    (seen, dup)
}

/// Near the least memory svlogd starts with, rotating every few lines,
/// no line it took from its input may be lost: it either exits 111
/// before taking any (start-up), or logs all it took, or, when memory
/// runs out later (rotation lists the directory), says "pausing: out of
/// memory." and goes on once memory is there again (the limit raised),
/// as runit's svlogd pauses. An exit 111 after reading lost the lines it
/// held.
#[test]
fn a_tight_limit_never_loses_a_line_taken_from_the_input() {
    use std::io::Seek;
    let mut sb = Sandbox::new();
    let ours = bin("svlogd");
    let (need, _) = scan(&mut sb, &ours);
    let n = 20_000;
    let text: String = (0..n)
        .map(|i| format!("line {i} of the input, some payload\n"))
        .collect();
    let input_path = sb.join("many");
    std::fs::write(&input_path, &text).unwrap();
    let mut paused = 0;
    let mut stopped = 0;
    for page in 0..48u64 {
        let limit = need + page * PAGE;
        let dir = sb.join(format!("rot-{page}"));
        std::fs::create_dir(&dir).unwrap();
        // Rotation every ~100 lines, 3 old files kept: many directory
        // listings and renames during the run.
        std::fs::write(dir.join("config"), "s4096\nn3\n").unwrap();
        let err = sb.join(format!("rot-err-{page}"));
        let mut input = std::fs::File::open(&input_path).unwrap();
        let pid = start_soft(&mut sb, &ours, &dir, &input, &err, limit);
        let st = wait_for(
            &format!("svlogd under {limit} bytes to exit or pause"),
            WAIT,
            || {
                if let Some(st) = sb.try_wait(pid) {
                    return Some(Some(st));
                }
                read(&err)
                    .contains("svlogd: pausing: out of memory.\n")
                    .then_some(None)
            },
        );
        let st = match st {
            Some(st) => st,
            None => {
                paused += 1;
                memlimit::lift(pid).unwrap();
                sb.wait_exit(pid, WAIT)
            }
        };
        let taken = input.stream_position().unwrap() as usize;
        let (seen, dup) = logged_lines(&dir, n);
        let said = read(&err);
        let lines_taken = text[..taken].matches('\n').count();
        // Old files beyond the 3 kept are deleted: count from the first
        // line still there to the last.
        let first = seen.iter().position(|&s| s).unwrap_or(0);
        let last = seen.iter().rposition(|&s| s).map_or(0, |i| i + 1);
        let why = format!("under {limit} bytes: {st:?}, {taken} bytes taken, said {said:?}");
        assert_eq!(dup, 0, "{why}: duplicated lines");
        assert_eq!(
            last, lines_taken,
            "{why}: lines taken from the input but not logged"
        );
        assert!(seen[first..last].iter().all(|&s| s), "{why}: lines lost");
        match st.code() {
            Some(0) => assert_eq!(lines_taken, n, "{why}: exit 0 before the end"),
            Some(111) => {
                stopped += 1;
                assert!(said.ends_with("svlogd: fatal: out of memory.\n"), "{why}");
            }
            _ => panic!("{why}"),
        }
    }
    eprintln!("from {need} bytes up, 48 pages: {paused} paused for memory, {stopped} exited 111");
    sb.assert_no_leaks();
}

/// The allocator behind svlogd's messages: without a pause it ends the
/// process with the message and 111; once pausing, a failed allocation
/// prints the pause message, waits and tries again (the process stays,
/// holding what it had), and succeeds once memory is there.
#[test]
fn a_failed_allocation_pauses_and_goes_on_once_memory_is_there() {
    let mut sb = Sandbox::new();
    let prog = bin("nomem-test");
    let limit: u64 = 64 << 20;
    let run = |sb: &mut Sandbox, args: &[&str], tag: &str| {
        let out = sb.join(format!("out-{tag}"));
        let err = sb.join(format!("err-{tag}"));
        let mut c = sb.command(&prog);
        c.args(args)
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap());
        memlimit::limit(&mut c, limit, None);
        (sb.spawn(c), out, err)
    };
    let big = (128u64 << 20).to_string();

    let (pid, out, err) = run(&mut sb, &[&big], "exit");
    let st = sb.wait_exit(pid, WAIT);
    assert_eq!(st.code(), Some(111));
    assert_eq!(read(&err), "nomem-test: fatal: out of memory.\n");
    assert_eq!(read(&out), "");

    let (pid, out, err) = run(&mut sb, &["pause", &big], "pause");
    let pausing = "nomem-test: pausing: out of memory.\n";
    // Two pauses: it tries again after the first.
    wait_until("a second pause", WAIT, || {
        read(&err).matches(pausing).count() >= 2
    });
    assert!(sb.try_wait(pid).is_none(), "exited while pausing");
    assert_eq!(read(&out), "");
    memlimit::lift(pid).unwrap();
    let st = sb.wait_exit(pid, WAIT);
    assert_eq!(st.code(), Some(0), "said {:?}", read(&err));
    assert_eq!(read(&out), format!("allocated {big}\n"));
    assert!(read(&err).lines().all(|l| format!("{l}\n") == pausing));
    sb.assert_no_leaks();
}
