//! chpst: envdir files, account specifications, limit values and the
//! command line.

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use chpst::env::{lookup, Changes};
use chpst::envdir::{read_into, value_of};
use chpst::ids::{self, UserDb, MAX_GROUPS};
use chpst::{limits, resolve_or_die, Spec};

use crate::{words, Input};

/// An envdir file's contents: empty unsets; otherwise the first line,
/// without trailing blanks, NULs as newlines, never longer.
pub fn envdir_value(data: &[u8]) {
    let Some(v) = value_of(data) else {
        assert!(data.is_empty());
        return;
    };
    let line = data.split(|&b| b == b'\n').next().unwrap();
    assert!(v.len() <= line.len());
    assert!(!v.ends_with(b" ") && !v.ends_with(b"\t"));
    let nuls = line[..v.len()].iter().filter(|&&b| b == 0).count();
    assert_eq!(v.iter().filter(|&&b| b == b'\n').count(), nuls);
}

/// A scratch directory for envdir trees, one per process.
fn scratch() -> PathBuf {
    let d = std::env::temp_dir().join(format!("runit-props-envdir.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// An envdir tree built from the input (names of any bytes but `/` and
/// NUL; regular files, directories and FIFOs): reading it never blocks and
/// never fails under chpst -e's rules, every visible regular file becomes
/// its variable, and the directory chpst started in is restored.
pub fn envdir_tree(data: &[u8]) {
    let dir = scratch();
    let mut inp = Input::new(data);
    let mut files = Vec::new();
    let mut read = Vec::new();
    for _ in 0..8 {
        let kind = inp.byte();
        let name: Vec<u8> = inp
            .piece(16)
            .iter()
            .map(|&b| if b == b'/' || b == 0 { b'_' } else { b })
            .collect();
        let contents = inp.piece(64);
        if name.is_empty() || name == b"." || name == b".." {
            continue;
        }
        let path = dir.join(std::ffi::OsStr::from_bytes(&name));
        if path.symlink_metadata().is_ok() {
            continue;
        }
        match kind % 8 {
            0 => std::fs::create_dir(&path).unwrap(),
            1 => {
                rustix::fs::mkfifoat(rustix::fs::CWD, &path, rustix::fs::Mode::RUSR).unwrap();
                read.push(name);
            }
            _ => {
                std::fs::write(&path, contents).unwrap();
                read.push(name.clone());
                files.push((name, contents));
            }
        }
    }
    let cwd = std::env::current_dir().unwrap();
    let mut changes = Changes::default();
    let r = read_into(dir.as_os_str().as_bytes(), true, false, &mut changes);
    assert!(r.is_ok(), "chpst -e failed on a readable tree");
    assert_eq!(std::env::current_dir().unwrap(), cwd);
    let env = changes.apply(Vec::new());
    for (name, contents) in files {
        // A name with `=` in it sets the variable named by what comes
        // before the `=`, as in runit: then the directory order decides.
        let shadowed = read
            .iter()
            .any(|n| n.len() > name.len() && n.starts_with(&name) && n[name.len()] == b'=');
        if name.starts_with(b".") || name.contains(&b'=') || shadowed {
            continue;
        }
        assert_eq!(lookup(&env, &name), value_of(contents).as_deref());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Users and groups whose names are made of lowercase letters; ids are
/// derived from the name.
struct Letters;

fn id_of(name: &[u8]) -> Option<u32> {
    (!name.is_empty() && name.iter().all(u8::is_ascii_lowercase)).then(|| {
        name.iter()
            .fold(7u32, |h, &b| h.wrapping_mul(31) ^ b as u32)
    })
}

impl UserDb for Letters {
    fn user(&self, name: &[u8]) -> Result<Option<(u32, u32)>, io::Error> {
        Ok(id_of(name).map(|u| (u, u ^ 1)))
    }
    fn group(&self, name: &[u8]) -> Result<Option<u32>, io::Error> {
        Ok(id_of(name))
    }
}

/// `user[:group...]` and `:uid:gid[:gid...]`: what resolves has one to 60
/// groups; the numeric form never consults the user database.
pub fn account(data: &[u8]) {
    if let Some(ids) = ids::parse_numeric(data) {
        assert!((1..=MAX_GROUPS).contains(&ids.gids.len()));
    }
    match ids::resolve_ext(data, &Letters) {
        Ok(ids) => assert!((1..=MAX_GROUPS).contains(&ids.gids.len())),
        Err(ids::IdError::Invalid) => assert!(data.starts_with(b":")),
        Err(_) => assert!(!data.starts_with(b":")),
    }
    let plain = ids::resolve_account(data, &Letters);
    assert_eq!(plain.is_ok(), id_of(data).is_some());
    // The message paths slice the specification: they must not panic.
    let _ = resolve_or_die(Spec::Ext(data), &Letters);
    let _ = resolve_or_die(Spec::Account(data), &Letters);
}

/// A limit value (`-m n` and the others): plain digits only, wrapping like
/// runit; the soft limit derived from it never exceeds the hard one.
pub fn limit(data: &[u8]) {
    let v = limits::parse(data);
    assert_eq!(v.is_some(), data.iter().all(u8::is_ascii_digit));
    let mut inp = Input::new(data);
    let hard = u64::from_le_bytes(inp.take(8).try_into().unwrap_or([255; 8]));
    if let Some(v) = v {
        assert!(limits::soft_for(v, hard) <= hard);
    }
    let mut l = limits::Limits::default();
    l.set_memory(v.unwrap_or(limits::UNSET));
}

/// chpst's whole command line: it parses or is refused, never panics.
pub fn command_line(data: &[u8]) {
    let args = words(data);
    if let Ok(plan) = chpst::chpst::parse(&args, b"chpst") {
        assert!(!plan.prog.is_empty());
    }
}
