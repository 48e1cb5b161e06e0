//! Shared harness for the end-to-end tests: where the binaries are (ours and
//! the reference runit's), a per-test sandbox directory, polling with a
//! deadline, and leak detection.
//!
//! Every process a test starts through a [`Sandbox`] carries an environment
//! tag unique to that sandbox. Descendants inherit it, so at the end the
//! sandbox can find exactly the processes the test caused (even ones that
//! were reparented) by reading `/proc/PID/environ`, kill them by PID, and
//! fail the test if any were still alive.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rustix::fs::{Mode, OFlags};

pub use supervise_proto;

pub mod exec_probe;
pub mod memlimit;

/// Name of the environment variable that tags a sandbox's processes.
pub const TAG_VAR: &str = "RUNIT_RS_TEST_TAG";

/// A generous default deadline for waits: the machine has 2 busy cores.
pub const WAIT: Duration = Duration::from_secs(20);

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Directory holding our built binaries (target/debug or target/release),
/// or `$RUNIT_RS_BIN_DIR`.
pub fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("RUNIT_RS_BIN_DIR") {
        return PathBuf::from(d);
    }
    // The test executable lives in target/<profile>/deps/.
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .to_path_buf()
}

/// Copies a program to `dst` (keeping its mode) by running cp(1): the
/// file is open for writing only in that short-lived process, never in this
/// one, so a child another test thread forks at the same moment cannot
/// inherit the write descriptor and make our exec fail with ETXTBSY.
pub fn copy_program(src: &Path, dst: &Path) {
    let st = Command::new("cp")
        .arg("--")
        .arg(src)
        .arg(dst)
        .status()
        .expect("run cp");
    assert!(st.success(), "cp {} {}", src.display(), dst.display());
}

/// Path of one of our binaries; panics with a hint when it was not built,
/// or when it is older than its sources (the tests would otherwise pass or
/// fail on what an earlier build did). Binaries from `$RUNIT_RS_BIN_DIR`
/// (the musl and installed builds) are taken as they are.
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.exists(),
        "{} not built: run `cargo build --workspace --bins` (make check does)",
        p.display()
    );
    if std::env::var_os("RUNIT_RS_BIN_DIR").is_none() {
        assert_fresh(name, &p);
    }
    p
}

/// The crate that builds binary `name`.
pub fn crate_of(name: &str) -> &str {
    match name {
        "envdir" | "envuidgid" | "pgrphack" | "setlock" | "setuidgid" | "softlimit" => "chpst",
        "tai64nlocal" => "tai64n",
        "runit-init" => "runit",
        other => other,
    }
}

/// Panics unless binary `path` is at least as new as every source file of
/// its crate and of the shared crates (those under crates/ with a
/// src/lib.rs and no program of their own, such as supervise-proto).
fn assert_fresh(name: &str, path: &Path) {
    let built = mtime(path).expect("binary mtime");
    let crates = workspace_root().join("crates");
    let mut dirs = vec![crates.join(crate_of(name))];
    for e in std::fs::read_dir(&crates).into_iter().flatten().flatten() {
        let src = e.path().join("src");
        if src.join("lib.rs").exists() && !src.join("main.rs").exists() && !src.join("bin").exists()
        {
            dirs.push(e.path());
        }
    }
    for d in dirs {
        if let Some((newest, file)) = newest_source(&d.join("src")) {
            assert!(
                newest <= built,
                "stale binary: run cargo build --workspace --bins ({} is older than {})",
                path.display(),
                file.display()
            );
        }
    }
}

fn mtime(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// The newest `.rs` file under `dir` (recursively) and its mtime.
fn newest_source(dir: &Path) -> Option<(std::time::SystemTime, PathBuf)> {
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        let found = if p.is_dir() {
            newest_source(&p)
        } else if p.extension().is_some_and(|x| x == "rs") {
            mtime(&p).map(|t| (t, p))
        } else {
            None
        };
        if let Some(f) = found {
            if best.as_ref().is_none_or(|b| f.0 > b.0) {
                best = Some(f);
            }
        }
    }
    best
}

