//! The fault matrix: `xtask soak [--short] [--bins DIR] [--write FILE] [CASE...]`.
//!
//! Each case runs one scenario against this suite and against the
//! reference runit 2.1.2, and adds rows to one table: what runit did, what
//! we did, and a verdict on ours. A verdict is `ok`, `FAIL` (a crash, a
//! hang, a lost or doubled log line, a leaked descriptor, process or
//! memory) or `info` (a figure with nothing to assert, such as a time).
//! The exit code is 1 when any row failed.
//!
//! `--short` is the form `make check` runs: the same cases with smaller
//! counts (a few minutes in all); it asserts the zeros, never timings.
//! `--write FILE` puts the table, with machine and date, between the
//! `<!-- soak:begin -->` and `<!-- soak:end -->` lines of FILE.
//!
//! To add a case: write `soak/NAME.rs` with `pub fn run(s: &mut Soak)` and
//! add it to `CASES`. Cases own their temp dirs (`Scratch`) and kill, by
//! PID, every process they start, also when they fail (see `probe::Reaper`).

pub mod inputs;
pub mod kill;
pub mod limits;
pub mod pid1;
pub mod probe;
pub mod scale;
pub mod supervise;
pub mod svlogd;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::bench::Ctx;

type Case = (&'static str, fn(&mut Soak));

/// Every case, by name, in the order the table lists them.
const CASES: &[Case] = &[
    ("crash-loop", supervise::crash_loop),
    ("orphans", supervise::orphans),
    ("control-garbage", supervise::control_garbage),
    ("corrupt-status", inputs::corrupt_status),
    ("envdir-trees", inputs::envdir_trees),
    ("svlogd-config", inputs::svlogd_config),
    ("kill-runsv", kill::run_runsv),
    ("kill-runsvdir", kill::run_runsvdir),
    ("kill-svlogd", kill::run_svlogd),
    ("kill-runsv-log", kill::run_runsv_log),
    ("limits", limits::run),
    ("scale", scale::run),
    ("svlogd", svlogd::run),
    ("pid1", pid1::run),
];

/// A verdict on our figure in one row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Fail(String),
    Info,
}

/// One line of the table.
pub struct Row {
    pub case: String,
    pub runit: String,
    pub ours: String,
    pub verdict: Verdict,
}

/// What a case gets: the binaries, the mode, and the table it adds to.
pub struct Soak {
    pub ctx: Ctx,
    /// The short form of `make check`: smaller counts, same assertions.
    pub short: bool,
    rows: Vec<Row>,
}

impl Soak {
    /// `long` in `make soak`, `short` in `make check`.
    pub fn count(&self, long: u64, short: u64) -> u64 {
        if self.short {
            short
        } else {
            long
        }
    }

    /// Adds a row; the verdict is printed at once so a long run shows progress.
    pub fn row(
        &mut self,
        case: &str,
        runit: impl Into<String>,
        ours: impl Into<String>,
        verdict: Verdict,
    ) {
        let r = Row {
            case: case.to_string(),
            runit: runit.into(),
            ours: ours.into(),
            verdict,
        };
        println!("{}", line(&r));
        self.rows.push(r);
    }

    /// A row whose verdict is ok when `good` holds, else FAIL with `why`.
    pub fn check(
        &mut self,
        case: &str,
        runit: impl Into<String>,
        ours: impl Into<String>,
        good: bool,
        why: &str,
    ) {
        let v = if good {
            Verdict::Ok
        } else {
            Verdict::Fail(why.to_string())
        };
        self.row(case, runit, ours, v);
    }

    /// A figure only (times, sizes): no verdict.
    pub fn info(&mut self, case: &str, runit: impl Into<String>, ours: impl Into<String>) {
        self.row(case, runit, ours, Verdict::Info);
    }

    pub fn failures(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Fail(_)))
            .count()
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn line(r: &Row) -> String {
    let v = match &r.verdict {
        Verdict::Ok => "ok".to_string(),
        Verdict::Info => "info".to_string(),
        Verdict::Fail(why) => format!("**FAIL**: {}", cell(why)),
    };
    format!(
        "| {} | {} | {} | {} |",
        cell(&r.case),
        cell(&r.runit),
        cell(&r.ours),
        v
    )
}

fn table(s: &Soak, header: &str) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "{header}\n");
    let _ = writeln!(t, "| case | runit 2.1.2 | this suite | verdict |");
    let _ = writeln!(t, "|---|---|---|---|");
    for r in &s.rows {
        let _ = writeln!(t, "{}", line(r));
    }
    let _ = writeln!(t, "\n{} rows, {} failed.", s.rows.len(), s.failures());
    t
}

