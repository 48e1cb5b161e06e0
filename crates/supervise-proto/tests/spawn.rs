//! The spawn module against real children: what they inherit (signals,
//! descriptors, directory, environment, session) and how a failed exec is
//! reported.

use std::os::fd::{AsRawFd, OwnedFd};

use rustix::io::Errno;
use rustix::process::{Pid, WaitOptions};
use supervise_proto::spawn::{Failed, Group, Mask, Spawn};
use supervise_proto::wait::{Exit, Wstat};

/// A close-on-exec pipe, so no other test's child holds its ends.
fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap()
}

/// Waits for child `pid` (only that one: tests run side by side).
fn wait_for(pid: u32) -> Exit {
    let pid = Pid::from_raw(pid as i32).unwrap();
    loop {
        match rustix::process::waitpid(Some(pid), WaitOptions::empty()) {
            Ok(Some((_, st))) => return Wstat::from(st).exit(),
            Err(Errno::INTR) => continue,
            other => panic!("waitpid: {other:?}"),
        }
    }
}

/// Everything until end of file.
fn read_all(r: OwnedFd) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match rustix::io::read(&r, &mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(Errno::INTR) => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    String::from_utf8(out).unwrap()
}

/// Runs `sh -c SCRIPT` built by `f` with its stdout on a pipe; returns
/// the output and how it ended.
fn run_sh<'a>(script: &str, f: impl FnOnce(Spawn<'a>) -> Spawn<'a>) -> (String, Exit) {
    let (r, w) = pipe();
    let s = f(Spawn::new("/bin/sh").args(["-c", script])).fd(&w, 1);
    let pid = s.spawn().unwrap();
    drop(s);
    drop(w);
    let out = read_all(r);
    (out, wait_for(pid))
}

/// The SigBlk and SigIgn masks from /proc of the child, as numbers.
fn masks(out: &str) -> (u64, u64) {
    let field = |name: &str| {
        let line = out
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {out:?}"));
        u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
    };
    (field("SigBlk:"), field("SigIgn:"))
}

fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

const STATUS_MASKS: &str = r#"exec grep -E "^Sig(Blk|Ign)" /proc/self/status"#;

/// The calling thread's mask with `sig` added; returns the old one.
fn block(sig: i32) -> libc::sigset_t {
    // SAFETY: plain data initialised by sigemptyset; the calls change
    // this test thread's mask only.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
        old
    }
}

fn restore(old: &libc::sigset_t) {
    // SAFETY: a set returned by `block`.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old, std::ptr::null_mut()) };
}

fn ignore(sig: i32) {
    // SAFETY: SIG_IGN runs no code; the signals used here are sent to
    // nobody by these tests.
    unsafe { libc::signal(sig, libc::SIG_IGN) };
}

fn is_ignored(sig: i32) -> bool {
    // SAFETY: reads the disposition into a zeroed struct.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut sa);
        sa.sa_sigaction == libc::SIG_IGN
    }
}

/// This process's ignored signals, from /proc.
fn my_ignores() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    masks(&status).1
}

#[test]
fn child_gets_no_ignored_sigpipe_and_the_parents_mask() {
    // The test harness (Rust's start-up) ignores SIGPIPE: the case that
    // matters. SIGUSR2 is blocked in this thread.
    assert!(is_ignored(libc::SIGPIPE));
    let old = block(libc::SIGUSR2);
    let (out, exit) = run_sh(STATUS_MASKS, |s| s);
    restore(&old);
    assert_eq!(exit, Exit::Code(0), "{out}");
    let (blk, ign) = masks(&out);
    assert_eq!(ign & bit(libc::SIGPIPE), 0, "{out}");
    assert_eq!(blk, bit(libc::SIGUSR2), "{out}");
}

#[test]
fn empty_mask_kept_reset_and_inherited_ignores() {
    // Ignores this program did not make pass on (as from nohup), unless
    // reset; a kept SIGPIPE stays ignored.
    ignore(libc::SIGURG);
    ignore(libc::SIGWINCH);
    let old = block(libc::SIGUSR2);
    let (out, exit) = run_sh(STATUS_MASKS, |s| {
        s.mask(Mask::Empty)
            .keep_signal(libc::SIGPIPE)
            .reset_signal(libc::SIGWINCH)
    });
    restore(&old);
    assert_eq!(exit, Exit::Code(0), "{out}");
    let (blk, ign) = masks(&out);
    assert_eq!(blk, 0, "{out}");
    let expect = (my_ignores() | bit(libc::SIGURG)) & !bit(libc::SIGWINCH);
    assert_eq!(ign, expect, "{out}");
    assert_ne!(ign & bit(libc::SIGPIPE), 0, "{out}");
}