/// The reference runit 2.1.2 and daemontools 0.76 binaries, unpacked by
/// `../shared/tools/reference-suite` (or found at `$RUNIT_REFERENCE_DIR`).
pub struct Reference {
    pub dir: PathBuf,
}

impl Reference {
    /// `runit/NAME`: runsv, runsvdir, sv, svlogd, chpst, ...
    pub fn runit(&self, name: &str) -> PathBuf {
        self.dir.join("runit").join(name)
    }
    /// `daemontools/NAME`: svc, svok, svstat, supervise, tai64n, ...
    pub fn daemontools(&self, name: &str) -> PathBuf {
        self.dir.join("daemontools").join(name)
    }
    /// A reference manual page (gzipped roff).
    pub fn man(&self, section: u8, name: &str) -> PathBuf {
        self.dir.join(format!(
            "root/usr/share/man/man{section}/{name}.{section}.gz"
        ))
    }
}

fn find_reference() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("RUNIT_REFERENCE_DIR") {
        let d = PathBuf::from(d);
        if d.join("runit/runsv").exists() {
            return Some(d);
        }
    }
    let script = workspace_root().join("../shared/tools/reference-suite");
    let out = Command::new(&script)
        .stderr(Stdio::inherit())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    d.join("runit/runsv").exists().then_some(d)
}

/// The reference suite, if it can be had. When it cannot, the calling test
/// (or the differential part of it) is skipped: see [`skip`].
pub fn reference() -> Option<&'static Reference> {
    static REF: OnceLock<Option<Reference>> = OnceLock::new();
    let r = REF
        .get_or_init(|| find_reference().map(|dir| Reference { dir }))
        .as_ref();
    if r.is_none() {
        skip("reference runit/daemontools not available (run ../shared/tools/reference-suite)");
    }
    r
}

// Skips. A test that cannot run here says so through these, never by a
// bare early return: each skip is appended to a log that `make check`
// sums up, and under CI (`CI=true`, or `RUNIT_RS_REQUIRE_REFERENCE=1`,
// which make check sets) a skip is a failure, unless a failed attempt
// proved the machine itself cannot do what the test needs.

/// Why a test (or part of one) does not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skip {
    reason: String,
    /// The machine refused (the kernel or the container), as a failed
    /// attempt showed: not something the person running the tests can fix
    /// by installing or configuring something.
    machine: bool,
}

impl Skip {
    /// Something the test setup lacks: the reference suite, a tool, root.
    pub fn setup(reason: &str) -> Skip {
        Skip {
            reason: reason.to_string(),
            machine: false,
        }
    }

    /// A failed attempt at `what` (its exit status and stderr are the
    /// proof); `None` when it succeeded.
    pub fn refused(what: &str, status: std::process::ExitStatus, stderr: &[u8]) -> Option<Skip> {
        (!status.success()).then(|| Skip {
            reason: format!(
                "this machine cannot {what} ({status}: {})",
                String::from_utf8_lossy(stderr).trim()
            ),
            machine: true,
        })
    }

    /// Records the skip; panics instead when skips are failures.
    pub fn record(&self) {
        let strict = strict();
        let line = format!(
            "{}\t{}{}\n",
            test_name(),
            self.reason,
            if !self.machine && strict {
                " [FAILED: skips are failures under CI]"
            } else {
                ""
            }
        );
        if let Some(log) = skip_log() {
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
            {
                let _ = f.write_all(line.as_bytes());
            }
        }
        if let Err(msg) = self.verdict(strict) {
            panic!("{msg}");
        }
        eprintln!("\n*** SKIPPED: {} ***\n", self.reason);
    }

    /// Whether the skip is allowed when skips are `strict`ly failures.
    fn verdict(&self, strict: bool) -> Result<(), String> {
        if strict && !self.machine {
            return Err(format!(
                "test skipped under CI (CI=true or RUNIT_RS_REQUIRE_REFERENCE=1): {}",
                self.reason
            ));
        }
        Ok(())
    }
}

/// Skips the calling test (or part of it) for want of something the setup
/// could provide; under CI that is a failure. The caller then returns.
pub fn skip(reason: &str) {
    Skip::setup(reason).record();
}

