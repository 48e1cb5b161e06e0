//! Paths that someone else can create, made hostile: a FIFO, a regular
//! file, a directory or a dangling symlink where runsvdir, runsvchdir and
//! chpst's envdir expect something else, and names renamed away while
//! runsvdir reads its directory. Nothing may block or crash; where runit
//! 2.1.2 behaves sanely the same case runs against the reference binary
//! and the transcripts must match. Every program that is expected to end
//! is waited for with a deadline, so a hang fails the test instead of
//! stalling the suite.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use runit_tests::*;
use rustix::fs::{mkfifoat, Mode, CWD};
use rustix::process::Signal;

/// A run script that records the pid of the sleep it becomes.
const RUN: &str = "#!/bin/sh\necho $$ > started\nexec sleep 1000\n";

/// runit's five-second scan plus slack for two busy cores.
const SCAN_BOUND: Duration = Duration::from_secs(15);

fn mkfifo(p: impl AsRef<Path>) {
    mkfifoat(CWD, p.as_ref(), Mode::from_raw_mode(0o600)).unwrap();
}

fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// Runs a program that must end by itself within [`WAIT`]: its exit code,
/// stdout and stderr, with `strip` (paths that differ between the two
/// runs) replaced by `{}`.
fn bounded(sb: &mut Sandbox, mut c: Command, strip: &[&Path]) -> String {
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let (o, e) = (sb.join(format!("out.{n}")), sb.join(format!("err.{n}")));
    c.stdin(Stdio::null())
        .stdout(std::fs::File::create(&o).unwrap())
        .stderr(std::fs::File::create(&e).unwrap());
    let pid = sb.spawn(c);
    let st = sb.wait_exit(pid, WAIT);
    let mut t = format!("{:?}\nout: {}\nerr: {}", st.code(), read(&o), read(&e));
    for p in strip {
        t = t.replace(p.to_str().unwrap(), "{}");
    }
    t
}

static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

// ---------------------------------------------------------------------
// runsvdir

/// A runsvdir (ours, or the reference with its runsv) on `s` in `sb`.
struct Runsvdir {
    pid: u32,
    err: PathBuf,
}

fn runsvdir(sb: &mut Sandbox, theirs: Option<&Reference>) -> Runsvdir {
    let (prog, runsv_dir) = match theirs {
        Some(r) => (r.runit("runsvdir"), r.dir.join("runit")),
        None => (bin("runsvdir"), bin_dir()),
    };
    let mut path = runsv_dir.into_os_string();
    path.push(":/usr/bin:/bin");
    let err = sb.join(format!("runsvdir.err.{}", theirs.is_some()));
    let mut c = sb.command(prog);
    c.arg("s")
        .env("PATH", path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap());
    let pid = sb.spawn(c);
    Runsvdir { pid, err }
}

impl Runsvdir {
    fn lines(&self) -> BTreeSet<String> {
        read(&self.err).lines().map(str::to_string).collect()
    }

    /// HUP (runsvdir TERMs every runsv and exits 111), then no leftovers.
    fn hangup(self, sb: &mut Sandbox) -> BTreeSet<String> {
        wait_catching(self.pid, Signal::HUP, WAIT);
        kill(self.pid, Signal::HUP);
        assert_eq!(sb.wait_exit(self.pid, WAIT).code(), Some(111));
        sb.assert_no_leaks();
        self.lines()
    }
}

/// Ours, then the reference when there is one.
fn suites() -> Vec<Option<&'static Reference>> {
    let mut v = vec![None];
    if let Some(r) = reference() {
        v.push(Some(r));
    }
    v
}

fn started(svc: &Path) -> u32 {
    wait_for(&format!("{} started", svc.display()), SCAN_BOUND, || {
        read(svc.join("started"))
            .trim()
            .parse()
            .ok()
            .filter(|&p| alive(p))
    })
}