#[test]
fn exec_failure_prints_runits_message_and_exits_111() {
    let (r, w) = pipe();
    let s = Spawn::new("/nonexistent/prog")
        .fd(&w, 2)
        .failure_message("prog: fatal: unable to start /nonexistent/prog: ");
    let pid = s.spawn().unwrap();
    drop(s);
    drop(w);
    assert_eq!(
        read_all(r),
        "prog: fatal: unable to start /nonexistent/prog: file does not exist\n"
    );
    assert_eq!(wait_for(pid), Exit::Code(111));
    let pid = Spawn::new("/nonexistent/prog")
        .failure_code(0)
        .spawn()
        .unwrap();
    assert_eq!(wait_for(pid), Exit::Code(0));
}

#[test]
fn confirmed_spawn_reports_the_exec_error() {
    let s = Spawn::new("no-such-program-anywhere").search_path();
    assert_eq!(s.spawn_confirmed(), Err(Failed::Exec(Errno::NOENT)));
    let d = tempfile::tempdir().unwrap();
    let s = Spawn::new("/bin/true").chdir(d.path().join("missing"));
    assert_eq!(s.spawn_confirmed(), Err(Failed::Exec(Errno::NOENT)));
    let pid = Spawn::new("true").search_path().spawn_confirmed().unwrap();
    assert_eq!(wait_for(pid), Exit::Code(0));
}

#[test]
fn moves_act_at_once_even_when_they_swap() {
    let (r1, w1) = pipe();
    let (r2, w2) = pipe();
    let (a, b) = (w1.as_raw_fd(), w2.as_raw_fd());
    // The child's descriptor `a` is the second pipe and `b` the first.
    let script = format!("echo to-a >/dev/fd/{a}; echo to-b >/dev/fd/{b}");
    let s = Spawn::new("/bin/sh")
        .args(["-c", &script])
        .fd(&w2, a)
        .fd(&w1, b);
    let pid = s.spawn().unwrap();
    drop(s);
    drop((w1, w2));
    assert_eq!(read_all(r1), "to-b\n");
    assert_eq!(read_all(r2), "to-a\n");
    assert_eq!(wait_for(pid), Exit::Code(0));
}

#[test]
fn directory_environment_and_argv0() {
    let d = tempfile::tempdir().unwrap();
    let dir = std::fs::canonicalize(d.path()).unwrap();
    let (out, exit) = run_sh("pwd; echo \"$FOO $0\"", |s| {
        s.argv0("sh")
            .chdir(&dir)
            .env(["FOO=bar", "PATH=/usr/bin:/bin"])
    });
    assert_eq!(exit, Exit::Code(0));
    assert_eq!(out, format!("{}\nbar sh\n", dir.display()));
    let home =
        rustix::fs::open(&dir, rustix::fs::OFlags::RDONLY, rustix::fs::Mode::empty()).unwrap();
    let (out, _) = run_sh("pwd", |s| s.fchdir(&home));
    assert_eq!(out.trim_end(), dir.to_str().unwrap());
}

#[test]
fn announcement_comes_before_exec() {
    let (r, w) = pipe();
    let s = Spawn::new("/bin/sh")
        .args(["-c", "echo ran >&2"])
        .fd(&w, 2)
        .announce("- starting\n");
    let pid = s.spawn().unwrap();
    drop(s);
    drop(w);
    assert_eq!(read_all(r), "- starting\nran\n");
    assert_eq!(wait_for(pid), Exit::Code(0));
}

#[test]
fn new_session_and_new_group() {
    for group in [Group::NewSession, Group::NewGroup] {
        let (r, w) = pipe();
        let s = Spawn::new("/bin/sh")
            .args(["-c", "read x"])
            .fd(&r, 0)
            .group(group);
        // After exec: the group step is done.
        let pid = s.spawn_confirmed().unwrap();
        drop(s);
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        // Fields after the command name: state ppid pgrp session.
        let rest: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .collect();
        let (pgrp, sid) = (rest[2], rest[3]);
        let me = std::process::id().to_string();
        assert_eq!(pgrp, pid.to_string(), "{group:?}");
        if group == Group::NewSession {
            assert_eq!(sid, pid.to_string());
        } else {
            assert_ne!(sid, pid.to_string());
        }
        assert_ne!(pgrp, me);
        drop(w);
        assert_eq!(wait_for(pid), Exit::Code(1));
    }
}