/// Runs `cmd` to see whether this machine can do `what`. A command that
/// ran and failed proves the machine cannot; one that cannot be started
/// at all is a missing tool (a setup skip).
pub fn probe(what: &str, mut cmd: Command) -> Result<(), Skip> {
    match cmd.stdin(Stdio::null()).stdout(Stdio::null()).output() {
        Err(e) => Err(Skip::setup(&format!(
            "cannot run {:?} to see whether this machine can {what}: {e}",
            cmd.get_program()
        ))),
        Ok(o) => Skip::refused(what, o.status, &o.stderr).map_or(Ok(()), Err),
    }
}

/// Whether the tests run as root; when not, skips the caller.
pub fn need_root(why: &str) -> bool {
    let root = rustix::process::geteuid().is_root();
    if !root {
        skip(&format!("needs root ({why})"));
    }
    root
}

/// Skips are failures: under CI, or when the reference is required.
pub fn strict() -> bool {
    std::env::var_os("CI").is_some_and(|v| v == "true")
        || std::env::var_os("RUNIT_RS_REQUIRE_REFERENCE").is_some_and(|v| v == "1")
}

/// Where skips are logged: `$RUNIT_RS_SKIP_LOG`, else test-skips.log in
/// the target directory (beside target/debug).
fn skip_log() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RUNIT_RS_SKIP_LOG") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.ancestors().nth(3)?.join("test-skips.log"))
}

/// `PACKAGE/FILE::TEST`: the package (cargo names it in the test's
/// environment), the test binary (without cargo's hash) and the test,
/// which libtest names each test thread after.
fn test_name() -> String {
    let exe = std::env::current_exe().ok();
    let file = exe
        .as_deref()
        .and_then(Path::file_stem)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = file.rsplit_once('-').map_or(file.as_str(), |(f, _)| f);
    let t = std::thread::current();
    let package = std::env::var("CARGO_PKG_NAME").unwrap_or_default();
    format!("{package}/{file}::{}", t.name().unwrap_or("?"))
}

/// Polls `f` every few milliseconds until it returns `Some`, or panics with
/// `what` after `limit`.
pub fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() > limit {
            panic!("timed out after {limit:?} waiting for {what}");
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Waits until process `pid` has a handler installed for signal `signo`
/// (its SigCgt mask in /proc). A program can print its first warnings
/// before it sets its handlers up; a signal sent in between would kill it
/// with the default action instead of testing what it does.
pub fn wait_catching(pid: u32, sig: rustix::process::Signal, limit: Duration) {
    let signo = sig.as_raw();
    wait_until(&format!("pid {pid} to catch signal {signo}"), limit, || {
        let Ok(st) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            return false;
        };
        st.lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            .is_some_and(|m| m & (1u64 << (signo - 1)) != 0)
    })
}

/// How long a test watches for something that must not happen (a restart,
/// a wake-up, a signal): well past runit's one-second pauses, so that an
/// event delayed by a loaded machine still falls inside the window.
pub const QUIET: Duration = Duration::from_secs(3);

/// Asserts that `ok` holds, checked every few milliseconds, for the whole
/// of `window`: the form a "this does not happen" test takes.
pub fn assert_stays(what: &str, window: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    loop {
        assert!(ok(), "{what}: no longer true after {:?}", start.elapsed());
        if start.elapsed() >= window {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Like [`wait_for`] for a condition.
pub fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    wait_for(what, limit, || f().then_some(()))
}

/// Writes an executable (0755) script, atomically (a supervisor watching
/// the directory never sees it half written). The file is written by a
/// short-lived sh(1), for the reason given at [`copy_program`]: no write
/// descriptor of it is ever open in this process.
pub fn write_script(path: impl AsRef<Path>, body: &str) {
    let path = path.as_ref();
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let st = Command::new("sh")
        .arg("-c")
        .arg("printf %s \"$1\" > \"$2\"")
        .arg("sh")
        .arg(body)
        .arg(&tmp)
        .status()
        .expect("run sh");
    assert!(st.success(), "write {}", path.display());
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Reads a file to a string, or "" when it cannot be read.
pub fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Whether a process exists (and is not a zombie).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => {
            // The state letter follows the parenthesised command name.
            let state = s
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next());
            !matches!(state, Some("Z") | Some("X") | None)
        }
        Err(_) => false,
    }
}