/// The issue's race: a service directory renamed between the inotify
/// event (or the listing) and runsvdir's stat of it. runsvdir must print
/// nothing and must not take the rename for a removal (the runsv and its
/// ./run stay). Before the fix this printed `unable to stat a` (or `a2`)
/// within a few hundred renames and sometimes restarted the service.
#[test]
fn renames_racing_the_scan_are_no_warning() {
    let mut sb = Sandbox::new();
    let s = sb.join("s");
    make_service(&s.join("a"), RUN);
    make_service(&s.join("other"), RUN);
    let r = runsvdir(&mut sb, None);
    let run_pid = started(&s.join("a"));
    started(&s.join("other"));
    let runsv_pid = wait_for("a's supervise/pid", WAIT, || {
        let p = read(s.join("a/supervise/pid"));
        (!p.is_empty()).then_some(p)
    });
    let (a, a2) = (s.join("a"), s.join("a2"));
    let t0 = Instant::now();
    let mut renames = 0;
    while renames < 20_000 && t0.elapsed() < Duration::from_secs(3) {
        std::fs::rename(&a, &a2).unwrap();
        std::fs::rename(&a2, &a).unwrap();
        renames += 2;
    }
    // A service added last shows the scans after the renames are done.
    make_service(&s.join("z"), RUN);
    started(&s.join("z"));
    assert_eq!(read(s.join("a/supervise/pid")), runsv_pid, "same runsv");
    assert!(alive(run_pid), "same ./run");
    assert_eq!(read(s.join("a/started")).trim(), run_pid.to_string());
    let lines = r.hangup(&mut sb);
    assert!(lines.is_empty(), "after {renames} renames: {lines:?}");
}

/// A FIFO, a regular file, symlinks to them, a dangling symlink and a
/// symlink loop among the services: no runsv for any of them, runit's
/// warning for the two that cannot be stat'ed, and the scan goes on.
#[test]
fn hostile_entries_in_the_services_directory() {
    let mut outcomes = Vec::new();
    for theirs in suites() {
        let mut sb = Sandbox::new();
        let s = sb.join("s");
        make_service(&s.join("a"), RUN);
        mkfifo(s.join("fifo"));
        std::fs::write(s.join("file"), "x").unwrap();
        symlink("fifo", s.join("to-fifo"));
        symlink("file", s.join("to-file"));
        symlink("nowhere", s.join("dangling"));
        symlink("loop", s.join("loop"));
        let r = runsvdir(&mut sb, theirs);
        started(&s.join("a"));
        wait_until("two warnings", WAIT, || r.lines().len() >= 2);
        // Still scanning: a service added now starts.
        make_service(&s.join("b"), RUN);
        started(&s.join("b"));
        for n in ["fifo", "file", "to-fifo", "to-file", "dangling", "loop"] {
            assert!(
                !s.join(n).join("supervise").exists(),
                "{n}: no runsv for it"
            );
        }
        outcomes.push(r.hangup(&mut sb));
    }
    let want: BTreeSet<String> = [
        "runsvdir s: warning: unable to stat dangling: file does not exist",
        "runsvdir s: warning: unable to stat loop: symbolic link loop",
    ]
    .map(String::from)
    .into();
    assert_eq!(outcomes[0], want);
    if outcomes.len() == 2 {
        assert_eq!(outcomes[0], outcomes[1], "ours vs runit 2.1.2");
    }
}

