//! runsvchdir against runit 2.1.2's. The reference has
//! /etc/runit/runsvdir compiled in, so it runs in a private mount
//! namespace with a fresh tmpfs on /etc (nothing outside the namespace is
//! touched); ours runs the same scenario there too, and once more with
//! `$RUNSVDIR` pointing at a temporary directory. The transcripts
//! (messages, exit codes, the symlinks left behind) must be identical.

use std::path::Path;

use runit_tests::*;

/// The scenario, as a shell script: `script PROG RUNSVDIR_DIR SCRATCH`.
const SCENARIO: &str = r#"
P="$1"; D="$2"; T="$3"
t() {
  echo "== $*"
  "$P" "$@" >"$T/o" 2>"$T/e"; echo "rc=$?"
  echo "out: $(cat "$T/o")"
  echo "err: $(sed "s|$P|PROG|" "$T/e")"
  if cd "$D" 2>/dev/null; then
    for f in * .[!.]*; do
      if [ -L "$f" ]; then echo "  $f -> $(readlink "$f")"; elif [ -e "$f" ]; then echo "  $f"; fi
    done
    cd /
  fi
}
t
t .hidden
t single
mkdir -p "$D/default" "$D/single"
t single
ln -s default "$D/current"
t default
t single
t single
t default
t "$D/single"
t nope
touch "$D/file"; t file
t ""
t a b
mkdir "$D/current.new"; t single; rmdir "$D/current.new"
rm -f "$D/previous"; mkdir "$D/previous"; t default; rmdir "$D/previous"
ln -sfn /nonexistent "$D/current"; t single
rm -f "$D/current"; mkdir "$D/current"; t single
"#;

fn run_scenario(sb: &Sandbox, prog: &Path, dir: &str, in_namespace: bool) -> Option<String> {
    let script = sb.join("scenario.sh");
    std::fs::write(&script, SCENARIO).unwrap();
    let scratch = sb.join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let mut c;
    if in_namespace {
        c = sb.command("unshare");
        c.arg("-m")
            .arg("sh")
            .arg("-c")
            .arg("mount -t tmpfs runsvchdir-test /etc || exit 97; exec sh \"$0\" \"$@\"");
        c.arg(&script);
    } else {
        c = sb.command("sh");
        c.arg(&script);
    }
    c.arg(prog).arg(dir).arg(&scratch);
    if !in_namespace {
        c.env("RUNSVDIR", dir);
    } else {
        c.env_remove("RUNSVDIR");
    }
    let out = sb.run(c);
    // 97: the mount was refused; unshare's own complaint: no namespace.
    let refused = out.status.code() == Some(97) || out.stderr.starts_with(b"unshare:");
    if in_namespace && refused {
        let what = "mount a tmpfs on /etc in a private mount namespace";
        Skip::refused(what, out.status, &out.stderr)
            .unwrap()
            .record();
        return None;
    }
    assert!(out.status.success(), "scenario failed: {out:?}");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn runsvdir_override_behaves_like_runit() {
    let mut sb = Sandbox::new();
    let d = sb.join("levels");
    let ours = run_scenario(&sb, &bin("runsvchdir"), d.to_str().unwrap(), false).unwrap();
    let ours = ours.replace(d.to_str().unwrap(), "/etc/runit/runsvdir");
    // Spot checks that hold whatever the reference says.
    assert!(
        ours.contains("== \nrc=1\nout: \nerr: usage: PROG dir\n"),
        "{ours}"
    );
    assert!(
        ours.contains("== default\nrc=0\nout: runsvchdir: default: current.\n"),
        "{ours}"
    );
    assert!(ours.contains("== single\nrc=0\nout: runsvchdir: single: now current.\nerr: \n  current -> single\n  default\n  previous -> default\n  single\n"), "{ours}");
    assert!(
        ours.contains("err: PROG: fatal: filenot a directory.\n"),
        "{ours}"
    );
    assert!(
        ours.contains("err: PROG: fatal: unable to unlink: previous: is a directory\n"),
        "{ours}"
    );
    if need_root("the compiled-in directory needs a mount namespace") {
        if let Some(r) = reference() {
            if let Some(theirs) =
                run_scenario(&sb, &r.runit("runsvchdir"), "/etc/runit/runsvdir", true)
            {
                assert_eq!(
                    ours, theirs,
                    "ours ($RUNSVDIR) vs runit 2.1.2 (/etc/runit/runsvdir)"
                );
            }
        }
    }
    sb.assert_no_leaks();
}

#[test]
fn compiled_in_directory_matches_runit() {
    if !need_root("a mount namespace") {
        return;
    }
    let mut sb = Sandbox::new();
    let Some(ours) = run_scenario(&sb, &bin("runsvchdir"), "/etc/runit/runsvdir", true) else {
        return;
    };
    assert!(
        ours.contains(
            "err: PROG: fatal: unable to chdir: /etc/runit/runsvdir: file does not exist\n"
        ),
        "{ours}"
    );
    if let Some(r) = reference() {
        let theirs =
            run_scenario(&sb, &r.runit("runsvchdir"), "/etc/runit/runsvdir", true).unwrap();
        assert_eq!(ours, theirs, "ours vs runit 2.1.2");
    }
    sb.assert_no_leaks();
}

#[test]
fn unprivileged_rename_failure() {
    // A sticky, world-writable runlevel directory whose `current` belongs
    // to root: an ordinary user may create current.new but not move
    // current away. (runit 2.1.2 says the same in the same state, checked
    // by hand in a mount namespace; it cannot be pointed at a temporary
    // directory.)
    let Some(setpriv) = ["/usr/bin/setpriv", "/bin/setpriv"]
        .iter()
        .map(Path::new)
        .find(|p| p.exists())
    else {
        skip("needs setpriv (util-linux)");
        return;
    };
    if !need_root("to run runsvchdir as another user") {
        return;
    }
    let mut sb = Sandbox::new();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(sb.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = sb.join("runsvchdir");
    copy_program(&bin("runsvchdir"), &copy);
    let d = sb.join("levels");
    std::fs::create_dir_all(d.join("default")).unwrap();
    std::fs::create_dir_all(d.join("single")).unwrap();
    std::os::unix::fs::symlink("single", d.join("current")).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let mut c = sb.command(setpriv);
    c.args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
        .arg(&copy)
        .arg("default");
    c.env("RUNSVDIR", &d);
    let out = sb.run(c);
    let err = String::from_utf8_lossy(&out.stderr).replace(copy.to_str().unwrap(), "PROG");
    assert_eq!(out.status.code(), Some(111));
    assert_eq!(
        err,
        "PROG: fatal: unable to copy: current to previous: permission denied\n"
    );
    assert_eq!(
        std::fs::read_link(d.join("current.new")).unwrap(),
        Path::new("default")
    );
    assert_eq!(
        std::fs::read_link(d.join("current")).unwrap(),
        Path::new("single")
    );
    sb.assert_no_leaks();
}
