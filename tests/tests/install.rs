//! `make install` into a DESTDIR puts every program by runit's (and
//! daemontools') names, chpst's personality links and the manual pages in
//! place; `make uninstall` takes them away. Every manual page renders.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use runit_tests::*;

const BIN: &[&str] = &[
    "runsv",
    "sv",
    "chpst",
    "svok",
    "svstat",
    "svc",
    "tai64n",
    "tai64nlocal",
    "svlogd",
    "runsvdir",
];
const SBIN: &[&str] = &["runit", "runit-init", "utmpset", "runsvchdir"];
const LINKS: &[&str] = &[
    "envdir",
    "envuidgid",
    "pgrphack",
    "setlock",
    "setuidgid",
    "softlimit",
];

fn make(target: &str, destdir: &Path) -> std::process::Output {
    Command::new("make")
        .arg("-s")
        .arg(target)
        .arg(format!("DESTDIR={}", destdir.display()))
        .arg("PREFIX=/usr")
        .arg(format!("RELEASE={}", bin_dir().display()))
        .current_dir(workspace_root())
        .output()
        .expect("make")
}

#[test]
fn install_and_uninstall_into_destdir() {
    let sb = Sandbox::new();
    let dest = sb.join("pkg");
    let out = make("install-files", &dest);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for p in BIN {
        let f = dest.join("usr/bin").join(p);
        let m = std::fs::metadata(&f).unwrap_or_else(|_| panic!("{} missing", f.display()));
        assert_eq!(m.permissions().mode() & 0o777, 0o755, "{p}");
    }
    for p in SBIN {
        assert!(dest.join("usr/sbin").join(p).exists(), "{p}");
    }
    for l in LINKS {
        let t = std::fs::read_link(dest.join("usr/bin").join(l)).unwrap();
        assert_eq!(t, Path::new("chpst"), "{l}");
    }
    for p in BIN.iter().chain(SBIN).chain(LINKS) {
        let m = dest.join("usr/share/man/man8").join(format!("{p}.8"));
        assert!(m.exists(), "man page for {p}");
    }
    // An installed personality link works by its name.
    let o = Command::new(dest.join("usr/bin/envdir")).output().unwrap();
    assert_eq!(o.status.code(), Some(100), "envdir usage");
    let out = make("uninstall", &dest);
    assert!(out.status.success());
    let left: Vec<_> = walk(&dest);
    assert!(left.is_empty(), "left after uninstall: {left:?}");
}

fn walk(d: &Path) -> Vec<String> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                v.extend(walk(&p));
            } else {
                v.push(p.display().to_string());
            }
        }
    }
    v
}

#[test]
fn every_manual_page_renders() {
    let dir = workspace_root().join("docs/man");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "8") {
            continue;
        }
        n += 1;
        let out = Command::new("man")
            .arg("-l")
            .arg(&p)
            .env("MANWIDTH", "80")
            .env("MAN_KEEP_FORMATTING", "0")
            .output()
            .expect("man");
        // Drop overstrike (bold: "N\x08N") from the rendering.
        let mut plain = Vec::new();
        for &b in &out.stdout {
            if b == 8 {
                plain.pop();
            } else {
                plain.push(b);
            }
        }
        let text = String::from_utf8_lossy(&plain).to_lowercase();
        let name = p.file_stem().unwrap().to_string_lossy().to_lowercase();
        assert!(out.status.success(), "{}", p.display());
        assert!(text.contains("name"), "{}: {text}", p.display());
        assert!(text.contains(&name), "{}", p.display());
        let warn = String::from_utf8_lossy(&out.stderr);
        assert!(!warn.contains("warning"), "{}: {warn}", p.display());
    }
    assert!(n >= 20, "only {n} manual pages");
}
