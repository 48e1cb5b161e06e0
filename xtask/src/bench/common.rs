// A toolbox: not every benchmark uses every helper.
#![allow(dead_code)]
//! What every benchmark needs: where the two sets of binaries are, a
//! scratch directory, timing statistics and memory readings.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Where to find ours and theirs.
pub struct Ctx {
    /// target/release of this workspace.
    pub ours: PathBuf,
    /// The reference suite folder (runit/, daemontools/).
    pub reference: PathBuf,
}

impl Ctx {
    pub fn new() -> Result<Ctx, String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_path_buf();
        let out = Command::new(root.join("../shared/tools/reference-suite"))
            .output()
            .map_err(|e| format!("reference-suite: {e}"))?;
        if !out.status.success() {
            return Err("reference-suite failed".into());
        }
        let reference = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        Ok(Ctx {
            ours: root.join("target/release"),
            reference,
        })
    }

    /// Our binary by name.
    pub fn ours(&self, name: &str) -> PathBuf {
        self.ours.join(name)
    }

    /// The reference runit binary by name.
    pub fn theirs(&self, name: &str) -> PathBuf {
        self.reference.join("runit").join(name)
    }

    /// Prints machine and date, so figures can be quoted with them.
    pub fn header(&self) {
        println!("# runit-rs benchmarks");
        println!("{}", machine_and_date());
        println!(
            "reference: runit 2.1.2 / daemontools 0.76 from {}",
            self.reference.display()
        );
    }
}

/// "date: ..., machine: N cores, CPU", for headers of tables.
pub fn machine_and_date() -> String {
    let date = Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("date: {date}, machine: {cores} cores, {cpu}")
}

/// A scratch directory removed on drop (under /tmp, usually tmpfs-backed
/// or disk depending on the machine; benchmarks say which they need).
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// Under the temporary directory.
    pub fn new(name: &str) -> Scratch {
        Scratch::under(&std::env::temp_dir(), name)
    }

    /// On tmpfs (/dev/shm) where there is one, else under the temporary
    /// directory: for runs that measure supervision, not the disk.
    pub fn shm(name: &str) -> Scratch {
        let shm = Path::new("/dev/shm");
        if shm.is_dir() {
            Scratch::under(shm, name)
        } else {
            Scratch::new(name)
        }
    }

    /// Under `base` (a benchmark that picks its file system).
    pub fn under(base: &Path, name: &str) -> Scratch {
        let p = base.join(format!("runit-rs-bench.{name}.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Median of a set of durations.
pub fn median(mut v: Vec<Duration>) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    v[v.len() / 2]
}

/// Times `f` `n` times and returns the median.
pub fn median_of(n: usize, mut f: impl FnMut() -> Duration) -> Duration {
    median((0..n).map(|_| f()).collect())
}

/// Times one closure.
pub fn time(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

/// Proportional set size of a process in kB (from smaps_rollup).
pub fn pss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    field_kb(&s, "Pss:")
}

/// A "Name:   123 kB" field of a /proc file.
pub fn field_kb(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// User+system CPU time of a process in clock ticks-as-milliseconds.
pub fn cpu_ms(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = s.rsplit(')').next()?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields after the name: state is 0, utime is 11, stime is 12.
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    let hz = rustix_hz();
    Some(ticks * 1000 / hz)
}

fn rustix_hz() -> u64 {
    100
}

/// Prints one comparison row: metric, reference, ours, ratio
/// (reference / ours for "lower is better" metrics).
pub fn row(metric: &str, theirs: f64, ours: f64, unit: &str) {
    let ratio = if ours > 0.0 {
        theirs / ours
    } else {
        f64::INFINITY
    };
    println!(
        "{metric:<48} reference {theirs:>10.3} {unit:<6} ours {ours:>10.3} {unit:<6} ratio {ratio:>6.2}x"
    );
}

/// The decoded supervise/status of a service directory.
pub fn status(dir: &Path) -> Option<supervise_proto::Status> {
    let b = supervise_proto::svdir::read_status_bytes(dir).ok()?;
    supervise_proto::Status::decode(&b).ok()
}

/// Polls `f` until it holds; a minute is a broken benchmark.
pub fn wait(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        if t.elapsed() > Duration::from_secs(60) {
            panic!("bench: timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Starts `runsv DIR` with its standard descriptors on /dev/null (the
/// benches read state from supervise/, never from its output).
pub fn spawn_runsv(runsv: &Path, dir: &Path) -> std::process::Child {
    std::process::Command::new(runsv)
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn runsv")
}
