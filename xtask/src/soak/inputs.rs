//! Hostile inputs to the small tools: corrupt supervise/status under sv,
//! svstat and svok; random envdir trees under chpst -e and envdir; random
//! svlogd config files. Each input goes to ours and to the reference; no
//! crash (death by signal), no hang (a deadline), and the same exit code
//! and output as the reference.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rustix::fs::{Mode, OFlags};

use super::supervise::Rng;
use super::Soak;
use crate::bench::common::Scratch;

/// How one run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Outcome {
    /// Exit code, or None when killed by a signal or hung.
    code: Option<i32>,
    signal: Option<i32>,
    hung: bool,
    out: Vec<u8>,
    err: Vec<u8>,
}

/// Runs `cmd` with `stdin` as input, output to files in `tmp`, killed
/// (by PID) after `limit`.
fn run_capped(mut cmd: Command, stdin: &[u8], tmp: &Path, limit: Duration) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    let (i, o, e) = (tmp.join(".in"), tmp.join(".out"), tmp.join(".err"));
    std::fs::write(&i, stdin).unwrap();
    cmd.stdin(File::open(&i).unwrap())
        .stdout(File::create(&o).unwrap())
        .stderr(File::create(&e).unwrap());
    let mut out = Outcome {
        code: None,
        signal: None,
        hung: false,
        out: Vec::new(),
        err: Vec::new(),
    };
    let Ok(mut child) = cmd.spawn() else {
        out.code = Some(-1);
        return out;
    };
    let t = Instant::now();
    let st = loop {
        if let Ok(Some(st)) = child.try_wait() {
            break Some(st);
        }
        if t.elapsed() > limit {
            break None;
        }
        std::thread::sleep(Duration::from_micros(300));
    };
    match st {
        Some(st) => {
            out.code = st.code();
            out.signal = st.signal();
        }
        None => {
            out.hung = true;
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    out.out = std::fs::read(&o).unwrap_or_default();
    out.err = std::fs::read(&e).unwrap_or_default();
    out
}

fn bad(o: &Outcome) -> bool {
    o.hung || o.signal.is_some()
}

/// Tallies over many inputs: ours crashed / hung, and mismatches.
#[derive(Default)]
struct Tally {
    runs: u64,
    ours_bad: u64,
    theirs_bad: u64,
    differ: u64,
    /// Differences documented as deliberate.
    known: u64,
    first: Option<String>,
}

impl Tally {
    fn add(&mut self, what: &str, ours: &Outcome, theirs: &Outcome, same: bool) {
        self.runs += 1;
        self.ours_bad += u64::from(bad(ours));
        self.theirs_bad += u64::from(bad(theirs));
        if !same {
            self.differ += 1;
            if self.first.is_none() || std::env::var_os("SOAK_ALL").is_some() {
                if let Some(f) = &self.first {
                    if std::env::var_os("SOAK_ALL").is_some() {
                        eprintln!("soak: difference: {f}");
                    }
                }
                self.first = Some(format!(
                    "{what}: ours {:?} {:?}{:?} vs {:?} {:?}{:?}",
                    ours.code,
                    String::from_utf8_lossy(&ours.out),
                    String::from_utf8_lossy(&ours.err),
                    theirs.code,
                    String::from_utf8_lossy(&theirs.out),
                    String::from_utf8_lossy(&theirs.err),
                ));
            }
        }
    }
    fn cells(&self) -> (String, String) {
        (
            format!("{} runs, {} crashed/hung", self.runs, self.theirs_bad),
            format!(
                "{} crashed/hung, {} differ from runit{}",
                self.ours_bad,
                self.differ,
                if self.known > 0 {
                    format!(" (+{} by design: dangling symlink unsets)", self.known)
                } else {
                    String::new()
                }
            ),
        )
    }
    fn report(&self, s: &mut Soak, case: &str) {
        if let Some(f) = &self.first {
            eprintln!("soak {case}: first (or last with SOAK_ALL) difference: {f}");
        }
        let (t, o) = self.cells();
        s.check(
            case,
            t,
            o,
            self.ours_bad == 0 && self.differ == 0,
            "a crash, a hang or output unlike runit's (first one on stderr)",
        );
    }
}

/// Status files for case 4: the odd sizes, then random 20-byte ones
/// (half wholly random, half with plausible flags and a small pid so the
/// "run"/"down"/"paused"/"want" branches are all reached).
fn status_inputs(n: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(4);
    let mut v: Vec<Vec<u8>> = [0usize, 5, 19, 21]
        .iter()
        .map(|&k| (0..k).map(|_| rng.byte()).collect())
        .collect();
    for i in 0..n {
        let mut b: Vec<u8> = (0..20).map(|_| rng.byte()).collect();
        if i % 2 == 1 {
            // A time near now (seconds since 1970 + 2^62, big-endian).
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let tai = (1u64 << 62) + now - rng.below(100_000);
            b[..8].copy_from_slice(&tai.to_be_bytes());
            let pid = if rng.below(3) == 0 {
                0
            } else {
                rng.below(70_000) as u32
            };
            b[12..16].copy_from_slice(&pid.to_le_bytes());
            b[16] = *rng.pick(&[0, 1, 2]);
            b[17] = *rng.pick(&[b'u', b'd', b'x', 0]);
            b[18] = *rng.pick(&[0, 1, 2]);
            b[19] = *rng.pick(&[0, 1, 2, 3]);
        }
        v.push(b);
    }
    v
}

/// Case 4: Corrupt supervise/status read by `sv status`, `svstat`, `svok`.
/// A reader holds supervise/ok open so the tools believe a supervisor
/// runs and go on to read the file.
pub fn corrupt_status(s: &mut Soak) {
    let scratch = Scratch::new("soak-status");
    let svc = scratch.0.join("svc");
    let sup = svc.join("supervise");
    std::fs::create_dir_all(&sup).unwrap();
    rustix::fs::mkfifoat(rustix::fs::CWD, sup.join("ok"), Mode::from_raw_mode(0o600)).unwrap();
    let _reader = rustix::fs::open(
        sup.join("ok"),
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .unwrap();
    let dt = s.ctx.reference.join("daemontools");
    let tools: Vec<(&str, PathBuf, PathBuf, Vec<&str>)> = vec![
        (
            "sv status",
            s.ctx.ours("sv"),
            s.ctx.theirs("sv"),
            vec!["status"],
        ),
        ("svstat", s.ctx.ours("svstat"), dt.join("svstat"), vec![]),
        ("svok", s.ctx.ours("svok"), dt.join("svok"), vec![]),
    ];
    let inputs = status_inputs(s.count(1000, 60));
    let limit = Duration::from_secs(5);
    let mut tallies: Vec<Tally> = tools.iter().map(|_| Tally::default()).collect();
    for (k, b) in inputs.iter().enumerate() {
        std::fs::write(sup.join("status"), b).unwrap();
        for (t, (name, ours, theirs, args)) in tools.iter().enumerate() {
            if !theirs.exists() {
                continue;
            }
            let cmd = |bin: &Path| {
                let mut c = Command::new(bin);
                c.args(args).arg(&svc).env_clear();
                c
            };
            let mut th = run_capped(cmd(theirs), b"", &scratch.0, limit);
            let mut ou = run_capped(cmd(ours), b"", &scratch.0, limit);
            // The elapsed seconds may tick between the two runs: then a
            // second pair, ours first, must match (both runs of a pair
            // take milliseconds; re-running ours alone could land in the
            // same later second again).
            if ou != th {
                ou = run_capped(cmd(ours), b"", &scratch.0, limit);
                th = run_capped(cmd(theirs), b"", &scratch.0, limit);
            }
            let same = ou == th;
            tallies[t].add(&format!("{name} input {k} {b:02x?}"), &ou, &th, same);
        }
    }
    for ((name, _, theirs, _), t) in tools.iter().zip(&tallies) {
        if !theirs.exists() {
            s.info(
                &format!("corrupt status: {name}"),
                "no reference binary",
                "not compared",
            );
            continue;
        }
        // Every record, however odd (a state byte above 2, a pid with
        // the top bit set, a stamp in the future or before 1970), must
        // read as runit's sv and daemontools' svstat read it.
        t.report(s, &format!("corrupt status: {name}"));
    }
}

/// Builds a random envdir tree at `d`: files with random names and
/// contents (NULs, newlines, trailing blanks, empty), and sometimes a
/// FIFO, a subdirectory or a dangling symlink.
/// Returns the names of the dangling symlinks.
fn envdir_tree(rng: &mut Rng, d: &Path) -> Vec<String> {
    let mut dangling = Vec::new();
    let _ = std::fs::remove_dir_all(d);
    std::fs::create_dir_all(d).unwrap();
    // A few names the preset environment has too, so unsetting and
    // overriding are reached.
    let names = [
        "HOME", "A", "B_1", "x=y", ".hidden", "é", "PATHX", "a b", "-",
    ];
    for i in 0..rng.below(8) {
        let name = if rng.below(2) == 0 {
            rng.pick(&names).to_string()
        } else {
            (0..1 + rng.below(6))
                .map(|_| *rng.pick(b"Az_9=.-~") as char)
                .collect::<String>()
        };
        let p = d.join(&name);
        if p.exists() || p.symlink_metadata().is_ok() {
            continue;
        }
        match rng.below(12) {
            0 => {
                let _ = rustix::fs::mkfifoat(rustix::fs::CWD, &p, Mode::from_raw_mode(0o600));
            }
            1 => {
                let _ = std::fs::create_dir(&p);
            }
            2 => {
                if std::os::unix::fs::symlink(format!("nowhere{i}"), &p).is_ok() {
                    dangling.push(name);
                }
            }
            _ => {
                let len = *rng.pick(&[0u64, 1, 3, 10, 40, 300]);
                let v: Vec<u8> = (0..len)
                    .map(|_| *rng.pick(b"ab =\n\t \0\x01\xff9Z"))
                    .collect();
                let _ = std::fs::write(&p, v);
            }
        }
    }
    dangling
}

/// `o` without the variables named in `names`.
fn without(o: &Outcome, names: &[String]) -> Outcome {
    let mut o2 = o.clone();
    let keep: Vec<&[u8]> = o
        .out
        .split(|&c| c == 0)
        .filter(|e| {
            // A name with `=` unset reads back as the bare name.
            !names
                .iter()
                .any(|n| *e == n.as_bytes() || e.starts_with(format!("{n}=").as_bytes()))
        })
        .collect();
    o2.out = keep.join(&0u8);
    o2
}

/// The entries of `env -0` output, sorted (the order of environ is not
/// something callers see through `sh`, and implementations may differ).
fn env_set(o: &Outcome) -> Outcome {
    let mut v: Vec<&[u8]> = o.out.split(|&c| c == 0).collect();
    v.sort();
    let mut o2 = o.clone();
    o2.out = v.join(&0u8);
    o2
}

/// Case 5: Random envdir trees under `chpst -e DIR env -0` and `envdir DIR env -0`.
pub fn envdir_trees(s: &mut Soak) {
    let scratch = Scratch::new("soak-envdir");
    let ours_envdir = scratch.0.join("envdir");
    std::os::unix::fs::symlink(s.ctx.ours("chpst"), &ours_envdir).unwrap();
    let d = scratch.0.join("e");
    let mut rng = Rng::new(5);
    let mut tc = Tally::default();
    let mut te = Tally::default();
    let limit = Duration::from_secs(5);
    for k in 0..s.count(1000, 80) {
        let dangling = envdir_tree(&mut rng, &d);
        let cmd = |bin: &Path, pre: &[&str]| {
            let mut c = Command::new(bin);
            c.args(pre)
                .arg(&d)
                .args(["env", "-0"])
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .env("HOME", "/h")
                .env("A", "preset");
            c
        };
        for (tally, ours, theirs, pre) in [
            (
                &mut tc,
                s.ctx.ours("chpst"),
                s.ctx.theirs("chpst"),
                &["-e"][..],
            ),
            (
                &mut te,
                ours_envdir.clone(),
                s.ctx.theirs("envdir"),
                &[][..],
            ),
        ] {
            let th = env_set(&run_capped(cmd(&theirs, pre), b"", &scratch.0, limit));
            let ou = env_set(&run_capped(cmd(&ours, pre), b"", &scratch.0, limit));
            // Messages name the program as runit does; the path differs
            // only in our symlink's folder, which no message shows.
            let mut same = ou == th;
            // A dangling symlink: runit sets the variable to the previous
            // entry's bytes (a stale buffer); ours unsets it, on purpose
            // (docs/compat/chpst.md). Counted apart when that is the only
            // difference.
            if !same && without(&ou, &dangling) == without(&th, &dangling) {
                same = true;
                tally.known += 1;
            }
            tally.add(&format!("tree {k}"), &ou, &th, same);
        }
    }
    tc.report(s, "envdir tree: chpst -e");
    te.report(s, "envdir tree: envdir");
}

/// A random svlogd config: the lines svlogd knows, with random values,
/// and some junk. Processors (`!`) and UDP (`u`, `U`) are left out: they
/// run programs or send packets.
fn random_config(rng: &mut Rng) -> String {
    let mut c = String::new();
    let pats = [
        "*", "*1*", "*2", "line 00*", "line *5*", "*x", "", "line", "* 7 *", "*3*4*",
    ];
    for _ in 0..rng.below(7) {
        let line = match rng.below(9) {
            0 => format!("s{}", rng.pick(&[0u64, 1, 50, 200, 999, 4096, 99999999])),
            1 => format!("n{}", rng.pick(&[0u64, 1, 2, 5, 100])),
            2 => format!("N{}", rng.pick(&[0u64, 1, 3])),
            3 => format!("t{}", rng.pick(&[0u64, 1, 3600])),
            4 => format!("p{}", rng.pick(&["", ">> ", "pre:", "\t"])),
            5 => format!("{}{}", rng.pick(&["+", "-"]), rng.pick(&pats)),
            6 => format!("{}{}", rng.pick(&["e", "E"]), rng.pick(&pats)),
            7 => rng
                .pick(&["", "#comment", "zzz", "s", "nabc", "s-5", "t-1"])
                .to_string(),
            _ => format!("{}{}", rng.pick(&["+", "-"]), rng.pick(&pats)),
        };
        c.push_str(&line);
        c.push('\n');
    }
    c
}

/// Every line of every file in a log directory but config, lock, state,
/// newstate, sorted (rotated files' names hold times, so only their
/// contents are compared).
fn logged(dir: &Path) -> Vec<String> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let n = e.file_name().to_string_lossy().to_string();
        if ["config", "lock", "state", "newstate"].contains(&n.as_str()) {
            continue;
        }
        let b = std::fs::read(e.path()).unwrap_or_default();
        v.extend(String::from_utf8_lossy(&b).lines().map(str::to_string));
    }
    v.sort();
    v
}

