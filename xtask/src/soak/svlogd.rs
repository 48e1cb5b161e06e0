//! svlogd under faults (issue 16): a full file system, a file system
//! going read-only, the log directory removed, a hanging or failing
//! processor, TERM, SIGSTOP, a 10 MB line, a tight RLIMIT_AS.
//!
//! A writer thread feeds numbered lines into svlogd's standard input
//! through a pipe whose read end this process keeps too, so a second
//! svlogd can take over the lines still in it. Afterwards every line in
//! `current` and the rotated `@*.s`/`@*.u` files is counted: lost =
//! expected − distinct numbers found, dup = found − distinct. The writer
//! blocking (back-pressure) is allowed; a line dropped is not.
//!
//! Ours and runit's run side by side in two threads (each with its own
//! scratch directory and mounts), so the cases' pauses (runit's 3 s
//! retry) overlap. Small file systems are tmpfs mounts made here (we are
//! root), unmounted on drop, also when a case panics; the run is in a
//! private mount namespace (see `soak::private_mounts`), so a run killed
//! before it could unmount leaves no mount behind.
//!
//! `SOAK_SVLOGD=full,term` runs only the named sub-cases.

use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::process::Signal;

use super::probe::{self, Reaper};
use super::Soak;
use crate::bench::common::Scratch;

/// What one run of one svlogd found: the row text and whether it is good.
struct Res {
    text: String,
    good: bool,
    why: String,
}

impl Res {
    fn new(text: String, good: bool, why: &str) -> Res {
        Res {
            text,
            good,
            why: why.to_string(),
        }
    }
    fn err(e: String) -> Res {
        Res::new(format!("harness: {e}"), false, "the case could not run")
    }
}

type Sub = (&'static str, fn(&mut Soak));

const SUBS: &[Sub] = &[
    ("full", full),
    ("readonly", readonly),
    ("rmdir", rmdir),
    ("processor", processor),
    ("term", term),
    ("stop", stop),
    ("longline", longline),
    ("rlimit", rlimit),
];

pub fn run(s: &mut Soak) {
    let only = std::env::var("SOAK_SVLOGD").unwrap_or_default();
    for (name, f) in SUBS {
        if only.is_empty() || only.split(',').any(|o| o == *name) {
            f(s);
        }
    }
}

/// Runs `f` for runit's svlogd and ours at once; adds one row.
fn both(s: &mut Soak, case: &str, f: impl Fn(&Path, &str) -> Res + Sync) {
    let theirs = s.ctx.theirs("svlogd");
    let ours = s.ctx.ours("svlogd");
    let (t, o) = std::thread::scope(|sc| {
        let t = sc.spawn(|| f(&theirs, "theirs"));
        let o = f(&ours, "ours");
        (t.join(), o)
    });
    let t = t
        .map(|r| r.text)
        .unwrap_or_else(|_| "harness panicked".into());
    s.check(case, t, o.text, o.good, &o.why);
}

// ---------------------------------------------------------------------
// The harness

/// Line `i`: 48 bytes, the number first.
fn line(i: u64) -> String {
    format!("{i:08} svlogd soak line, some payload here ..\n")
}

/// A tmpfs mounted on `dir` for the life of the value.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Result<Mount, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let st = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=755"),
                "tmpfs",
            ])
            .arg(dir)
            .status()
            .map_err(|e| format!("mount: {e}"))?;
        if !st.success() {
            return Err(format!("mount tmpfs on {}: {st}", dir.display()));
        }
        Ok(Mount(dir.to_path_buf()))
    }

    /// `mount -o remount,OPTS`; whether it worked (quietly).
    fn remount(&self, opts: &str) -> bool {
        Command::new("mount")
            .args(["-o", &format!("remount,{opts}")])
            .arg(&self.0)
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// A pipe: we keep the read end (for each svlogd we start) and the
/// writer thread gets the write end.
fn pipe() -> (OwnedFd, File) {
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).expect("pipe");
    (r, File::from(w))
}

/// The writer: lines `from..to`, `batch` lines per write, `pace` between
/// writes. `written` counts lines handed to the pipe. It returns the
/// write end, so the case decides when svlogd sees end of input.
struct Feed {
    written: Arc<AtomicU64>,
    handle: JoinHandle<File>,
}

fn feed(mut w: File, from: u64, to: u64, batch: u64, pace: Duration) -> Feed {
    let written = Arc::new(AtomicU64::new(from));
    let c = written.clone();
    let handle = std::thread::spawn(move || {
        let mut i = from;
        let mut buf = String::new();
        while i < to {
            buf.clear();
            let end = (i + batch).min(to);
            for k in i..end {
                buf.push_str(&line(k));
            }
            if w.write_all(buf.as_bytes()).is_err() {
                break;
            }
            i = end;
            c.store(i, Ordering::SeqCst);
            if !pace.is_zero() {
                std::thread::sleep(pace);
            }
        }
        w
    });
    Feed { written, handle }
}

