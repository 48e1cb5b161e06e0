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
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use supervise_proto;

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

/// Path of one of our binaries; panics with a hint when it was not built.
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.exists(),
        "{} not built: run `cargo build --workspace` (make check does)",
        p.display()
    );
    p
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

/// The reference suite, if it can be had. When it cannot, says so loudly;
/// with `RUNIT_RS_REQUIRE_REFERENCE=1` (set by `make check`) that is a
/// failure instead.
pub fn reference() -> Option<&'static Reference> {
    static REF: OnceLock<Option<Reference>> = OnceLock::new();
    let r = REF
        .get_or_init(|| find_reference().map(|dir| Reference { dir }))
        .as_ref();
    if r.is_none() {
        let msg = "REFERENCE RUNIT NOT AVAILABLE: differential/interop test skipped \
                   (run ../shared/tools/reference-suite)";
        if std::env::var_os("RUNIT_RS_REQUIRE_REFERENCE").is_some_and(|v| v == "1") {
            panic!("{msg}");
        }
        eprintln!("\n*** {msg} ***\n");
    }
    r
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
    let _ = supervise_proto::svdir::send_control(dir, b"x");
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
