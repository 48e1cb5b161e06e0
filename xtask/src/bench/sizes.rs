//! On-disk size of every program as `make static` ships it (linked
//! statically, stripped, in dist/) next to the reference binary of the
//! same name (Debian's runit 2.1.2 / daemontools 0.76, which are dynamically
//! linked against libc.so.6 and stripped).
//!
//! The bench builds dist/ itself by running `make static`, so the figures
//! always come from the Makefile's own recipe and never from a stale
//! dist/ (cargo makes the rebuild cheap when nothing changed). The list of
//! programs is read from the Makefile's BIN_PROGS and SBIN_PROGS, the same
//! list `make install` uses.
//!
//! A static binary carries its share of the C library, so it is compared
//! with a yardstick: an empty C program linked the same way (static-pie,
//! stripped), which is the floor any statically linked glibc program pays.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::common::{Ctx, Scratch};

pub fn run(ctx: &Ctx) {
    let root = ctx
        .ours
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_path_buf();
    if let Err(e) = build_dist(&root) {
        println!("sizes: skipped: {e}");
        return;
    }
    let progs = match makefile_programs(&root.join("Makefile")) {
        Some(p) => p,
        None => {
            println!("sizes: skipped: no BIN_PROGS/SBIN_PROGS in the Makefile");
            return;
        }
    };
    println!("ours: dist/ from `make static` (static, stripped; runsv and sv with musl when RUNIT_LIBC=musl); reference: Debian's binaries as shipped");
    println!(
        "{:<12} {:>14} {:<30} {:>12} {:>8}",
        "program", "reference", "(suite, linkage)", "ours", "ours/ref"
    );
    let (mut sum_ref, mut sum_ours) = (0u64, 0u64);
    for p in &progs {
        let ours = size(&root.join("dist").join(p));
        let theirs = reference_binary(ctx, p);
        let (ref_text, ref_kind, ratio) = match (&theirs, ours) {
            (Some((path, suite)), Some(o)) => {
                let s = size(path).unwrap_or(0);
                sum_ref += s;
                sum_ours += o;
                (
                    kb(s),
                    format!("{suite}, {}", linkage(path)),
                    format!("{:.0}x", o as f64 / s.max(1) as f64),
                )
            }
            _ => ("-".into(), "none".into(), "-".into()),
        };
        let ours_text = ours.map(kb).unwrap_or_else(|| "missing".into());
        println!("{p:<12} {ref_text:>14} {ref_kind:<30} {ours_text:>12} {ratio:>8}");
    }
    println!(
        "{:<12} {:>14} {:<30} {:>12} {:>8}",
        "total",
        kb(sum_ref),
        "(programs in both)",
        kb(sum_ours),
        format!("{:.0}x", sum_ours as f64 / sum_ref.max(1) as f64)
    );
    if let Some(floor) = static_c_floor() {
        println!(
            "yardstick: an empty C program linked static-pie and stripped: {}",
            kb(floor)
        );
    }
    let libc = Path::new("/lib/x86_64-linux-gnu/libc.so.6");
    if let Some(s) = size(libc) {
        println!(
            "the reference binaries share {} ({}) at run time",
            libc.display(),
            kb(s)
        );
    }
}

/// Runs `make static`. With CARGO_TARGET_DIR set, cargo builds there, so
/// the Makefile is told where to copy from.
fn build_dist(root: &Path) -> Result<(), String> {
    let mut make = Command::new("make");
    make.arg("-s").arg("static").current_dir(root);
    if std::env::var_os("CARGO_TARGET_DIR").is_some() {
        make.arg("STATIC=$(CARGO_TARGET_DIR)/$(TRIPLE)/release");
    }
    let out = make.output().map_err(|e| format!("make static: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "make static failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// The words of the Makefile's `BIN_PROGS =` and `SBIN_PROGS =` lines.
pub fn makefile_programs(makefile: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(makefile).ok()?;
    let mut progs = Vec::new();
    for var in ["BIN_PROGS", "SBIN_PROGS"] {
        let line = text.lines().find(|l| {
            l.strip_prefix(var)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })?;
        let value = line.split_once('=')?.1;
        progs.extend(value.split_whitespace().map(String::from));
    }
    Some(progs)
}

/// The reference binary by name and the suite it comes from. runit-init
/// lives outside the runit/ folder in Debian's package.
fn reference_binary(ctx: &Ctx, name: &str) -> Option<(PathBuf, &'static str)> {
    let candidates = [
        (ctx.reference.join("runit").join(name), "runit 2.1.2"),
        (
            ctx.reference.join("root/lib/runit").join(name),
            "runit 2.1.2",
        ),
        (
            ctx.reference.join("daemontools").join(name),
            "daemontools 0.76",
        ),
    ];
    candidates.into_iter().find(|(p, _)| p.is_file())
}

fn size(p: &Path) -> Option<u64> {
    std::fs::metadata(p).ok().map(|m| m.len())
}

fn kb(bytes: u64) -> String {
    format!("{:.1} kB", bytes as f64 / 1000.0)
}

/// "dynamic" when the ELF file asks for a program interpreter (PT_INTERP),
/// "static" otherwise; read from the program headers of a 64-bit
/// little-endian ELF file.
fn linkage(p: &Path) -> &'static str {
    let Ok(b) = std::fs::read(p) else {
        return "unreadable";
    };
    if b.len() < 64 || &b[..4] != b"\x7fELF" || b[4] != 2 || b[5] != 1 {
        return "not ELF64 LE";
    }
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(b[32..40].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(54), u16_at(56));
    const PT_INTERP: u32 = 3;
    let dynamic = (0..phnum).any(|i| {
        let o = phoff + i * phentsize;
        b.get(o..o + 4)
            .is_some_and(|t| u32::from_le_bytes(t.try_into().unwrap()) == PT_INTERP)
    });
    if dynamic {
        "dynamic"
    } else {
        "static"
    }
}

/// Size of an empty C program built static-pie and stripped, when a C
/// compiler and a static libc are at hand.
fn static_c_floor() -> Option<u64> {
    let s = Scratch::new("sizes");
    let src = s.0.join("empty.c");
    let bin = s.0.join("empty");
    std::fs::write(&src, "int main(void) { return 0; }\n").ok()?;
    let ok = Command::new("cc")
        .args(["-static-pie", "-O2", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
        .ok()?
        .success()
        && Command::new("strip").arg(&bin).status().ok()?.success();
    if ok {
        size(&bin)
    } else {
        None
    }
}