/// Replaces what lies between the markers in `file` with `text`.
fn write_between_markers(file: &Path, text: &str) -> Result<(), String> {
    const BEGIN: &str = "<!-- soak:begin -->";
    const END: &str = "<!-- soak:end -->";
    let doc = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
        return Err(format!("{}: no {BEGIN} / {END} markers", file.display()));
    };
    if e < b {
        return Err(format!("{}: markers out of order", file.display()));
    }
    let new = format!("{}{BEGIN}\n{text}{}", &doc[..b], &doc[e..]);
    let tmp = file.with_extension("md.tmp");
    std::fs::write(&tmp, new).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, file).map_err(|e| e.to_string())
}

/// Set in the environment of the run re-executed by [`private_mounts`].
const UNSHARED: &str = "RUNIT_RS_SOAK_UNSHARED";

/// The svlogd cases mount small tmpfs file systems. The run goes on in a
/// mount namespace of its own (`unshare -m --propagation private`, this
/// program executed again with the same arguments), so that those mounts
/// are nobody else's and go with the namespace when the run ends, also
/// when it is killed before it could unmount them. Where that namespace
/// cannot be had (no privilege, no unshare), the run stays where it is.
fn private_mounts(args: &[String]) {
    use std::os::unix::process::CommandExt;
    if std::env::var_os(UNSHARED).is_some() {
        return;
    }
    let works = std::process::Command::new("unshare")
        .args(["-m", "--propagation", "private", "true"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let Ok(me) = std::env::current_exe() else {
        return;
    };
    if !works {
        eprintln!("soak: no private mount namespace (unshare -m failed); tmpfs mounts are shared");
        return;
    }
    let e = std::process::Command::new("unshare")
        .args(["-m", "--propagation", "private", "--"])
        .arg(me)
        .arg("soak")
        .args(args)
        .env(UNSHARED, "1")
        .exec();
    eprintln!("soak: exec unshare: {e}");
}

pub fn names() -> Vec<&'static str> {
    CASES.iter().map(|(n, _)| *n).collect()
}

pub fn run(args: &[String]) -> i32 {
    let mut short = false;
    let mut bins: Option<PathBuf> = None;
    let mut write: Option<PathBuf> = None;
    let mut picked = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--short" => short = true,
            "--bins" => bins = it.next().map(PathBuf::from),
            "--write" => write = it.next().map(PathBuf::from),
            name if CASES.iter().any(|(n, _)| *n == name) => picked.push(name.to_string()),
            other => {
                eprintln!(
                    "soak: unknown case or option {other} (cases: {})",
                    names().join(" ")
                );
                return 100;
            }
        }
    }
    if picked.is_empty() || picked.iter().any(|p| p == "svlogd") {
        private_mounts(args);
    }
    let mut ctx = match Ctx::new() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("soak: {e}");
            return 111;
        }
    };
    if let Some(b) = bins {
        ctx.ours = std::fs::canonicalize(&b).unwrap_or(b);
    }
    println!("# runit-rs fault matrix");
    println!("{}", crate::bench::common::machine_and_date());
    println!("reference: {}", ctx.reference.display());
    println!(
        "mode: {}",
        if short {
            "short (make check)"
        } else {
            "full (make soak)"
        }
    );
    println!("ours: {}\n", ctx.ours.display());
    println!("| case | runit 2.1.2 | this suite | verdict |");
    println!("|---|---|---|---|");
    let mut s = Soak {
        ctx,
        short,
        rows: Vec::new(),
    };
    let started = std::time::Instant::now();
    for (name, f) in CASES {
        if picked.is_empty() || picked.iter().any(|p| p == name) {
            f(&mut s);
        }
    }
    let failed = s.failures();
    println!(
        "\n{} rows, {failed} failed, in {:.0} s.",
        s.rows.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(file) = write {
        let header = format!(
            "Run by {} on {}, in {:.0} s.",
            if short {
                "`xtask soak --short` (the short form `make check` runs)"
            } else {
                "`make soak` (the full form)"
            },
            crate::bench::common::machine_and_date(),
            started.elapsed().as_secs_f64()
        );
        if let Err(e) = write_between_markers(&file, &table(&s, &header)) {
            eprintln!("soak: {e}");
            return 111;
        }
        println!("table written to {}", file.display());
    }
    i32::from(failed > 0)
}