impl Feed {
    fn at(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }
    fn done(&self) -> bool {
        self.handle.is_finished()
    }
    /// Waits for the writer and closes the pipe's write end.
    fn close(self) {
        if let Ok(w) = self.handle.join() {
            drop(w);
        }
    }
    /// Whether the writer made no progress for `quiet` (within `limit`).
    fn stalls(&self, quiet: Duration, limit: Duration) -> bool {
        let t = Instant::now();
        let mut last = self.at();
        let mut since = Instant::now();
        while t.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(20));
            let now = self.at();
            if self.done() {
                return false;
            }
            if now != last {
                last = now;
                since = Instant::now();
            } else if since.elapsed() >= quiet {
                return true;
            }
        }
        false
    }
}

/// Starts `bin [args] dir` reading the pipe, standard error appended to
/// `err`.
fn start(bin: &Path, args: &[&str], dir: &Path, r: &OwnedFd, err: &Path) -> Child {
    start_in(Command::new(bin), args, dir, r, err)
}

fn start_in(c: Command, args: &[&str], dir: &Path, r: &OwnedFd, err: &Path) -> Child {
    prepare(c, args, dir, r, err).spawn().expect("spawn svlogd")
}

/// `c` logging to `dir`, reading `r`, its standard error appended to `err`.
fn prepare(mut c: Command, args: &[&str], dir: &Path, r: &OwnedFd, err: &Path) -> Command {
    let e = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(err)
        .expect("stderr file");
    c.args(args)
        .arg(dir)
        .stdin(Stdio::from(r.try_clone().expect("dup")))
        .stdout(Stdio::null())
        .stderr(Stdio::from(e));
    c
}

/// Waits (polling) for `c` to exit; its exit code, or -signal; None on
/// timeout.
fn wait_exit(c: &mut Child, limit: Duration) -> Option<i32> {
    let t = Instant::now();
    loop {
        if let Ok(Some(st)) = c.try_wait() {
            use std::os::unix::process::ExitStatusExt;
            return Some(st.code().unwrap_or_else(|| -st.signal().unwrap_or(0)));
        }
        if t.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Lines found in a log directory.
#[derive(Default)]
struct Count {
    /// Distinct line numbers found.
    seen: Vec<bool>,
    distinct: u64,
    dup: u64,
    /// Lines that look numbered but are not what was sent.
    bad: u64,
    /// Every other line (long-line pieces).
    other: Vec<usize>,
}

impl Count {
    fn lost_of(&self, range: std::ops::Range<u64>) -> u64 {
        range
            .filter(|&i| !self.seen.get(i as usize).copied().unwrap_or(false))
            .count() as u64
    }
    fn first(&self) -> Option<u64> {
        self.seen.iter().position(|&b| b).map(|p| p as u64)
    }
    /// The longest prefix 0..k present.
    fn prefix(&self) -> u64 {
        self.seen.iter().take_while(|&&b| b).count() as u64
    }
}

/// The files counted: `current` and the rotated `@*.s` / `@*.u`.
fn log_files(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n == "current" || (n.starts_with('@') && (n.ends_with(".s") || n.ends_with(".u"))) {
                v.push(e.path());
            }
        }
    }
    v.sort();
    v
}

fn count(dir: &Path, n: u64) -> Count {
    let mut c = Count {
        seen: vec![false; n as usize],
        ..Count::default()
    };
    for f in log_files(dir) {
        let Ok(data) = std::fs::read(&f) else {
            continue;
        };
        for l in data.split_inclusive(|&b| b == b'\n') {
            let num = l
                .get(..9)
                .filter(|h| h[8] == b' ' && h[..8].iter().all(u8::is_ascii_digit))
                .and_then(|h| std::str::from_utf8(&h[..8]).ok()?.parse::<u64>().ok());
            match num {
                Some(i) if i < n && l == line(i).as_bytes() => {
                    if c.seen[i as usize] {
                        c.dup += 1;
                    } else {
                        c.seen[i as usize] = true;
                        c.distinct += 1;
                    }
                }
                Some(_) => c.bad += 1,
                None => c.other.push(l.len()),
            }
        }
    }
    c
}

/// Bytes in the counted files.
fn logged_bytes(dir: &Path) -> u64 {
    log_files(dir)
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
}

fn stderr_count(err: &Path, what: &str) -> usize {
    std::fs::read_to_string(err)
        .unwrap_or_default()
        .matches(what)
        .count()
}

