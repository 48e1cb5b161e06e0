//! svlogd throughput, system calls, latency and memory, reference vs ours.
//!
//! Scenario (issue 4): 200 MB of 100-byte lines through `svlogd -tt DIR`
//! with `s1000000` and `n10` (rotation at 1 MB keeping 10 files). Figures:
//! MB/s and CPU seconds for the whole run, system calls per 1,000 lines
//! (`strace -c -f` on a smaller run), median latency from writing one line
//! to seeing it in `current`, and peak RSS (VmHWM).
//!
//! The log directory lives on a tmpfs mounted for the run (we are root),
//! so the figures measure the loggers and not the disk: both fsync every
//! rotated file, which on a disk is bound by the device. Settings:
//!   SVLOGD_BENCH_MB=N     input size in MB (default 200)
//!   SVLOGD_BENCH_DISK=1   use the scratch directory on disk instead
//!
//! Ours is `$CARGO_TARGET_DIR/release/svlogd` when that variable is set
//! (an engineer's own target directory), else target/release/svlogd. The
//! bench says whether that binary is statically linked: `make all`
//! installs a static svlogd, and linking changes its memory figures.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::common::{field_kb, median, Ctx, Scratch};

const LINE: usize = 100;

/// `count` lines of exactly 100 bytes, numbered.
fn input(count: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(count * LINE);
    for i in 0..count {
        let head = format!("{i:010} svlogd benchmark line ");
        v.extend_from_slice(head.as_bytes());
        v.extend(std::iter::repeat_n(
            b'a' + (i % 26) as u8,
            LINE - 1 - head.len(),
        ));
        v.push(b'\n');
    }
    v
}

/// Whether an ELF executable has no program interpreter (static or
/// static-pie); None when it cannot be read as 64-bit ELF.
fn is_static(bin: &Path) -> Option<bool> {
    let b = std::fs::read(bin).ok()?;
    if b.get(..5)? != b"\x7fELF\x02" {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?));
    let phoff = u64::from_le_bytes(b.get(0x20..0x28)?.try_into().ok()?) as usize;
    let (phentsize, phnum) = (u16_at(0x36)? as usize, u16_at(0x38)? as usize);
    for i in 0..phnum {
        let o = phoff + i * phentsize;
        // PT_INTERP (3) names the dynamic loader.
        if u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?) == 3 {
            return Some(false);
        }
    }
    Some(true)
}

fn fresh_dir(base: &Path, name: &str) -> PathBuf {
    let d = base.join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("config"), "s1000000\nn10\n").unwrap();
    d
}

/// Feeds `data` to the child's stdin from a thread, then closes it.
fn feed(child: &mut Child, data: &'static [u8]) -> std::thread::JoinHandle<()> {
    let mut stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || {
        let _ = stdin.write_all(data);
    })
}

struct RunStats {
    wall: Duration,
    cpu_s: f64,
    hwm_kb: u64,
}

/// /proc/PID/stat: (state, utime+stime in seconds).
fn proc_stat(pid: u32) -> Option<(char, f64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = s.rsplit(')').next()?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some((f.first()?.chars().next()?, ticks as f64 / 100.0))
}

/// Runs one logger over all the data; samples VmHWM while it runs and
/// reads its CPU time from the zombie before reaping it.
fn throughput(bin: &Path, dir: &Path, data: &'static [u8]) -> RunStats {
    let start = Instant::now();
    let mut child = Command::new(bin)
        .arg("-tt")
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn svlogd");
    let pid = child.id();
    let writer = feed(&mut child, data);
    let mut hwm = 0;
    let mut cpu = 0.0;
    let mut wall = Duration::ZERO;
    loop {
        match proc_stat(pid) {
            Some(('Z', c)) | Some(('X', c)) => {
                wall = start.elapsed();
                cpu = c;
                break;
            }
            Some(_) => {
                if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                    hwm = hwm.max(field_kb(&s, "VmHWM:").unwrap_or(0));
                }
            }
            None => break,
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let st = child.wait().unwrap();
    if wall == Duration::ZERO {
        wall = start.elapsed();
    }
    writer.join().unwrap();
    assert!(st.success(), "{} failed: {st}", bin.display());
    RunStats {
        wall,
        cpu_s: cpu,
        hwm_kb: hwm,
    }
}

/// The kept files (old ones in order, then current), stamps removed,
/// must be exactly the end of the input: nothing lost or damaged.
fn check_tail(dir: &Path, data: &[u8]) -> Result<usize, String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('@'))
        .collect();
    names.sort();
    names.push("current".into());
    let mut got = Vec::new();
    for n in &names {
        let text = std::fs::read(dir.join(n)).unwrap();
        for line in text.split_inclusive(|&b| b == b'\n') {
            if line.len() < 26 {
                return Err(format!("short line in {n}"));
            }
            got.extend_from_slice(&line[26..]);
        }
    }
    if got.is_empty() || !data.ends_with(&got) {
        return Err("kept files are not the end of the input".into());
    }
    Ok(got.len() / LINE)
}