/// Case 6: Random svlogd config files, a few numbered lines fed to each.
pub fn svlogd_config(s: &mut Soak) {
    let scratch = Scratch::new("soak-svlogd");
    let mut rng = Rng::new(6);
    let mut t = Tally::default();
    let (mut lines_in, mut kept_ours, mut kept_theirs) = (0u64, 0u64, 0u64);
    let limit = Duration::from_secs(10);
    for k in 0..s.count(400, 40) {
        let config = random_config(&mut rng);
        let n = 1 + rng.below(60);
        let input: String = (0..n)
            .map(|i| {
                format!(
                    "line {i:04} {} {}\n",
                    i % 7,
                    "x".repeat((i % 5) as usize * 9)
                )
            })
            .collect();
        lines_in += n;
        let mut res = Vec::new();
        for (tag, bin) in [
            ("ours", s.ctx.ours("svlogd")),
            ("theirs", s.ctx.theirs("svlogd")),
        ] {
            let d = scratch.0.join(tag);
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("config"), &config).unwrap();
            let mut c = Command::new(bin);
            c.arg(&d).env_clear();
            let mut o = run_capped(c, input.as_bytes(), &scratch.0, limit);
            // Messages name the log directory, which differs by tag.
            o.err = String::from_utf8_lossy(&o.err)
                .replace(&d.display().to_string(), "DIR")
                .into_bytes();
            o.out = logged(&d).join("\n").into_bytes();
            res.push(o);
        }
        let (ou, th) = (&res[0], &res[1]);
        kept_ours += ou
            .out
            .split(|&c| c == b'\n')
            .filter(|l| !l.is_empty())
            .count() as u64;
        kept_theirs += th
            .out
            .split(|&c| c == b'\n')
            .filter(|l| !l.is_empty())
            .count() as u64;
        t.add(&format!("config {k} {config:?}"), ou, th, ou == th);
    }
    let (tc, oc) = t.cells();
    if let Some(f) = &t.first {
        eprintln!("soak svlogd config: first difference: {f}");
    }
    s.check(
        "svlogd: random config",
        format!("{tc}; {kept_theirs} of {lines_in} lines kept"),
        format!("{oc}; {kept_ours} of {lines_in} lines kept"),
        t.ours_bad == 0 && t.differ == 0,
        "a crash, a hang, or lines kept unlike runit's (first one on stderr)",
    );
}