/// The services path itself a FIFO, a dangling symlink or a symlink to a
/// FIFO: runit's warning, retried, never a hang.
#[test]
fn hostile_services_path() {
    type Setup = fn(&Path);
    let cases: [(&str, Setup, &str); 3] = [
        (
            "fifo",
            |s| mkfifo(s),
            "unable to change directory to s: not a directory",
        ),
        (
            "dangling",
            |s| symlink("nowhere", s),
            "unable to stat s: file does not exist",
        ),
        (
            "to-fifo",
            |s| {
                mkfifo(s.with_file_name("f"));
                symlink("f", s)
            },
            "unable to change directory to s: not a directory",
        ),
    ];
    for (case, setup, want) in cases {
        let mut outcomes = Vec::new();
        for theirs in suites() {
            let mut sb = Sandbox::new();
            setup(&sb.join("s"));
            let r = runsvdir(&mut sb, theirs);
            wait_until("warnings (retried)", WAIT, || {
                read(&r.err).lines().count() >= 2
            });
            outcomes.push(r.hangup(&mut sb));
        }
        let want: BTreeSet<String> = [format!("runsvdir s: warning: {want}")].into();
        assert_eq!(outcomes[0], want, "{case}");
        if outcomes.len() == 2 {
            assert_eq!(outcomes[0], outcomes[1], "{case}: ours vs runit 2.1.2");
        }
    }
}

/// `.forced-rescan` (written after a SIGALRM) a FIFO without a reader, a
/// directory or a dangling symlink: runit's warning for the first two
/// (the FIFO is opened non-blocking), the symlink's target created for
/// the third, and runsvdir keeps scanning.
#[test]
fn hostile_forced_rescan_file() {
    type Setup = fn(&Path);
    let cases: [(&str, Setup); 3] = [
        ("fifo", |f| mkfifo(f)),
        ("directory", |f| std::fs::create_dir(f).unwrap()),
        ("dangling", |f| symlink("../target", f)),
    ];
    for (case, setup) in cases {
        let mut outcomes = Vec::new();
        for theirs in suites() {
            let mut sb = Sandbox::new();
            let s = sb.join("s");
            make_service(&s.join("a"), RUN);
            setup(&s.join(".forced-rescan"));
            let r = runsvdir(&mut sb, theirs);
            started(&s.join("a"));
            kill(r.pid, Signal::ALARM);
            // The rescan is done when its warning or the file is there.
            let target = sb.join("target");
            wait_until("forced rescan", WAIT, || {
                !read(&r.err).is_empty() || read(&target).len() == 25
            });
            make_service(&s.join("b"), RUN);
            started(&s.join("b"));
            let target_written = read(&target).starts_with("@4000");
            // The warning ends in the time: keep what precedes it.
            let lines: BTreeSet<String> = r
                .hangup(&mut sb)
                .into_iter()
                .map(|l| l.split('@').next().unwrap().to_string())
                .collect();
            outcomes.push((lines, target_written));
        }
        let want = if case == "dangling" {
            (BTreeSet::new(), true)
        } else {
            let l = "runsvdir s: warning: failed to open./.forced-rescan".to_string();
            ([l].into(), false)
        };
        assert_eq!(outcomes[0], want, "{case}");
        if outcomes.len() == 2 {
            assert_eq!(outcomes[0], outcomes[1], "{case}: ours vs runit 2.1.2");
        }
    }
}

// ---------------------------------------------------------------------
// runsvchdir

/// Sets up a runlevel directory (`default`, `single`, `current ->
/// default`), changes it with `$SETUP`, runs `runsvchdir NAME` and lists
/// what is left, each entry with its type.
const RUNSVCHDIR_CASE: &str = r#"
D="$1"; P="$2"; T="$3"; NAME="$4"
mkdir -p "$D/default" "$D/single" && cd "$D" || exit 97
ln -s default current
eval "$SETUP"
"$P" "$NAME" >"$T/o" 2>"$T/e"; echo "rc=$?"
echo "out: $(cat "$T/o")"; echo "err: $(sed "s|$P|PROG|" "$T/e")"
for f in * .[!.]*; do
  if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"
  elif [ -p "$f" ]; then echo "$f fifo"
  elif [ -d "$f" ]; then echo "$f dir"
  elif [ -f "$f" ]; then echo "$f file"
  fi
done
"#;