fn first_line(err: &Path, prefix: &str) -> String {
    std::fs::read_to_string(err)
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or("")
        .to_string()
}

fn fmt_n(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// "0 lost of N; 0 dup" and whether both are zero (and nothing damaged).
fn tally(c: &Count, n: u64) -> (String, bool) {
    let lost = n - c.distinct.min(n);
    let mut t = format!("{} lost of {}; {} dup", fmt_n(lost), fmt_n(n), c.dup);
    if c.bad > 0 {
        t.push_str(&format!("; {} damaged", c.bad));
    }
    (t, lost == 0 && c.dup == 0 && c.bad == 0)
}

fn log_dir(base: &Path, config: &str) -> PathBuf {
    let d = base.join("log");
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("config"), config).unwrap();
    d
}

const LIMIT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------
// 1. A full file system

/// A small tmpfs fills; svlogd pauses ("pausing: unable to write to
/// current: ...: out of disk space") and retries. Full form: space comes
/// back twice (a filler file removed, then the tmpfs grown); short form:
/// once (grown). Every line must arrive.
fn full(s: &mut Soak) {
    let n = s.count(50_000, 20_000);
    let long = !s.short;
    both(
        s,
        "svlogd: file system full, then space again",
        |bin, tag| full_one(bin, tag, n, long).unwrap_or_else(Res::err),
    );
}

fn full_one(bin: &Path, tag: &str, n: u64, two_stages: bool) -> Result<Res, String> {
    let sc = Scratch::new(&format!("soak-svlogd-full-{tag}"));
    let m = Mount::tmpfs(&sc.0.join("fs"), "512k")?;
    let d = log_dir(&m.0, "s200000\nn1000\n");
    let filler = m.0.join("filler");
    if two_stages {
        std::fs::write(&filler, vec![b'F'; 200 * 1024]).map_err(|e| e.to_string())?;
    }
    let err = sc.0.join("err");
    let (r, w) = pipe();
    let mut reap = Reaper::new();
    let mut c = start(bin, &[], &d, &r, &err);
    let pid = c.id();
    let f = feed(w, 0, n, 100, Duration::ZERO);
    let pausing = "pausing: unable to write to current";
    let full_at = |k: usize| probe::poll(LIMIT, || stderr_count(&err, pausing) >= k);
    if !full_at(1) {
        reap.child(c);
        return Ok(Res::new(
            "never paused".into(),
            false,
            "the file system did not fill",
        ));
    }
    if two_stages {
        let _ = std::fs::remove_file(&filler);
        // It fills again (the data is 2.4 MB, the tmpfs 512 kB).
        full_at(2);
    }
    m.remount("size=64m");
    let stalled_at = f.at();
    f.close();
    let code = wait_exit(&mut c, LIMIT);
    let paused = stderr_count(&err, pausing);
    let cnt = count(&d, n);
    reap.child(c);
    let _ = pid;
    drop(m);
    let (t, good) = tally(&cnt, n);
    let t = format!(
        "{t}; paused {paused}×; writer held at line {}; exit {}",
        fmt_n(stalled_at),
        code.map(|c| c.to_string()).unwrap_or("none (hung)".into())
    );
    Ok(Res::new(
        t,
        good && code == Some(0),
        "lines lost or svlogd did not finish",
    ))
}

// ---------------------------------------------------------------------
// 2. The file system read-only, then read-write

/// Linux refuses to remount a file system read-only while a file on it
/// is open for writing (EBUSY), and svlogd always holds `current` open:
/// so the file system cannot turn read-only under a running svlogd (only
/// an ext4 error can force that, and then it stays read-only until
/// unmounted). The case therefore takes the moment it can happen: svlogd
/// is stopped (TERM, as `sv restart` does) mid-stream, the file system is
/// remounted read-only, and svlogd is started again as runsv would (again
/// one second after each exit) until the file system is read-write again
/// 2 s later (short: 1 s). Every line of the one pipe must arrive once.
fn readonly(s: &mut Soak) {
    let n = s.count(50_000, 10_000);
    let ro = Duration::from_millis(s.count(2000, 1000));
    both(
        s,
        "svlogd: file system read-only, then read-write",
        |bin, tag| readonly_one(bin, tag, n, ro).unwrap_or_else(Res::err),
    );
}

