//! svlogd under a tight RLIMIT_AS. runit's svlogd, when an allocation
//! fails, prints "svlogd: fatal: out of memory." and exits 111; below
//! that, the dynamic loader fails (exit 127). Ours must do the same
//! between the limit it needs and the loader's: never die by a signal
//! (Rust's default on a failed allocation is SIGABRT).

use std::os::unix::process::{CommandExt, ExitStatusExt};
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
    // SAFETY: setrlimit is a plain system call, safe between fork and exec.
    unsafe {
        c.pre_exec(move || {
            let l = rustix::process::Rlimit {
                current: Some(limit),
                maximum: Some(limit),
            };
            rustix::process::setrlimit(rustix::process::Resource::As, l)?;
            Ok(())
        });
    }
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
