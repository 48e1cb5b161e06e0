//! svok, svstat, svc (start-up latency: they are short-lived, so latency
//! is their cost) and tai64n, tai64nlocal (throughput), ours against
//! daemontools 0.76's in the same run.
//!
//! The service directories are made up: a `supervise/ok` and
//! `supervise/control` FIFO held open by this process stand in for a
//! supervisor, so no supervisor's own work is measured.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::common::{median_of, row, time, Ctx, Scratch};

/// O_NONBLOCK on Linux: open a FIFO for reading without waiting.
const O_NONBLOCK: i32 = 0o4000;

fn daemontools(ctx: &Ctx, name: &str) -> PathBuf {
    ctx.reference.join("daemontools").join(name)
}

fn mkfifo(p: &Path) {
    let ok = Command::new("mkfifo").arg(p).status().map(|s| s.success());
    assert!(matches!(ok, Ok(true)), "mkfifo {}", p.display());
}

fn hold(p: &Path) -> File {
    OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(p)
        .expect("open fifo")
}

/// A made-up supervised directory with a runit status record; returns the
/// held FIFOs.
fn fake_service(dir: &Path) -> Vec<File> {
    std::fs::create_dir_all(dir.join("supervise")).unwrap();
    mkfifo(&dir.join("supervise/ok"));
    mkfifo(&dir.join("supervise/control"));
    let mut rec = 0x4000_0000_6b01_41ceu64.to_be_bytes().to_vec();
    rec.extend_from_slice(&[0x07, 0x92, 0x1e, 0x34, 0xb4, 0x07, 0, 0, 0, b'u', 0, 1]);
    std::fs::write(dir.join("supervise/status"), rec).unwrap();
    vec![
        hold(&dir.join("supervise/ok")),
        hold(&dir.join("supervise/control")),
    ]
}

fn run_once(prog: &Path, args: &[&Path], stdin: Option<&Path>) -> Duration {
    let mut c = Command::new(prog);
    c.args(args).stdout(Stdio::null()).stderr(Stdio::null());
    match stdin {
        Some(p) => c.stdin(File::open(p).unwrap()),
        None => c.stdin(Stdio::null()),
    };
    time(|| {
        c.status().expect("run");
    })
}

fn latency(label: &str, theirs: &Path, ours: &Path, args: &[&Path]) {
    let n = 200;
    // Warm the page cache for both first.
    run_once(theirs, args, None);
    run_once(ours, args, None);
    let t = median_of(n, || run_once(theirs, args, None));
    let o = median_of(n, || run_once(ours, args, None));
    row(label, t.as_secs_f64() * 1e6, o.as_secs_f64() * 1e6, "us");
}

fn throughput(label: &str, theirs: &Path, ours: &Path, input: &Path, mb: f64, env_tz: bool) {
    let go = |prog: &Path| {
        let mut c = Command::new(prog);
        c.stdin(File::open(input).unwrap()).stdout(Stdio::null());
        if env_tz {
            c.env("TZ", "UTC");
        }
        time(|| {
            c.status().expect("run");
        })
    };
    go(theirs);
    go(ours);
    let t = median_of(5, || go(theirs));
    let o = median_of(5, || go(ours));
    row(label, mb / t.as_secs_f64(), mb / o.as_secs_f64(), "MB/s");
}

pub fn run(ctx: &Ctx) {
    let scratch = Scratch::new("svtools");
    let dirs: Vec<PathBuf> = (0..10).map(|i| scratch.0.join(format!("s{i}"))).collect();
    let _held: Vec<File> = dirs.iter().flat_map(|d| fake_service(d)).collect();
    let one = [dirs[0].as_path()];
    let all: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    println!("(latency: median of 200 runs, lower is better; ratio reference/ours)");
    latency(
        "svok, supervised dir",
        &daemontools(ctx, "svok"),
        &ctx.ours("svok"),
        &one,
    );
    latency(
        "svstat, 10 dirs",
        &daemontools(ctx, "svstat"),
        &ctx.ours("svstat"),
        &all,
    );
    let hup = Path::new("-h");
    let args = [hup, dirs[0].as_path()];
    latency(
        "svc -h, 1 dir",
        &daemontools(ctx, "svc"),
        &ctx.ours("svc"),
        &args,
    );

    // 400,000 lines of 40 bytes: 16 MB.
    let plain = scratch.0.join("plain");
    let line = "0123456789 the quick brown fox jumps ov\n";
    std::fs::write(&plain, line.repeat(400_000)).unwrap();
    let mb = (line.len() * 400_000) as f64 / 1e6;
    println!(
        "(throughput: median of 5, higher is better; ratio reference/ours, below 1 = ours faster)"
    );
    throughput(
        "tai64n, 16 MB of 40-byte lines",
        &daemontools(ctx, "tai64n"),
        &ctx.ours("tai64n"),
        &plain,
        mb,
        false,
    );
    let stamped = scratch.0.join("stamped");
    let out = File::create(&stamped).unwrap();
    Command::new(ctx.ours("tai64n"))
        .stdin(File::open(&plain).unwrap())
        .stdout(out)
        .status()
        .expect("tai64n");
    let smb = std::fs::metadata(&stamped).unwrap().len() as f64 / 1e6;
    throughput(
        "tai64nlocal, 26 MB of stamped lines (TZ=UTC)",
        &daemontools(ctx, "tai64nlocal"),
        &ctx.ours("tai64nlocal"),
        &stamped,
        smb,
        true,
    );
}