/// Sends a signal to one process.
pub fn kill(pid: u32, sig: rustix::process::Signal) {
    if let Some(p) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process(p, sig);
    }
}

/// Pids of all processes whose environment carries `TAG_VAR=tag`.
pub fn tagged_processes(tag: &str) -> Vec<u32> {
    let needle = format!("{TAG_VAR}={tag}");
    let me = std::process::id();
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        if let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) {
            if env.split(|&b| b == 0).any(|v| v == needle.as_bytes()) && alive(pid) {
                pids.push(pid);
            }
        }
    }
    pids
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A test's own directory and processes.
pub struct Sandbox {
    dir: tempfile::TempDir,
    tag: String,
    children: Vec<Child>,
    checked: bool,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let tag = format!(
            "{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            Instant::now().elapsed().as_nanos()
        );
        Sandbox {
            dir: tempfile::Builder::new()
                .prefix("runit-rs-test.")
                .tempdir()
                .unwrap(),
            tag,
            children: Vec::new(),
            checked: false,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `path().join(p)`.
    pub fn join(&self, p: impl AsRef<Path>) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// A command tagged with this sandbox, run in its directory.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env(TAG_VAR, &self.tag).current_dir(self.path());
        c
    }

    /// Runs a command to completion and returns its output.
    pub fn run(&self, mut cmd: Command) -> Output {
        cmd.stdin(Stdio::null()).output().expect("run command")
    }

    /// Starts a long-running process (stdio null unless set) and keeps it
    /// to be reaped; returns its pid.
    pub fn spawn(&mut self, mut cmd: Command) -> u32 {
        let child = cmd.spawn().expect("spawn");
        let pid = child.id();
        self.children.push(child);
        pid
    }

    /// [`Sandbox::spawn`] for a command that may fail to start (an exec
    /// refused under a resource limit).
    pub fn try_spawn(&mut self, mut cmd: Command) -> std::io::Result<u32> {
        let child = cmd.spawn()?;
        let pid = child.id();
        self.children.push(child);
        Ok(pid)
    }

    /// Takes a child started elsewhere (see [`exec_probe`]) into the
    /// sandbox.
    pub fn adopt(&mut self, child: Child) -> u32 {
        let pid = child.id();
        self.children.push(child);
        pid
    }

    /// Reaps any of our direct children that have exited; returns the exit
    /// status of `pid` if it has.
    pub fn try_wait(&mut self, pid: u32) -> Option<std::process::ExitStatus> {
        let c = self.children.iter_mut().find(|c| c.id() == pid)?;
        c.try_wait().ok().flatten()
    }

    /// Waits (with a deadline) for our child `pid` to exit.
    pub fn wait_exit(&mut self, pid: u32, limit: Duration) -> std::process::ExitStatus {
        wait_for(&format!("pid {pid} to exit"), limit, || self.try_wait(pid))
    }

    /// Processes started from this sandbox that are still alive.
    pub fn live_processes(&self) -> Vec<u32> {
        tagged_processes(&self.tag)
    }