/// System calls per 1,000 lines, from `strace -c -f`.
fn syscalls_per_1000(bin: &Path, dir: &Path, data: &'static [u8], out: &Path) -> Option<f64> {
    let mut child = Command::new("strace")
        .args(["-f", "-c", "-o"])
        .arg(out)
        .arg(bin)
        .arg("-tt")
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let w = feed(&mut child, data);
    let ok = child.wait().ok()?.success();
    w.join().unwrap();
    if !ok {
        return None;
    }
    let text = std::fs::read_to_string(out).ok()?;
    let total = text.lines().find(|l| l.trim_end().ends_with("total"))?;
    // "100.00    0.012345     12     3456    78 total": calls is the 4th field.
    let calls: f64 = total.split_whitespace().nth(3)?.parse().ok()?;
    Some(calls * 1000.0 / (data.len() / LINE) as f64)
}

/// Median time from writing one line to its being in `current`.
fn latency(bin: &Path, dir: &Path, samples: usize) -> Duration {
    let mut child = Command::new(bin)
        .arg("-tt")
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn svlogd");
    let mut stdin = child.stdin.take().unwrap();
    let cur = dir.join("current");
    // Wait until current exists (the logger is up).
    let t = Instant::now();
    while !cur.exists() && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut v = Vec::with_capacity(samples);
    let mut line = input(1);
    for _ in 0..samples {
        let before = std::fs::metadata(&cur).map(|m| m.len()).unwrap_or(0);
        let t0 = Instant::now();
        stdin.write_all(&line).unwrap();
        loop {
            if std::fs::metadata(&cur).map(|m| m.len()).unwrap_or(0) > before {
                break;
            }
            if t0.elapsed() > Duration::from_secs(5) {
                break;
            }
            std::hint::spin_loop();
        }
        v.push(t0.elapsed());
        line[0] = line[0].wrapping_add(1);
        std::thread::sleep(Duration::from_millis(2));
    }
    drop(stdin);
    let _ = child.wait();
    median(v)
}

/// `cat > file` on the same input: the ceiling for a logger.
fn cat_baseline(dir: &Path, data: &'static [u8]) -> Duration {
    let f = dir.join("cat.out");
    let start = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("cat > \"$0\"")
        .arg(&f)
        .stdin(Stdio::piped())
        .spawn()
        .expect("sh");
    let w = feed(&mut child, data);
    child.wait().unwrap();
    w.join().unwrap();
    let d = start.elapsed();
    let _ = std::fs::remove_file(&f);
    d
}

struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn higher(metric: &str, theirs: f64, ours: f64, unit: &str) {
    let ratio = if theirs > 0.0 {
        ours / theirs
    } else {
        f64::INFINITY
    };
    println!(
        "{metric:<48} reference {theirs:>10.3} {unit:<6} ours {ours:>10.3} {unit:<6} ratio {ratio:>6.2}x (ours/reference, higher is better)"
    );
}

fn lower(metric: &str, theirs: f64, ours: f64, unit: &str) {
    let ratio = if ours > 0.0 {
        theirs / ours
    } else {
        f64::INFINITY
    };
    println!(
        "{metric:<48} reference {theirs:>10.3} {unit:<6} ours {ours:>10.3} {unit:<6} ratio {ratio:>6.2}x (reference/ours, higher is better)"
    );
}