fn readonly_one(bin: &Path, tag: &str, n: u64, ro: Duration) -> Result<Res, String> {
    let sc = Scratch::new(&format!("soak-svlogd-ro-{tag}"));
    let m = Mount::tmpfs(&sc.0.join("fs"), "64m")?;
    let d = log_dir(&m.0, "s100000\nn1000\n");
    let err = sc.0.join("err");
    let (r, w) = pipe();
    let mut reap = Reaper::new();
    let mut c = start(bin, &[], &d, &r, &err);
    let f = feed(w, 0, n, 50, Duration::from_millis(1));
    probe::poll(LIMIT, || f.at() >= n / 3);
    // The remount ro sees EBUSY while svlogd runs: shown in the row.
    let busy = !m.remount("ro");
    probe::signal(c.id(), Signal::TERM);
    let first = wait_exit(&mut c, LIMIT);
    reap.child(c);
    let ro_ok = probe::poll(Duration::from_secs(5), || m.remount("ro"));
    if !ro_ok {
        return Err("could not remount read-only".into());
    }
    let rw_at = Instant::now() + ro;
    let mut rw = false;
    let mut starts = 1;
    let mut codes = Vec::new();
    let mut f = Some(f);
    loop {
        let mut c = start(bin, &[], &d, &r, &err);
        starts += 1;
        let pid = c.id();
        let code = loop {
            if !rw && Instant::now() >= rw_at {
                rw = m.remount("rw");
            }
            if rw && f.as_ref().is_some_and(|f| f.done()) {
                f.take().unwrap().close();
            }
            if let Ok(Some(_)) = c.try_wait() {
                break wait_exit(&mut c, LIMIT);
            }
            if starts > 30 {
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        reap.child(c);
        let _ = pid;
        codes.push(code.unwrap_or(999));
        if code == Some(0) && f.is_none() {
            break;
        }
        if starts > 30 || code.is_none() {
            break;
        }
        // runsv restarts a log service one second after it exits.
        std::thread::sleep(Duration::from_secs(1));
    }
    let cnt = count(&d, n);
    drop(m);
    let (t, good) = tally(&cnt, n);
    let trouble = first_line(&err, "svlogd: fatal")
        .trim_start_matches("svlogd: ")
        .to_string();
    let trouble = if trouble.is_empty() {
        first_line(&err, "svlogd: pausing")
            .trim_start_matches("svlogd: ")
            .to_string()
    } else {
        trouble
    };
    let trouble = trouble.replace(&*d.to_string_lossy(), "DIR");
    let t = format!(
        "{t}; remount ro while running: {}; TERM → exit {}; {} restarts (exits {:?}); ro: {}",
        if busy { "EBUSY" } else { "done" },
        first.unwrap_or(999),
        starts - 1,
        codes,
        trouble
    );
    Ok(Res::new(t, good, "lines lost or doubled"))
}

// ---------------------------------------------------------------------
// 3. The log directory removed and made again

/// `rm -rf` of the log directory mid-stream, then `mkdir` and `sv hup`
/// (SIGHUP) as an administrator would. svlogd holds the directory by
/// descriptor: until the HUP it keeps writing into the removed
/// directory's `current` (unlinked, so those lines go with the directory
/// and are not counted as svlogd's loss: no logger can keep them). The
/// rule: from the first line found in the new directory on, every line
/// must be there, and that first line must be no later than the line the
/// writer was at when the new `current` appeared (lines written after the
/// recovery all arrive). Without the HUP, both loggers would write into
/// the removed directory until the end (a rotation there pauses for
/// ever); the rotation size is set high so none happens in between.
fn rmdir(s: &mut Soak) {
    let n = s.count(50_000, 20_000);
    both(s, "svlogd: log dir rm -rf, mkdir, HUP", |bin, tag| {
        rmdir_one(bin, tag, n).unwrap_or_else(Res::err)
    });
}

fn rmdir_one(bin: &Path, tag: &str, n: u64) -> Result<Res, String> {
    let sc = Scratch::new(&format!("soak-svlogd-rmdir-{tag}"));
    let cfg = "s100000000\nn1000\n";
    let d = log_dir(&sc.0, cfg);
    let err = sc.0.join("err");
    let (r, w) = pipe();
    let mut reap = Reaper::new();
    let mut c = start(bin, &[], &d, &r, &err);
    let pid = c.id();
    let f = feed(w, 0, n, 50, Duration::from_millis(1));
    probe::poll(LIMIT, || f.at() >= n / 3);
    // No early return here: svlogd must be reaped below (a failure
    // shows as no new `current`).
    let _ = std::fs::remove_dir_all(&d);
    let removed_at = f.at();
    let _ = std::fs::create_dir(&d);
    let _ = std::fs::write(d.join("config"), cfg);
    probe::signal(pid, Signal::HUP);
    let back = probe::poll(LIMIT, || d.join("current").exists());
    let back_at = f.at();
    f.close();
    let code = wait_exit(&mut c, LIMIT);
    reap.child(c);
    let cnt = count(&d, n);
    let first = cnt.first().unwrap_or(n);
    let lost = cnt.lost_of(first..n);
    let good = back && first <= back_at && lost == 0 && cnt.dup == 0 && code == Some(0);
    let t = format!(
        "{} lost of {} after recovery; {} dup; {} gone with the dir (rm at line {}, new current at {})",
        lost,
        fmt_n(n - first),
        cnt.dup,
        fmt_n(first),
        fmt_n(removed_at),
        fmt_n(back_at)
    );
    Ok(Res::new(
        t,
        good,
        "lines lost after the new directory was in place",
    ))
}

// ---------------------------------------------------------------------
// 4. A processor that hangs, one that fails

/// `!processor` with rotation every 2,000 bytes. A processor that hangs
/// (waits for a flag file) holds svlogd at the next rotation (runit waits
/// for it: back-pressure, the writer blocks); one that fails (exit 1
/// until the flag file exists) is restarted. Then the flag is set and
/// everything must arrive: processed files (`.s`) and `current`.
fn processor(s: &mut Soak) {
    let n = s.count(20_000, 5_000);
    for (kind, case) in [
        ("hang", "svlogd: processor hangs, then finishes"),
        ("fail", "svlogd: processor fails (exit 1), then works"),
    ] {
        both(s, case, |bin, tag| {
            processor_one(bin, tag, n, kind).unwrap_or_else(Res::err)
        });
    }
}

fn processor_one(bin: &Path, tag: &str, n: u64, kind: &str) -> Result<Res, String> {
    let sc = Scratch::new(&format!("soak-svlogd-proc-{kind}-{tag}"));
    let go = sc.0.join("go");
    let go = go.display();
    let cmd = match kind {
        "hang" => format!("while [ ! -e {go} ]; do sleep 0.05; done; exec cat"),
        _ => format!("[ -e {go} ] && exec cat; exit 1"),
    };
    let d = log_dir(&sc.0, &format!("s2000\nn100000\n!{cmd}\n"));
    let err = sc.0.join("err");
    let (r, w) = pipe();
    let mut reap = Reaper::new();
    let mut c = start(bin, &[], &d, &r, &err);
    let f = feed(w, 0, n, 10, Duration::ZERO);
    let held = f.stalls(Duration::from_millis(500), Duration::from_secs(20));
    let held_at = f.at();
    let failures = if kind == "fail" {
        probe::poll(Duration::from_secs(10), || {
            stderr_count(&err, "processor failed, restart") >= 3
        });
        stderr_count(&err, "processor failed, restart")
    } else {
        0
    };
    // No early return here: svlogd must be reaped below.
    let _ = std::fs::write(sc.0.join("go"), "");
    f.close();
    let code = wait_exit(&mut c, LIMIT);
    reap.child(c);
    let cnt = count(&d, n);
    let (t, good) = tally(&cnt, n);
    let mut t = format!(
        "{t}; writer {} at line {}",
        if held { "held" } else { "never held" },
        fmt_n(held_at)
    );
    if kind == "fail" {
        t.push_str(&format!("; ≥{failures} failures restarted"));
    }
    t.push_str(&format!("; exit {}", code.unwrap_or(999)));
    Ok(Res::new(
        t,
        good && code == Some(0),
        "lines lost or doubled",
    ))
}

// ---------------------------------------------------------------------
// 5. TERM mid-stream, a second svlogd on the same pipe

/// TERM mid-stream: what the first svlogd took from the pipe must be on
/// disk (a gapless prefix of the lines) when it exits; a second svlogd on
/// the same pipe takes the rest: 0 lost, 0 dup over both.
fn term(s: &mut Soak) {
    let n = s.count(100_000, 20_000);
    both(
        s,
        "svlogd: TERM mid-stream, a 2nd svlogd takes over",
        |bin, tag| term_one(bin, tag, n).unwrap_or_else(Res::err),
    );
}

fn term_one(bin: &Path, tag: &str, n: u64) -> Result<Res, String> {
    let sc = Scratch::new(&format!("soak-svlogd-term-{tag}"));
    let d = log_dir(&sc.0, "s1000000\nn1000\n");
    let err = sc.0.join("err");
    let (r, w) = pipe();
    let mut reap = Reaper::new();
    let mut c = start(bin, &[], &d, &r, &err);
    let f = feed(w, 0, n, 50, Duration::from_millis(1));
    probe::poll(LIMIT, || f.at() >= n / 3);
    probe::signal(c.id(), Signal::TERM);
    let first = wait_exit(&mut c, LIMIT);
    reap.child(c);
    let c1 = count(&d, n);
    let prefix = c1.prefix();
    let gapless = prefix == c1.distinct;
    let mut c2 = start(bin, &[], &d, &r, &err);
    f.close();
    let second = wait_exit(&mut c2, LIMIT);
    reap.child(c2);
    let cnt = count(&d, n);
    let (t, good) = tally(&cnt, n);
    let t = format!(
        "{t}; 1st wrote {} lines{}, exit {}; 2nd exit {}",
        fmt_n(c1.distinct),
        if gapless { "" } else { " WITH GAPS" },
        first.unwrap_or(999),
        second.unwrap_or(999)
    );
    Ok(Res::new(
        t,
        good && gapless && first == Some(0) && second == Some(0),
        "lines lost or doubled across the hand-over",
    ))
}

// ---------------------------------------------------------------------
// 6. SIGSTOP

/// svlogd stopped (SIGSTOP) for 10 s (short: 2 s) while the writer
/// writes, then SIGCONT: the writer blocks on the full pipe meanwhile.
fn stop(s: &mut Soak) {
    let n = s.count(100_000, 20_000);
    let secs = s.count(10, 2);
    let case = format!("svlogd: SIGSTOP {secs} s mid-stream, SIGCONT");
    both(s, &case, |bin, tag| {
        stop_one(bin, tag, n, Duration::from_secs(secs)).unwrap_or_else(Res::err)
    });
}

fn stop_one(bin: &Path, tag: &str, n: u64, len: Duration) -> Result<Res, String> {
    let sc = Scratch::new(&format!("soak-svlogd-stop-{tag}"));
    let d = log_dir(&sc.0, "s1000000\nn1000\n");
    let err = sc.0.join("err");
    let (r, w) = pipe();
    let mut reap = Reaper::new();
    let mut c = start(bin, &[], &d, &r, &err);
    let pid = c.id();
    let f = feed(w, 0, n, 50, Duration::from_millis(1));
    probe::poll(LIMIT, || f.at() >= n / 3);
    probe::signal(pid, Signal::STOP);
    let at_stop = f.at();
    // The stop's length is the fault itself, not a wait for a condition.
    std::thread::sleep(len);
    let at_cont = f.at();
    probe::signal(pid, Signal::CONT);
    f.close();
    let code = wait_exit(&mut c, LIMIT);
    reap.child(c);
    let cnt = count(&d, n);
    let (t, good) = tally(&cnt, n);
    let t = format!(
        "{t}; writer went on {} lines while stopped, then blocked; exit {}",
        fmt_n(at_cont - at_stop),
        code.unwrap_or(999)
    );
    Ok(Res::new(
        t,
        good && code == Some(0),
        "lines lost or doubled",
    ))
}

// ---------------------------------------------------------------------
// 7. A 10 MB line

/// 1,000 lines, then 10 MB of `x` without a newline; while svlogd holds
/// that unfinished line its memory is read (VmRSS, VmHWM); then the
/// newline and 1,000 more lines. The row tells how the long line was
/// written (runit's `-l` default of 1000 bounds only what patterns and
/// standard error see) and the peak memory. Bounded memory is the verdict
/// for ours: peak under 8 MB, so the line was not held whole.
fn longline(s: &mut Soak) {
    let mb = s.count(10, 10);
    both(s, "svlogd: 10 MB line without newline", |bin, tag| {
        longline_one(bin, tag, mb).unwrap_or_else(Res::err)
    });
}

fn longline_one(bin: &Path, tag: &str, mb: u64) -> Result<Res, String> {
    let sc = Scratch::new(&format!("soak-svlogd-long-{tag}"));
    let d = log_dir(&sc.0, "s1000000\nn1000\n");
    let err = sc.0.join("err");
    let (r, mut w) = pipe();
    let mut reap = Reaper::new();
    let mut c = start(bin, &[], &d, &r, &err);
    let pid = c.id();
    let big = (mb * 1024 * 1024) as usize;
    let writer = std::thread::spawn(move || {
        let mut v = String::new();
        for i in 0..1000 {
            v.push_str(&line(i));
        }
        let _ = w.write_all(v.as_bytes());
        let _ = w.write_all(&vec![b'x'; big]);
        w
    });
    // The writer is done when the pipe took the whole line; then svlogd
    // holds at most a pipe's worth unread.
    let wrote = probe::poll(LIMIT, || writer.is_finished());
    let mut w = writer.join().expect("writer thread");
    let before = 1000 * 48;
    probe::poll(Duration::from_secs(20), || {
        logged_bytes(&d) as usize + 65536 >= before + big
    });
    // Settled: no growth for 200 ms.
    let mut last = logged_bytes(&d);
    probe::poll(Duration::from_secs(10), || {
        std::thread::sleep(Duration::from_millis(200));
        let now = logged_bytes(&d);
        let same = now == last;
        last = now;
        same
    });
    let held = logged_bytes(&d) as usize - before.min(logged_bytes(&d) as usize);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |f| crate::bench::common::field_kb(&status, f).unwrap_or(0);
    let (rss, hwm) = (field("VmRSS:"), field("VmHWM:"));
    let mut v = String::from("\n");
    for i in 1000..2000 {
        v.push_str(&line(i));
    }
    let _ = w.write_all(v.as_bytes());
    drop(w);
    let code = wait_exit(&mut c, LIMIT);
    reap.child(c);
    let cnt = count(&d, 2000);
    let (t, good) = tally(&cnt, 2000);
    let pieces = cnt.other.len();
    let xbytes: usize = cnt.other.iter().sum::<usize>();
    let t = format!(
        "{t}; long line written as {} piece(s), {} bytes ({} before its newline came); rss {} kB, peak {} kB; exit {}",
        pieces,
        fmt_n(xbytes as u64),
        fmt_n(held as u64),
        fmt_n(rss),
        fmt_n(hwm),
        code.unwrap_or(999)
    );
    Ok(Res::new(
        t,
        wrote && good && code == Some(0) && hwm < 8 * 1024,
        "lines lost or memory not bounded",
    ))
}

// ---------------------------------------------------------------------
// 8. A tight RLIMIT_AS

/// The lowest RLIMIT_AS (to a page) under which svlogd logs 100 lines and
/// exits 0 is found for each. Every page below it, down to where the
/// program no longer starts (exec refused, or the loader's exit 127), is
/// tried: each must end in a message and an exit, never a signal (runit:
/// "out of memory.", 111). One page below it, that svlogd takes no line
/// from the pipe; at it, 20,000 lines (one of them 100 kB long) from that
/// same pipe must all arrive.
fn rlimit(s: &mut Soak) {
    let n = s.count(50_000, 20_000);
    both(s, "svlogd: tight RLIMIT_AS", |bin, tag| {
        rlimit_one(bin, tag, n).unwrap_or_else(Res::err)
    });
}

const STEP: u64 = 256 * 1024;
const PAGE: u64 = 4096;

fn limited(bin: &Path, limit: u64) -> Command {
    let mut c = Command::new(bin);
    // The hard limit stays unlimited, so that an svlogd pausing for
    // memory can be given more (see `rlimit_one`).
    runit_tests::memlimit::limit(&mut c, limit, None);
    c
}

/// How svlogd under `limit` with 100 lines to log ended.
enum Under {
    /// It never ran its own code: exec refused or the kernel could not
    /// load it (see runit_tests::exec_probe), or the dynamic loader gave
    /// up (127).
    NotStarted,
    /// Exit code (or -signal; None: hung), first line on standard error,
    /// lines logged.
    Ran(Option<i32>, String, u64),
}

fn under(bin: &Path, base: &Path, limit: u64) -> Under {
    let d = log_dir(base, "");
    let err = base.join("probe-err");
    let _ = std::fs::remove_file(&err);
    let (r, mut w) = pipe();
    for i in 0..100 {
        let _ = w.write_all(line(i).as_bytes());
    }
    drop(w);
    let mut reap = Reaper::new();
    let c = prepare(limited(bin, limit), &[], &d, &r, &err);
    let mut c = match runit_tests::exec_probe::spawn_seeing_exec(c) {
        runit_tests::exec_probe::Exec::Loaded(c) => c,
        _ => return Under::NotStarted,
    };
    let code = wait_exit(&mut c, Duration::from_secs(3));
    reap.child(c);
    if code == Some(127) {
        return Under::NotStarted;
    }
    let said = std::fs::read_to_string(&err).unwrap_or_default();
    let said = said.lines().next().unwrap_or("").to_string();
    Under::Ran(code, said, count(&d, 100).distinct)
}

/// Whether svlogd logs 100 lines and exits 0 under `limit`.
fn starts_under(bin: &Path, base: &Path, limit: u64) -> bool {
    matches!(under(bin, base, limit), Under::Ran(Some(0), _, 100))
}

fn rlimit_one(bin: &Path, tag: &str, n: u64) -> Result<Res, String> {
    let sc = Scratch::new(&format!("soak-svlogd-rlimit-{tag}"));
    let (mut lo, mut hi) = (0u64, 1024 * STEP); // 0 .. 256 MB
    if !starts_under(bin, &sc.0, hi) {
        return Err("does not start under 256 MB".into());
    }
    while hi - lo > STEP {
        let mid = (lo + hi) / 2 / STEP * STEP;
        if starts_under(bin, &sc.0, mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let coarse = hi;
    let mut lo = hi.saturating_sub(STEP);
    while hi - lo > PAGE {
        let mid = (lo + hi) / 2 / PAGE * PAGE;
        if starts_under(bin, &sc.0, mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let min = hi;
    // Every page below, down to where it does not start: how each ended.
    let mut ends: Vec<(String, usize)> = Vec::new();
    let mut signals = 0;
    let mut limit = min - PAGE;
    for _ in 0..256 {
        let Under::Ran(code, said, _) = under(bin, &sc.0, limit) else {
            break;
        };
        let e = match code {
            Some(c) if c < 0 => {
                signals += 1;
                format!("signal {}", -c)
            }
            Some(c) => format!("{c} \"{said}\""),
            None => "hung".into(),
        };
        match ends.iter_mut().find(|(k, _)| *k == e) {
            Some((_, n)) => *n += 1,
            None => ends.push((e, 1)),
        }
        limit -= PAGE;
    }
    let ends = if ends.is_empty() {
        "none (the loader fails first)".to_string()
    } else {
        ends.iter()
            .map(|(e, n)| format!("{n}× {e}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // One page below: what it says, and it must leave the pipe alone.
    let d = log_dir(&sc.0, "s1000000\nn1000\n");
    let err = sc.0.join("err-below");
    let (r, w) = pipe();
    let big: u64 = 5000;
    let f = {
        // Lines 0..n, line `big` padded to 100 kB (counted as "other").
        let mut w = w;
        std::thread::spawn(move || {
            let mut buf = String::new();
            for i in 0..n {
                if i == big {
                    buf.push_str(&"y".repeat(100 * 1024));
                    buf.push('\n');
                } else {
                    buf.push_str(&line(i));
                }
                if buf.len() > 4096 {
                    if w.write_all(buf.as_bytes()).is_err() {
                        return;
                    }
                    buf.clear();
                }
            }
            let _ = w.write_all(buf.as_bytes());
        })
    };
    let mut reap = Reaper::new();
    let mut c = start_in(limited(bin, min - PAGE), &[], &d, &r, &err);
    let below = wait_exit(&mut c, Duration::from_secs(5));
    reap.child(c);
    let said = std::fs::read_to_string(&err).unwrap_or_default();
    let said = said.lines().next().unwrap_or("(nothing)").to_string();
    let took = count(&d, n).distinct;
    let mut c = start_in(
        limited(bin, coarse),
        &[],
        &d,
        &r,
        &err.with_file_name("err-at"),
    );
    // Rotations need memory after lines were taken: svlogd may pause
    // ("pausing: out of memory.", runit's behaviour) holding them; it is
    // then given memory (the limit raised) and must lose none.
    let t = Instant::now();
    let mut paused = false;
    while !f.is_finished() && t.elapsed() < LIMIT {
        if !paused
            && stderr_count(
                &err.with_file_name("err-at"),
                "svlogd: pausing: out of memory.",
            ) > 0
        {
            paused = true;
            let _ = runit_tests::memlimit::lift(c.id());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if !f.is_finished() {
        probe::signal(c.id(), Signal::KILL);
    }
    let _ = f.join();
    let at = wait_exit(&mut c, LIMIT);
    reap.child(c);
    let cnt = count(&d, n);
    // Line `big` is the long one: expected absent from the numbered lines.
    let lost = cnt.lost_of(0..n) - u64::from(!cnt.seen[big as usize]);
    let long_ok = cnt.other.contains(&(100 * 1024 + 1));
    let t = format!(
        "starts at {} kB; the pages below, down to where it no longer starts: {}; 1 page below: exit {} \"{}\", {} lines taken; at {} kB: {}{} lost of {}, {} dup, 100 kB line {}; exit {}",
        fmt_n(min / 1024),
        ends,
        match below {
            Some(c) if c < 0 => format!("by signal {}", -c),
            Some(c) => c.to_string(),
            None => "none (hung)".into(),
        },
        said,
        took,
        fmt_n(coarse / 1024),
        if paused {
            "paused for memory, went on when the limit was raised; "
        } else {
            ""
        },
        lost,
        fmt_n(n - 1),
        cnt.dup,
        if long_ok { "kept" } else { "MISSING" },
        at.unwrap_or(999)
    );
    // Below the limit: a message and an exit (no hang, no signal, as
    // runit's "out of memory." and 111), and no line taken from the pipe.
    let below_clean = below.is_some_and(|c| c > 0) && said != "(nothing)" && took == 0;
    Ok(Res::new(
        t,
        lost == 0 && cnt.dup == 0 && long_ok && at == Some(0) && below_clean && signals == 0,
        "lines lost, or no clear failure below the limit (a signal, a hang)",
    ))
}
