//! Command-line behaviour of svlogd: usage, exit codes, messages for
//! unusable directories, the lock, and the basic files it writes.

use std::os::unix::fs::PermissionsExt;

use assert_cmd::Command;

fn svlogd() -> Command {
    Command::cargo_bin("svlogd").unwrap()
}

fn usage_line() -> String {
    let bin = assert_cmd::cargo::cargo_bin("svlogd");
    format!(
        "usage: {} [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...\n\n",
        bin.display()
    )
}

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn usage_without_directories() {
    svlogd().assert().code(111).stdout("").stderr(usage_line());
}

#[test]
fn illegal_option_and_missing_argument() {
    svlogd()
        .args(["-x", "d"])
        .assert()
        .code(111)
        .stderr(format!("svlogd: illegal option -- x\n{}", usage_line()));
    svlogd().arg("-b").assert().code(111).stderr(format!(
        "svlogd: option requires an argument -- b\n{}",
        usage_line()
    ));
}

#[test]
fn bad_option_values() {
    // -r takes exactly one character; buflen must exceed len.
    svlogd()
        .args(["-r", "ab", "d"])
        .assert()
        .code(111)
        .stderr(usage_line());
    svlogd()
        .args(["-r", "", "d"])
        .assert()
        .code(111)
        .stderr(usage_line());
    svlogd()
        .args(["-l", "2000", "d"])
        .assert()
        .code(111)
        .stderr(usage_line());
    svlogd()
        .args(["-b", "1000", "d"])
        .assert()
        .code(111)
        .stderr(usage_line());
}

#[test]
fn version_then_usage() {
    svlogd()
        .args(["-V", "d"])
        .assert()
        .code(111)
        .stderr(format!("{}\n{}", supervise_proto::VERSION_ID, usage_line()));
}

#[test]
fn no_functional_directory() {
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("file");
    std::fs::write(&file, "").unwrap();
    svlogd()
        .current_dir(t.path())
        .args(["missing", "file"])
        .write_stdin("x\n")
        .assert()
        .code(111)
        .stderr(
            "svlogd: warning: unable to open log directory: missing: file does not exist\n\
             svlogd: warning: unable to change directory: file: not a directory\n\
             svlogd: fatal: no functional log directories.\n",
        );
}

#[test]
fn one_bad_directory_of_two_is_skipped() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("good")).unwrap();
    svlogd()
        .current_dir(t.path())
        .args(["missing", "good"])
        .write_stdin("hello\n")
        .assert()
        .code(0)
        .stderr("svlogd: warning: unable to open log directory: missing: file does not exist\n");
    assert_eq!(
        std::fs::read_to_string(t.path().join("good/current")).unwrap(),
        "hello\n"
    );
}

#[test]
fn writes_current_lock_and_modes() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("log");
    std::fs::create_dir(&d).unwrap();
    svlogd()
        .arg(&d)
        .write_stdin("a\nb\n")
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
    assert_eq!(
        std::fs::read_to_string(d.join("current")).unwrap(),
        "a\nb\n"
    );
    // Closed cleanly: u+x marks current as complete.
    assert_eq!(mode(&d.join("current")), 0o744);
    assert_eq!(mode(&d.join("lock")), 0o600);
    // A second run appends.
    svlogd().arg(&d).write_stdin("c\n").assert().code(0);
    assert_eq!(
        std::fs::read_to_string(d.join("current")).unwrap(),
        "a\nb\nc\n"
    );
}

#[test]
fn unterminated_last_line_is_kept() {
    let t = tempfile::tempdir().unwrap();
    svlogd()
        .arg(t.path())
        .write_stdin("full\nabc")
        .assert()
        .code(0);
    assert_eq!(
        std::fs::read_to_string(t.path().join("current")).unwrap(),
        "full\nabc\n"
    );
}

#[test]
fn verbose_messages() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("d")).unwrap();
    std::fs::write(t.path().join("d/config"), "s10\n").unwrap();
    let out = svlogd()
        .current_dir(t.path())
        .args(["-v", "d"])
        .write_stdin("0123456789\n")
        .assert()
        .code(0)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines[0], "svlogd: info: read: d/config");
    assert_eq!(lines[1], "svlogd: info: new: d/current");
    assert!(
        lines[2].starts_with("svlogd: info: rename: d/current @"),
        "{err}"
    );
    assert!(
        lines[2].ends_with(".s 10") || lines[2].ends_with(".s 11"),
        "{err}"
    );
    assert_eq!(lines.last().unwrap(), &"svlogd: info: close: d");
}

#[test]
fn locked_directory_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(t.path().join("lock"))
        .unwrap();
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).unwrap();
    svlogd()
        .current_dir(t.path())
        .arg(".")
        .write_stdin("x\n")
        .assert()
        .code(111)
        .stderr(
            "svlogd: warning: unable to lock directory: .: temporary failure\n\
             svlogd: fatal: no functional log directories.\n",
        );
}

#[test]
fn config_warnings() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("config"), "uabc\nu1.2.3.4:0\n").unwrap();
    svlogd()
        .current_dir(t.path())
        .arg(".")
        .write_stdin("x\n")
        .assert()
        .code(0)
        .stderr(
            "svlogd: warning: unable to scan ip address: abc\n\
             svlogd: warning: unable to scan port number: 0\n",
        );
}

#[test]
fn stderr_selection_with_stamp_and_prefix() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("config"), "e*\nEno*\npP:\n-drop*\n").unwrap();
    let out = svlogd()
        .current_dir(t.path())
        .args(["-l", "5", "."])
        .write_stdin("yes\nnope\ndrop me\nlonger line\n")
        .assert()
        .code(0)
        .get_output()
        .clone();
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "P:yes\nP:drop ...\nP:longe...\n"
    );
    assert_eq!(
        std::fs::read_to_string(t.path().join("current")).unwrap(),
        "P:yes\nP:nope\nP:longer line\n"
    );
}

#[test]
fn crashed_current_becomes_u_file() {
    let t = tempfile::tempdir().unwrap();
    let cur = t.path().join("current");
    std::fs::write(&cur, "old\n").unwrap();
    std::fs::set_permissions(&cur, std::fs::Permissions::from_mode(0o644)).unwrap();
    svlogd().arg(t.path()).write_stdin("new\n").assert().code(0);
    let u: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('@') && n.ends_with(".u"))
        .collect();
    assert_eq!(u.len(), 1, "{u:?}");
    assert_eq!(u[0].len(), 27);
    assert_eq!(
        std::fs::read_to_string(t.path().join(&u[0])).unwrap(),
        "old\n"
    );
    assert_eq!(std::fs::read_to_string(&cur).unwrap(), "new\n");
}