/// One case under ours (with `$RUNSVDIR`) and, as root with a mount
/// namespace, under the reference (its compiled-in /etc/runit/runsvdir on
/// a private tmpfs).
fn runsvchdir_case(setup: &str, name: &str) -> (String, Option<String>) {
    let mut sb = Sandbox::new();
    let script = sb.join("case.sh");
    std::fs::write(&script, RUNSVCHDIR_CASE).unwrap();
    let scratch = sb.join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    let levels = sb.join("levels");
    let mut c = sb.command("sh");
    c.arg(&script).arg(&levels).arg(bin("runsvchdir"));
    c.arg(&scratch).arg(name).env("SETUP", setup);
    c.env("RUNSVDIR", &levels);
    let ours = bounded(&mut sb, c, &[&levels]);
    let mut theirs = None;
    if let Some(r) = reference().filter(|_| rustix::process::geteuid().is_root()) {
        let mut c = sb.command("unshare");
        c.args(["-m", "sh", "-c"])
            .arg("mount -t tmpfs hostile /etc || exit 97; exec sh \"$0\" \"$@\"")
            .arg(&script)
            .arg("/etc/runit/runsvdir")
            .arg(r.runit("runsvchdir"))
            .arg(&scratch)
            .arg(name)
            .env("SETUP", setup)
            .env_remove("RUNSVDIR");
        let t = bounded(&mut sb, c, &[Path::new("/etc/runit/runsvdir")]);
        if t.starts_with("Some(97)") {
            eprintln!("*** no mount namespace: reference runsvchdir not compared ***");
        } else {
            theirs = Some(t);
        }
    }
    sb.assert_no_leaks();
    (ours, theirs)
}

#[test]
fn runsvchdir_with_hostile_names_and_links() {
    let cases = [
        // The new runlevel's name.
        ("mkfifo fifo", "fifo", "fifonot a directory."),
        ("echo x > file", "file", "filenot a directory."),
        (
            "ln -s nowhere dangling",
            "dangling",
            "fatal: dangling: file does not exist",
        ),
        (
            "mkfifo f; ln -s f to-fifo",
            "to-fifo",
            "to-fifonot a directory.",
        ),
        (
            "ln -s loop loop",
            "loop",
            "fatal: unable to stat: loop: symbolic link loop",
        ),
        // current, previous and current.new.
        ("rm current; mkfifo current", "single", "previous fifo"),
        ("rm current; echo x > current", "single", "previous file"),
        (
            "rm current; ln -s loop current",
            "single",
            "unable to stat: current",
        ),
        ("mkfifo previous", "single", "previous -> default"),
        ("ln -s nowhere previous", "single", "previous -> default"),
        ("mkfifo current.new", "single", "current -> single"),
        ("ln -s nowhere current.new", "single", "current -> single"),
        ("echo x > current.new", "single", "current -> single"),
    ];
    for (setup, name, expect) in cases {
        let (ours, theirs) = runsvchdir_case(setup, name);
        assert!(ours.contains(expect), "{setup}: {ours}");
        if let Some(theirs) = theirs {
            assert_eq!(ours, theirs, "{setup}: ours vs runit 2.1.2");
        }
    }
}

// ---------------------------------------------------------------------
// chpst's envdir

/// Runs `envdir DIR env` and `chpst -e DIR env` from ours and the
/// reference in the sandbox, in a fixed environment.
fn envdir_transcripts(sb: &mut Sandbox, dir: &str) -> Vec<(String, String)> {
    let farm = sb.join("farm");
    if !farm.exists() {
        std::fs::create_dir(&farm).unwrap();
        symlink(bin("chpst"), farm.join("envdir"));
    }
    let mut progs = vec![(farm.join("envdir"), bin("chpst"))];
    if let Some(r) = reference() {
        progs.push((r.runit("envdir"), r.runit("chpst")));
    }
    let mut v = Vec::new();
    for (envdir, chpst) in progs {
        let mut run = |prog: &Path, args: &[&str]| {
            let mut c = sb.command(prog);
            c.args(args)
                .env_clear()
                .env(TAG_VAR, sb.tag())
                .env("PATH", "/usr/bin:/bin")
                .env("V", "kept");
            bounded(sb, c, &[prog])
        };
        let a = run(&envdir, &[dir, "env"]);
        let b = run(&chpst, &["-e", dir, "env"]);
        v.push((a, b));
    }
    v
}

