//! Links the unwinder statically so that chpst does not load
//! libgcc_s.so at start-up (std references it even with panic=abort).
//! chpst runs in every service's start path, and one shared library
//! fewer is a measurable share of its latency. Only for glibc targets,
//! and only when the C compiler can find libgcc_eh.a; otherwise the
//! default (dynamic libgcc_s) stays.

use std::process::Command;

fn main() {
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
    // Not found: cc echoes the bare name back.
    let path = std::path::Path::new(&path);
    if !out.status.success() || !path.is_absolute() || !path.exists() {
        return;
    }
    if let Some(dir) = path.parent() {
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-lib=static=gcc_eh");
    }
}
