//! Helpers for the binaries' build scripts.

use std::path::Path;
use std::process::Command;

/// Links the unwinder statically, so the program does not load
/// libgcc_s.so at start-up (std references it even with panic=abort).
/// Every runit program is short-lived (sv, chpst) or runs once per service
/// (runsv): one shared library fewer saves start-up time and each
/// process's private relocation pages. Only for glibc on Linux, and only
/// when the C compiler can find libgcc_eh.a; otherwise nothing changes.
pub fn link_unwinder_statically() {
    println!("cargo:rerun-if-changed=build.rs");
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if env != "gnu" || os != "linux" {
        return;
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let Ok(out) = Command::new(cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
    else {
        return;
    };
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    // Not found: the compiler echoes the bare name back.
    let path = Path::new(&path);
    if !out.status.success() || !path.is_absolute() || !path.exists() {
        return;
    }
    if let Some(dir) = path.parent() {
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-lib=static=gcc_eh");
    }
}