/// Asserts ours matches the reference (when there is one) and returns
/// ours: (envdir's transcript, chpst -e's).
fn envdir_same(sb: &mut Sandbox, dir: &str) -> (String, String) {
    let t = envdir_transcripts(sb, dir);
    if t.len() == 2 {
        assert_eq!(t[0], t[1], "envdir {dir}: ours vs runit 2.1.2");
    }
    t[0].clone()
}

#[test]
fn envdir_entries_that_are_fifos_directories_or_dangling() {
    let mut sb = Sandbox::new();
    let one = |sb: &Sandbox, d: &str| {
        let p = sb.join(d);
        std::fs::create_dir(&p).unwrap();
        p
    };
    // A FIFO without a writer reads as empty: the variable is unset.
    mkfifo(one(&sb, "fifo").join("V"));
    let (e, c) = envdir_same(&mut sb, "fifo");
    assert!(e.starts_with("Some(0)") && !e.contains("V=kept"), "{e}");
    assert_eq!(e, c);
    // A symlink to such a FIFO, the same.
    let d = one(&sb, "to-fifo");
    mkfifo(d.join("f"));
    symlink("f", d.join("V"));
    let (e, _) = envdir_same(&mut sb, "to-fifo");
    assert!(e.starts_with("Some(0)") && !e.contains("V="), "{e}");
    // A dangling symlink, the only entry: unset too.
    symlink("nowhere", one(&sb, "dangling").join("V"));
    let (e, c) = envdir_same(&mut sb, "dangling");
    assert!(e.starts_with("Some(0)") && !e.contains("V="), "{e}");
    assert_eq!(e, c);
    // A directory: fatal for envdir, skipped by chpst -e.
    std::fs::create_dir(one(&sb, "sub").join("V")).unwrap();
    let (e, c) = envdir_same(&mut sb, "sub");
    assert!(e.contains("unable to read sub/V: is a directory"), "{e}");
    assert!(c.starts_with("Some(0)") && c.contains("V=kept"), "{c}");
    // The envdir itself a FIFO or a dangling symlink: runit's fatal error.
    mkfifo(sb.join("dir-fifo"));
    let (e, _) = envdir_same(&mut sb, "dir-fifo");
    assert!(e.contains("not a directory"), "{e}");
    symlink("nowhere", sb.join("dir-dangling"));
    let (e, _) = envdir_same(&mut sb, "dir-dangling");
    assert!(e.contains("file does not exist"), "{e}");
    sb.assert_no_leaks();
}

#[test]
fn envdir_fifo_with_a_writer_never_blocks() {
    let mut sb = Sandbox::new();
    let d = sb.join("held");
    std::fs::create_dir(&d).unwrap();
    mkfifo(d.join("V"));
    // O_RDWR on a FIFO does not wait for a peer: the test holds a writer.
    let held = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(d.join("V"))
        .unwrap();
    // Silent writer: a non-blocking read has nothing yet.
    let (e, c) = envdir_same(&mut sb, "held");
    assert!(
        e.contains("unable to read held/V: temporary failure"),
        "{e}"
    );
    assert!(
        c.contains("unable to read held/V: temporary failure"),
        "{c}"
    );
    // A writer that wrote a line and keeps the FIFO open: the same, as
    // reading to the end would wait for the writer.
    use std::io::Write;
    (&held).write_all(b"line\n").unwrap();
    let (e, _) = envdir_same(&mut sb, "held");
    assert!(e.contains("unable to read held/V"), "{e}");
    drop(held);
    sb.assert_no_leaks();
}