    /// Asserts that every process this test started has gone (waiting a
    /// little for ones already on their way out).
    pub fn assert_no_leaks(&mut self) {
        self.checked = true;
        let start = Instant::now();
        loop {
            for c in self.children.iter_mut() {
                let _ = c.try_wait();
            }
            let left = self.live_processes();
            if left.is_empty() {
                return;
            }
            if start.elapsed() > Duration::from_secs(10) {
                let desc: Vec<String> = left
                    .iter()
                    .map(|p| {
                        format!(
                            "{p} {}",
                            read(format!("/proc/{p}/cmdline")).replace('\0', " ")
                        )
                    })
                    .collect();
                self.kill_all();
                panic!("test leaked processes: {desc:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILLs every tagged process, by PID, and reaps our children.
    pub fn kill_all(&mut self) {
        for _ in 0..50 {
            let left = self.live_processes();
            for &p in &left {
                kill(p, rustix::process::Signal::KILL);
            }
            for c in self.children.iter_mut() {
                let _ = c.try_wait();
            }
            if left.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for c in self.children.iter_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let leaked = self.live_processes();
        self.kill_all();
        if !self.checked && !leaked.is_empty() && !std::thread::panicking() {
            panic!("test leaked processes {leaked:?} (call kill_all or clean up, then assert_no_leaks)");
        }
    }
}

/// Creates a service directory `dir` with a `run` script. A new directory
/// is built under a dot name beside it and renamed into place, so a
/// runsvdir watching the parent (which acts within milliseconds) never
/// sees a service without its ./run.
pub fn make_service(dir: &Path, run: &str) {
    if dir.exists() {
        write_script(dir.join("run"), run);
        return;
    }
    let parent = dir.parent().expect("service dir has a parent");
    std::fs::create_dir_all(parent).unwrap();
    let name = dir.file_name().unwrap().to_string_lossy();
    let staging = parent.join(format!(".{name}.staging"));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir(&staging).unwrap();
    write_script(staging.join("run"), run);
    std::fs::rename(&staging, dir).unwrap();
}

/// Replaces the digits of pids and of second counts in an `sv` transcript
/// so that runs of two implementations can be compared.
pub fn normalize_sv(text: &str) -> String {
    // Byte-wise, so text that is not ASCII passes through unchanged.
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"(pid ") {
            out.extend_from_slice(b"(pid N)");
            i = b[i..]
                .iter()
                .position(|&c| c == b')')
                .map_or(b.len(), |j| i + j + 1);
            continue;
        }
        if b[i].is_ascii_digit() && (i == 0 || b[i - 1] == b' ') {
            let mut j = i;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j < b.len() && b[j] == b's' {
                out.extend_from_slice(b"Ns");
                i = j + 1;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).expect("only ASCII was replaced")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_pids_and_seconds() {
        assert_eq!(
            normalize_sv("run: a: (pid 123) 45s, normally down; run: log: (pid 9) 0s\n"),
            "run: a: (pid N) Ns, normally down; run: log: (pid N) Ns\n"
        );
        assert_eq!(normalize_sv("down: x1s: 3s"), "down: x1s: Ns");
    }

    #[test]
    fn skips_fail_under_ci_unless_the_machine_refused() {
        let setup = Skip::setup("no tool");
        assert!(setup.verdict(false).is_ok());
        assert!(setup.verdict(true).unwrap_err().contains("no tool"));
        let ok = Command::new("true").status().unwrap();
        assert_eq!(Skip::refused("x", ok, b""), None);
        let bad = Command::new("false").status().unwrap();
        let machine = Skip::refused("make a namespace", bad, b"EPERM\n").unwrap();
        assert!(machine.verdict(true).is_ok());
        assert!(
            machine.reason.contains("cannot make a namespace"),
            "{}",
            machine.reason
        );
        assert!(machine.reason.ends_with(": EPERM)"), "{}", machine.reason);
        assert!(matches!(
            probe("run a missing tool", Command::new("/nonexistent/tool")),
            Err(Skip { machine: false, .. })
        ));
        assert!(probe("run true", Command::new("true")).is_ok());
    }

    #[test]
    fn binaries_map_to_crates() {
        assert_eq!(crate_of("setuidgid"), "chpst");
        assert_eq!(crate_of("tai64nlocal"), "tai64n");
        assert_eq!(crate_of("runit-init"), "runit");
        assert_eq!(crate_of("sv"), "sv");
    }

    #[test]
    fn sandbox_tags_and_kills() {
        let mut sb = Sandbox::new();
        let mut c = sb.command("sleep");
        c.arg("100");
        let pid = sb.spawn(c);
        wait_until("tag visible", WAIT, || sb.live_processes().contains(&pid));
        sb.kill_all();
        assert!(!alive(pid));
        sb.assert_no_leaks();
    }
}

/// A pair of runsv and sv binaries to drive a scenario with.
#[derive(Clone, Debug)]
pub struct Suite {
    pub name: &'static str,
    pub runsv: PathBuf,
    pub sv: PathBuf,
}

impl Suite {
    /// Our runsv and sv.
    pub fn ours() -> Suite {
        Suite {
            name: "ours",
            runsv: bin("runsv"),
            sv: bin("sv"),
        }
    }

    /// runit 2.1.2's runsv and sv.
    pub fn theirs(r: &Reference) -> Suite {
        Suite {
            name: "runit",
            runsv: r.runit("runsv"),
            sv: r.runit("sv"),
        }
    }
}

/// Starts `runsv DIR` (stderr to `DIR.stderr` beside the directory) and
/// waits until it answers on supervise/ok. Returns its pid.
pub fn start_runsv(sb: &mut Sandbox, runsv: &Path, dir: &Path) -> u32 {
    let err = std::fs::File::create(stderr_file(dir)).unwrap();
    let mut c = sb.command(runsv);
    c.arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err);
    let pid = sb.spawn(c);
    wait_until("runsv to answer on supervise/ok", WAIT, || {
        supervise_proto::svdir::supervisor_running(dir) == Ok(true)
    });
    pid
}

/// Where [`start_runsv`] sends runsv's stderr.
pub fn stderr_file(dir: &Path) -> PathBuf {
    let mut s = dir.as_os_str().to_owned();
    s.push(".stderr");
    PathBuf::from(s)
}

/// The decoded status of a service directory (or of `dir/log`).
pub fn status_of(dir: &Path) -> Option<supervise_proto::Status> {
    let b = supervise_proto::svdir::read_status_bytes(dir).ok()?;
    supervise_proto::Status::decode(&b).ok()
}

/// Waits until the service's status satisfies `pred`.
pub fn wait_status(dir: &Path, what: &str, pred: impl Fn(&supervise_proto::Status) -> bool) {
    wait_until(what, WAIT, || status_of(dir).is_some_and(|s| pred(&s)));
}

/// Waits until ./run is running (a pid, state run).
pub fn wait_running(dir: &Path) -> u32 {
    wait_for(&format!("{} to run", dir.display()), WAIT, || {
        status_of(dir)
            .filter(|s| s.pid != 0 && s.state == supervise_proto::RunState::Run)
            .map(|s| s.pid)
    })
}

/// Waits until the service is down with no process.
pub fn wait_down(dir: &Path) {
    wait_status(dir, "service down", |s| {
        s.pid == 0 && s.state == supervise_proto::RunState::Down
    });
}

/// Tells runsv to exit (`x`) and waits for it; kills it after the deadline.
pub fn stop_runsv(sb: &mut Sandbox, pid: u32, dir: &Path) -> Option<std::process::ExitStatus> {
    let _ = supervise_proto::svdir::send_control(dir, &[supervise_proto::Control::Exit.byte()]);
    let start = Instant::now();
    while start.elapsed() < WAIT {
        if let Some(st) = sb.try_wait(pid) {
            return Some(st);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// A status record with the parts that differ between runs (time, pid
/// value) masked: `P` for a pid, `0` for none.
pub fn masked_status(dir: &Path) -> String {
    match supervise_proto::svdir::read_status_bytes(dir) {
        Ok(b) if b.len() == 20 => format!(
            "pid={} paused={} want={} term={} state={}",
            if b[12..16] == [0, 0, 0, 0] { "0" } else { "P" },
            b[16],
            b[17] as char,
            b[18],
            b[19]
        ),
        Ok(b) => format!("{} bytes", b.len()),
        Err(e) => format!("{e:?}"),
    }
}

// The daemontools-style tools (svok, svstat, svc, tai64n): running a tool
// and comparing what it did, and service directories that look supervised
// without a supervisor (FIFOs held open by the test).

/// One run's observable result.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// The [`Outcome`] of a finished run.
pub fn outcome(o: std::process::Output) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    Outcome {
        code: o.status.code(),
        signal: o.status.signal(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Runs `prog args` in `cwd` with stdin from `input`.
pub fn run_tool_with(
    sb: &Sandbox,
    prog: &Path,
    args: &[&OsStr],
    cwd: &Path,
    input: &[u8],
) -> Outcome {
    let mut c = sb.command(prog);
    c.args(args).current_dir(cwd);
    outcome(feed(c, input))
}

/// Runs `c` with `input` on its stdin (written by a thread, so a program
/// that writes before it reads cannot deadlock) and collects its output.
pub fn feed(mut c: Command, input: &[u8]) -> std::process::Output {
    use std::io::Write;
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().unwrap();
    out
}

/// Runs `prog args` in `cwd` with empty stdin.
pub fn run_tool(sb: &Sandbox, prog: &Path, args: &[&str], cwd: &Path) -> Outcome {
    let a: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    run_tool_with(sb, prog, &a, cwd, b"")
}

/// As [`run_tool`], for input that once made a tool hang: a run that
/// outlasts `limit` fails the test (the sandbox kills it).
pub fn run_tool_within(
    sb: &Sandbox,
    prog: &Path,
    args: &[&str],
    cwd: &Path,
    limit: Duration,
) -> Outcome {
    let mut c = sb.command(prog);
    c.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let what = format!("{} {args:?} to finish (a hang)", prog.display());
    wait_for(&what, limit, || child.try_wait().expect("try_wait"));
    outcome(child.wait_with_output().expect("wait"))
}

/// `NN seconds` -> `N seconds`: two runs a moment apart may see different
/// ages.
pub fn norm_seconds(s: &str) -> String {
    let mut out = String::new();
    for line in s.split_inclusive('\n') {
        let mut words: Vec<String> = line.split(' ').map(str::to_string).collect();
        for i in 1..words.len() {
            if words[i].starts_with("seconds") && words[i - 1].bytes().all(|b| b.is_ascii_digit()) {
                words[i - 1] = "N".into();
            }
        }
        out.push_str(&words.join(" "));
    }
    out
}

/// Our tool and daemontools' of the same name.
pub fn daemontools_pair(name: &str) -> Option<(PathBuf, PathBuf)> {
    let r = reference()?;
    Some((bin(name), r.daemontools(name)))
}

/// Makes a FIFO (mode 0600).
pub fn mkfifo(p: &Path) {
    rustix::fs::mkfifoat(rustix::fs::CWD, p, Mode::from_raw_mode(0o600)).unwrap();
}

/// Opens a FIFO for reading without blocking: while the fd is held, the
/// FIFO has a reader, as if a supervisor ran.
pub fn hold_fifo(p: &Path) -> OwnedFd {
    rustix::fs::open(
        p,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .unwrap()
}

/// Everything queued in a held FIFO.
pub fn drain(fd: &OwnedFd) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 256];
    while let Ok(n) = rustix::io::read(fd, &mut buf) {
        if n == 0 {
            break;
        }
        all.extend_from_slice(&buf[..n]);
    }
    all
}

/// The current second as a TAI64 label.
pub fn now_tai() -> u64 {
    let s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    supervise_proto::tai64::TAI64_UNIX_OFFSET + s
}

/// A status record: stamp `age` seconds ago (negative: in the future),
/// little-endian pid, paused, want, and runit's two extra bytes if given.
pub fn status_record(age: i64, pid: u32, paused: u8, want: u8, runit: Option<(u8, u8)>) -> Vec<u8> {
    let secs = (now_tai() as i64 - age) as u64;
    let mut b = secs.to_be_bytes().to_vec();
    b.extend_from_slice(&123_456_500u32.to_be_bytes());
    b.extend_from_slice(&pid.to_le_bytes());
    b.push(paused);
    b.push(want);
    if let Some((term, state)) = runit {
        b.push(term);
        b.push(state);
    }
    b
}

/// A service directory that looks supervised: `supervise/ok` (held open
/// unless `running` is false), `supervise/control`, and a status file.
pub fn fake_service(dir: &Path, status: Option<&[u8]>, running: bool, held: &mut Vec<OwnedFd>) {
    std::fs::create_dir_all(dir.join("supervise")).unwrap();
    mkfifo(&dir.join("supervise/ok"));
    mkfifo(&dir.join("supervise/control"));
    if running {
        held.push(hold_fifo(&dir.join("supervise/ok")));
    }
    if let Some(s) = status {
        std::fs::write(dir.join("supervise/status"), s).unwrap();
    }
}