pub fn run(ctx: &Ctx) {
    let mb: usize = std::env::var("SVLOGD_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let on_disk = std::env::var_os("SVLOGD_BENCH_DISK").is_some_and(|v| v == "1");
    let scratch = Scratch::new("svlogd");
    let (base, _mount) = if on_disk {
        (scratch.0.clone(), None)
    } else {
        let m = scratch.0.join("tmpfs");
        std::fs::create_dir_all(&m).unwrap();
        // Room for the `cat > file` baseline's full copy of the input.
        let size = format!("size={}m", mb + mb / 4 + 64);
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &size, "tmpfs"])
            .arg(&m)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            (m.clone(), Some(Mount(m)))
        } else {
            println!("(cannot mount a tmpfs: measuring on the scratch directory's disk)");
            (scratch.0.clone(), None)
        }
    };
    println!(
        "scenario: {mb} MB of {LINE}-byte lines, svlogd -tt, config s1000000 n10; log dir on {}",
        if _mount.is_some() {
            "tmpfs"
        } else {
            "disk (scratch dir)"
        }
    );
    let lines = mb * 1_000_000 / LINE;
    let data: &'static [u8] = Box::leak(input(lines).into_boxed_slice());
    let ours = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| PathBuf::from(d).join("release/svlogd"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| ctx.ours("svlogd"));
    match is_static(&ours) {
        Some(true) => println!(
            "ours: {} (statically linked, as `make all` builds it)",
            ours.display()
        ),
        Some(false) => println!(
            "ours: {} (DYNAMICALLY linked: `make all` links svlogd statically; \
             its memory figures differ)",
            ours.display()
        ),
        None => println!("ours: {}", ours.display()),
    }
    let bins = [("reference", ctx.theirs("svlogd")), ("ours", ours)];

    let mut stats = Vec::new();
    for (name, bin) in &bins {
        let dir = fresh_dir(&base, name);
        let s = throughput(bin, &dir, data);
        match check_tail(&dir, data) {
            Ok(n) => println!("{name}: kept files hold the last {n} lines intact"),
            Err(e) => println!("{name}: LINES LOST OR DAMAGED: {e}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
        stats.push(s);
    }
    let mbps = |s: &RunStats| mb as f64 / s.wall.as_secs_f64();
    higher("throughput", mbps(&stats[0]), mbps(&stats[1]), "MB/s");
    lower(
        "CPU time (user+system)",
        stats[0].cpu_s,
        stats[1].cpu_s,
        "s",
    );
    lower(
        "peak RSS (VmHWM)",
        stats[0].hwm_kb as f64,
        stats[1].hwm_kb as f64,
        "kB",
    );

    let cat = cat_baseline(&base, data);
    println!(
        "{:<48} {:>10.1} MB/s (ours reaches {:.0}% of it)",
        "cat > file (ceiling)",
        mb as f64 / cat.as_secs_f64(),
        100.0 * mbps(&stats[1]) * cat.as_secs_f64() / mb as f64
    );

    // A smaller run under strace (it slows the traced program a lot).
    let small_lines = (lines / 10).clamp(10_000, 200_000);
    let small: &'static [u8] = &data[..small_lines * LINE];
    let mut sys = Vec::new();
    for (name, bin) in &bins {
        let dir = fresh_dir(&base, name);
        let out = scratch.0.join(format!("strace.{name}"));
        sys.push(syscalls_per_1000(bin, &dir, small, &out));
        let _ = std::fs::remove_dir_all(&dir);
    }
    match (sys[0], sys[1]) {
        (Some(t), Some(o)) => lower(
            &format!(
                "syscalls per 1000 lines ({} lines, strace -c -f)",
                small_lines
            ),
            t,
            o,
            "calls",
        ),
        _ => println!("syscalls per 1000 lines: strace not available"),
    }

    let mut lat = Vec::new();
    for (name, bin) in &bins {
        let dir = fresh_dir(&base, name);
        lat.push(latency(bin, &dir, 200));
        let _ = std::fs::remove_dir_all(&dir);
    }
    lower(
        "latency line -> current (median of 200)",
        lat[0].as_secs_f64() * 1e3,
        lat[1].as_secs_f64() * 1e3,
        "ms",
    );
}
