//! svlogd end to end: rotation, pruning, the processor, signals, several
//! directories, patterns, UDP, a full disk; and differentially against
//! runit 2.1.2's svlogd: the same input and config through both, comparing
//! file names (stamps normalised), contents (stamps normalised), modes,
//! exit code and standard error.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use runit_tests::*;
use rustix::process::Signal;

// ---------------------------------------------------------------------
// Normalising

fn is_hex(b: &[u8]) -> bool {
    b.iter()
        .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

/// Replaces TAI64N labels (`@` + 24 hex) anywhere, and human stamps
/// (`YYYY-MM-DD_HH:MM:SS.xxxxx`, `T` form too) by placeholders.
fn norm(text: &[u8]) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'@' && i + 25 <= text.len() && is_hex(&text[i + 1..i + 25]) {
            out.extend_from_slice(b"@TAI64N");
            i += 25;
            continue;
        }
        if i + 25 <= text.len() && is_human(&text[i..i + 25]) {
            out.extend_from_slice(b"DATE");
            i += 25;
            continue;
        }
        out.push(text[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_human(s: &[u8]) -> bool {
    let shape = b"dddd-dd-dd_dd:dd:dd.ddddd";
    s.iter().zip(shape.iter()).all(|(&c, &p)| match p {
        b'd' => c.is_ascii_digit(),
        b'_' => c == b'_' || c == b'T',
        _ => c == p,
    })
}

/// A log directory's state: (normalised name, mode, normalised content)
/// in name order (old files in rotation order, then the rest).
fn snapshot(dir: &Path) -> Vec<(String, u32, String)> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let p = dir.join(&n);
            let m = std::fs::symlink_metadata(&p).unwrap();
            let content = if m.is_file() {
                std::fs::read(&p).unwrap()
            } else {
                Vec::new()
            };
            (
                norm(n.as_bytes()),
                m.permissions().mode() & 0o7777,
                norm(&content),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------
// Running svlogd to completion on a given input

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    code: Option<i32>,
    stderr: String,
    dirs: Vec<Vec<(String, u32, String)>>,
}

struct Scenario<'a> {
    args: &'a [&'a str],
    /// Config per directory (None: no config file).
    configs: &'a [Option<&'a str>],
    input: &'a [u8],
    /// Files to create in each directory first: (name, content, mode).
    pre: &'a [(&'a str, &'a str, u32)],
}

fn run_scenario(sb: &Sandbox, bin: &Path, tag: &str, sc: &Scenario) -> Outcome {
    let base = sb.join(tag);
    std::fs::create_dir_all(&base).unwrap();
    let mut dir_args = Vec::new();
    for (k, cfg) in sc.configs.iter().enumerate() {
        let d = base.join(format!("log{k}"));
        std::fs::create_dir(&d).unwrap();
        if let Some(c) = cfg {
            std::fs::write(d.join("config"), c).unwrap();
        }
        for (name, content, mode) in sc.pre {
            std::fs::write(d.join(name), content).unwrap();
            std::fs::set_permissions(d.join(name), std::fs::Permissions::from_mode(*mode)).unwrap();
        }
        dir_args.push(format!("log{k}"));
    }
    let mut cmd = sb.command(bin);
    cmd.current_dir(&base)
        .args(sc.args)
        .args(&dir_args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = sc.input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Outcome {
        code: out.status.code(),
        stderr: norm(&out.stderr),
        dirs: dir_args.iter().map(|d| snapshot(&base.join(d))).collect(),
    }
}

/// Runs a scenario through the reference and through ours; both must
/// agree. Returns ours for further checks.
fn differential(sc: &Scenario) -> Option<Outcome> {
    let r = reference()?;
    let mut sb = Sandbox::new();
    let theirs = run_scenario(&sb, &r.runit("svlogd"), "ref", sc);
    let ours = run_scenario(&sb, &bin("svlogd"), "ours", sc);
    assert_eq!(ours, theirs, "args {:?} configs {:?}", sc.args, sc.configs);
    sb.assert_no_leaks();
    Some(ours)
}

fn lines(n: usize, width: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..n {
        let s = format!("line {i:06} ");
        v.extend_from_slice(s.as_bytes());
        v.extend(std::iter::repeat_n(
            b'a' + (i % 26) as u8,
            width.saturating_sub(s.len()),
        ));
        v.push(b'\n');
    }
    v
}

// ---------------------------------------------------------------------
// Differential tests

#[test]
fn diff_timestamps_and_replacement() {
    let input = b"one\ntwo\tx\n\nthree\xff\x7f end\n";
    for args in [
        &[][..],
        &["-t"],
        &["-tt"],
        &["-ttt"],
        &["-tttt"],
        &["-r", "."],
        &["-R", "ne"],
        &["-r", ":", "-R", "ot"],
    ] {
        differential(&Scenario {
            args,
            configs: &[None],
            input,
            pre: &[],
        });
    }
}

#[test]
fn diff_rotation_by_size_and_pruning() {
    let input = lines(400, 60);
    for cfg in [
        "s1000\nn3\n",
        "s2k\nn0\n",
        "s100\nn2\n",
        "s0\n",
        "s50\nn5\n",
    ] {
        differential(&Scenario {
            args: &["-tt", "-l", "20", "-b", "100"],
            configs: &[Some(cfg)],
            input: &input,
            pre: &[],
        });
    }
    // Verbose messages (rename, delete, ...) too.
    differential(&Scenario {
        args: &["-v", "-l", "20", "-b", "100"],
        configs: &[Some("s300\nn2\n")],
        input: &lines(50, 30),
        pre: &[],
    });
}

#[test]
fn diff_long_lines_split_across_files() {
    let mut input = b"short\n".to_vec();
    input.extend(std::iter::repeat_n(b'A', 3000));
    input.extend_from_slice(b"\nend\n");
    for (args, cfg) in [
        (&["-l", "20", "-b", "100"][..], "s50\n"),
        (&["-l", "20", "-b", "100"], "s10\n"),
        (&["-tt"], "s1500\n"),
        (&["-r", "_", "-l", "8", "-b", "9"], "s100\n"),
    ] {
        differential(&Scenario {
            args,
            configs: &[Some(cfg)],
            input: &input,
            pre: &[],
        });
    }
}

#[test]
fn diff_patterns_prefix_and_stderr() {
    let input = b"tcpsvd: info: pid 1977 from 10.4.1.14\nkeep this\ndrop that\naaab\nb\nerror: bad\n+plus\n";
    for cfg in [
        "-*\n+keep*\n",
        "-*pid*\n",
        "-*: *: pid *\n",
        "-drop*\ne*\nEkeep*\npPFX \n",
        "-+ab\n-*b\n",
        "e*\n-*\nEerror*\n",
        "+*\n-\n",
    ] {
        differential(&Scenario {
            args: &["-tt", "-l", "12", "-b", "100"],
            configs: &[Some(cfg)],
            input,
            pre: &[],
        });
    }
}

#[test]
fn diff_multiple_directories() {
    let input = b"alpha 1\nbeta 2\nalpha 3\ngamma 4\n";
    differential(&Scenario {
        args: &["-t"],
        configs: &[Some("-*\n+alpha*\n"), Some("-alpha*\n"), None],
        input,
        pre: &[],
    });
}

#[test]
fn diff_processor() {
    let input = lines(60, 40);
    differential(&Scenario {
        args: &[],
        configs: &[Some(
            "s500\nn20\n!echo processed; cat; cat <&4; echo state >&5; echo done\n",
        )],
        input: &input,
        pre: &[],
    });
}

#[test]
fn diff_crashed_current_and_config_warnings() {
    differential(&Scenario {
        args: &["-v"],
        configs: &[Some("uabc\nu1.2.3.4:0\nnx\n#c\n\n")],
        input: b"new\n",
        pre: &[("current", "unfinished\n", 0o644)],
    });
    // current complete (u+x): appended to.
    differential(&Scenario {
        args: &["-v"],
        configs: &[None],
        input: b"new\n",
        pre: &[("current", "finished\n", 0o744)],
    });
    // A bad `U` line still makes the directory UDP-only.
    differential(&Scenario {
        args: &[],
        configs: &[Some("U1.2.3.4:abc\ne*\n")],
        input: b"0123456789abcdef\n",
        pre: &[],
    });
}

#[test]
fn diff_unusable_directories() {
    let Some(r) = reference() else { return };
    let mut sb = Sandbox::new();
    std::fs::write(sb.join("afile"), "").unwrap();
    let mut outs = Vec::new();
    for b in [r.runit("svlogd"), bin("svlogd")] {
        let mut c = sb.command(&b);
        c.args(["missing", "afile"]);
        let o = sb.run(c);
        outs.push((
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        ));
    }
    assert_eq!(outs[0], outs[1]);
    assert_eq!(outs[1].0, Some(111));
    sb.assert_no_leaks();
}

/// runit drops an unterminated last line; we keep it with a newline
/// (a deliberate difference): everything else is the same.
#[test]
fn diff_unterminated_last_line_is_the_only_difference() {
    let sc = Scenario {
        args: &["-tt"],
        configs: &[None],
        input: b"full\nabc",
        pre: &[],
    };
    let Some(r) = reference() else { return };
    let mut sb = Sandbox::new();
    let theirs = run_scenario(&sb, &r.runit("svlogd"), "ref", &sc);
    let ours = run_scenario(&sb, &bin("svlogd"), "ours", &sc);
    let cur = |o: &Outcome| {
        o.dirs[0]
            .iter()
            .find(|f| f.0 == "current")
            .unwrap()
            .2
            .clone()
    };
    assert_eq!(cur(&theirs), "DATE full\n");
    assert_eq!(cur(&ours), "DATE full\nDATE abc\n");
    sb.assert_no_leaks();
}

// ---------------------------------------------------------------------
// Long-running svlogd driven through a pipe

struct Live {
    pid: u32,
    stdin: Option<File>,
    err: PathBuf,
}

impl Live {
    fn start(sb: &mut Sandbox, bin: &Path, args: &[&str], errname: &str) -> Live {
        // CLOEXEC: children that other tests start meanwhile must not hold
        // the write end, or svlogd would never see end of input.
        let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
        let err = sb.join(errname);
        let mut c = sb.command(bin);
        c.args(args)
            .stdin(Stdio::from(r))
            .stdout(Stdio::null())
            .stderr(File::create(&err).unwrap());
        let pid = sb.spawn(c);
        Live {
            pid,
            stdin: Some(File::from(w)),
            err,
        }
    }

    fn send(&mut self, b: &[u8]) {
        self.stdin.as_mut().unwrap().write_all(b).unwrap();
    }

    fn signal(&self, s: Signal) {
        wait_catching(self.pid, s, WAIT);
        kill(self.pid, s);
    }

    fn stderr(&self) -> String {
        read(&self.err)
    }

    fn close_stdin(&mut self) {
        self.stdin = None;
    }
}

fn old_files(dir: &Path, suffix: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('@') && n.len() == 27 && n.ends_with(suffix))
        .collect();
    v.sort();
    v
}

fn wait_content(path: &Path, want: &str) {
    wait_until(
        &format!("{} to read {want:?}", path.display()),
        WAIT,
        || read(path) == want,
    );
}

#[test]
fn latency_line_appears_without_more_input() {
    let mut sb = Sandbox::new();
    let d = sb.join("log");
    std::fs::create_dir(&d).unwrap();
    let mut l = Live::start(&mut sb, &bin("svlogd"), &[d.to_str().unwrap()], "err");
    l.send(b"first\n");
    wait_content(&d.join("current"), "first\n");
    assert_eq!(
        std::fs::metadata(d.join("current"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o644
    );
    l.send(b"second\n");
    wait_content(&d.join("current"), "first\nsecond\n");
    l.close_stdin();
    sb.wait_exit(l.pid, WAIT);
    assert_eq!(
        std::fs::metadata(d.join("current"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o744
    );
    sb.assert_no_leaks();
}

#[test]
fn alrm_rotates_and_hup_rereads_config() {
    let mut sb = Sandbox::new();
    let d = sb.join("log");
    std::fs::create_dir(&d).unwrap();
    let mut l = Live::start(&mut sb, &bin("svlogd"), &["-v", d.to_str().unwrap()], "err");
    l.send(b"one\n");
    wait_content(&d.join("current"), "one\n");
    l.signal(Signal::ALARM);
    wait_until("rotation by ALRM", WAIT, || old_files(&d, ".s").len() == 1);
    assert_eq!(read(d.join(&old_files(&d, ".s")[0])), "one\n");
    // ALRM with an empty current rotates nothing.
    l.signal(Signal::ALARM);
    wait_until("second sigalarm seen", WAIT, || {
        l.stderr().matches("sigalarm received.").count() == 2
    });
    assert_eq!(old_files(&d, ".s").len(), 1);
    // HUP: config re-read, now with a prefix.
    std::fs::write(d.join("config"), "pP:\n").unwrap();
    l.signal(Signal::HUP);
    wait_until("reopen after HUP", WAIT, || l.stderr().contains("read: "));
    l.send(b"two\n");
    wait_content(&d.join("current"), "P:two\n");
    l.close_stdin();
    sb.wait_exit(l.pid, WAIT);
    let err = l.stderr();
    assert!(err.contains("svlogd: info: sighangup received.\n"), "{err}");
    assert!(err.contains("svlogd: info: close: "), "{err}");
    sb.assert_no_leaks();
}

#[test]
fn term_finishes_the_line_in_progress_and_keeps_it() {
    let mut sb = Sandbox::new();
    let d = sb.join("log");
    std::fs::create_dir(&d).unwrap();
    let mut l = Live::start(&mut sb, &bin("svlogd"), &[d.to_str().unwrap()], "err");
    l.send(b"one\npart");
    wait_content(&d.join("current"), "one\n");
    l.signal(Signal::TERM);
    // Still waiting for the end of the line.
    std::thread::sleep(Duration::from_millis(200));
    assert!(sb.try_wait(l.pid).is_none(), "exited before the line ended");
    l.send(b"ial\nnot read\n");
    let st = sb.wait_exit(l.pid, WAIT);
    assert_eq!(st.code(), Some(0));
    assert_eq!(read(d.join("current")), "one\npartial\n");
    sb.assert_no_leaks();
}

#[test]
fn term_between_lines_exits_at_once() {
    let mut sb = Sandbox::new();
    let d = sb.join("log");
    std::fs::create_dir(&d).unwrap();
    let mut l = Live::start(&mut sb, &bin("svlogd"), &[d.to_str().unwrap()], "err");
    l.send(b"one\n");
    wait_content(&d.join("current"), "one\n");
    l.signal(Signal::TERM);
    let st = sb.wait_exit(l.pid, WAIT);
    assert_eq!(st.code(), Some(0));
    assert_eq!(
        std::fs::metadata(d.join("current"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o744
    );
    sb.assert_no_leaks();
}

#[test]
fn rotation_by_age() {
    let mut sb = Sandbox::new();
    let d = sb.join("log");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("config"), "t1\n").unwrap();
    let mut l = Live::start(&mut sb, &bin("svlogd"), &[d.to_str().unwrap()], "err");
    l.send(b"aged\n");
    // No more input: the deadline alone must rotate it.
    wait_until("rotation by age", WAIT, || old_files(&d, ".s").len() == 1);
    assert_eq!(read(d.join(&old_files(&d, ".s")[0])), "aged\n");
    l.close_stdin();
    sb.wait_exit(l.pid, WAIT);
    // An empty current is never rotated by age.
    assert_eq!(old_files(&d, ".s").len(), 1);
    sb.assert_no_leaks();
}

#[test]
fn processor_success_failure_and_state() {
    let mut sb = Sandbox::new();
    let d = sb.join("log");
    std::fs::create_dir(&d).unwrap();
    // Fails the first time it runs, then succeeds; keeps a counter in state.
    std::fs::write(
        d.join("config"),
        "s20\n!if [ -e failed-once ]; then tr a-z A-Z; n=$(cat <&4); echo $((${n:-0}+1)) >&5; \
         else touch failed-once; echo junk; exit 3; fi\n",
    )
    .unwrap();
    let mut l = Live::start(
        &mut sb,
        &bin("svlogd"),
        &["-l", "5", d.to_str().unwrap()],
        "err",
    );
    l.send(b"first line here xx\n");
    wait_until("processed file", WAIT, || old_files(&d, ".s").len() == 1);
    // The .s file appears before svlogd sets its mode, removes the .u
    // and renames newstate (runit's order); state is the last step.
    wait_content(&d.join("state"), "1\n");
    let s = old_files(&d, ".s");
    assert_eq!(read(d.join(&s[0])), "FIRST LINE HERE XX\n");
    assert_eq!(
        std::fs::metadata(d.join(&s[0]))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o744
    );
    assert!(old_files(&d, ".u").is_empty() && old_files(&d, ".t").is_empty());
    l.send(b"second line here x\n");
    wait_until("second processed", WAIT, || old_files(&d, ".s").len() == 2);
    wait_content(&d.join("state"), "2\n");
    l.close_stdin();
    sb.wait_exit(l.pid, WAIT);
    assert!(l.stderr().contains(&format!(
        "svlogd: warning: processor failed, restart: {}\n",
        d.display()
    )));
    sb.assert_no_leaks();
}

#[test]
fn processor_killed_by_signal_is_a_failure() {
    let mut sb = Sandbox::new();
    let d = sb.join("log");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(
        d.join("config"),
        "s15\n!if [ -e killed ]; then cat; else touch killed; kill -9 $$; fi\n",
    )
    .unwrap();
    let mut l = Live::start(
        &mut sb,
        &bin("svlogd"),
        &["-l", "5", d.to_str().unwrap()],
        "err",
    );
    l.send(b"0123456789\n");
    l.close_stdin();
    sb.wait_exit(l.pid, WAIT);
    let s = old_files(&d, ".s");
    assert_eq!(s.len(), 1);
    // runit would have kept the killed run's empty output; we ran it again.
    assert_eq!(read(d.join(&s[0])), "0123456789\n");
    sb.assert_no_leaks();
}

/// Old files stamped in the future (as after the clock was set back):
/// the file just rotated sorts first, yet pruning must keep it, and a
/// file a processor works on is never deleted.
#[test]
fn clock_set_back_never_prunes_the_file_in_progress() {
    let mut sb = Sandbox::new();
    let d = sb.join("log");
    std::fs::create_dir(&d).unwrap();
    let future = ["@4000000090000000000001f4.s", "@4000000090000001000001f4.s"];
    for f in future {
        std::fs::write(d.join(f), "future\n").unwrap();
    }
    std::fs::write(d.join("config"), "s15\nn2\n!cat\n").unwrap();
    let mut l = Live::start(
        &mut sb,
        &bin("svlogd"),
        &["-l", "5", d.to_str().unwrap()],
        "err",
    );
    l.send(b"0123456789\n");
    wait_until("processed", WAIT, || {
        old_files(&d, ".s")
            .iter()
            .any(|n| !future.contains(&n.as_str()))
    });
    l.close_stdin();
    let st = sb.wait_exit(l.pid, WAIT);
    assert_eq!(st.code(), Some(0));
    let s = old_files(&d, ".s");
    let ours: Vec<&String> = s.iter().filter(|n| !future.contains(&n.as_str())).collect();
    assert_eq!(ours.len(), 1, "{s:?}");
    assert_eq!(read(d.join(ours[0])), "0123456789\n");
    // The oldest of the others went instead.
    assert_eq!(s.len(), 2, "{s:?}");
    assert!(!d.join(future[0]).exists());
    sb.assert_no_leaks();
}

#[test]
fn second_svlogd_is_refused_both_ways() {
    let mut sb = Sandbox::new();
    let d = sb.join("log");
    std::fs::create_dir(&d).unwrap();
    let mut binaries = vec![bin("svlogd")];
    if let Some(r) = reference() {
        binaries.push(r.runit("svlogd"));
    }
    for first in &binaries {
        let mut l = Live::start(&mut sb, first, &[d.to_str().unwrap()], "err");
        l.send(b"x\n");
        wait_until("first logger holds the lock", WAIT, || {
            read(d.join("current")).ends_with("x\n")
        });
        for second in &binaries {
            let mut c = sb.command(second);
            c.arg(d.to_str().unwrap());
            let o = sb.run(c);
            assert_eq!(o.status.code(), Some(111));
            assert_eq!(
                String::from_utf8_lossy(&o.stderr),
                format!(
                    "svlogd: warning: unable to lock directory: {}: temporary failure\n\
                     svlogd: fatal: no functional log directories.\n",
                    d.display()
                )
            );
        }
        l.close_stdin();
        sb.wait_exit(l.pid, WAIT);
        std::fs::remove_file(d.join("current")).unwrap();
    }
    sb.assert_no_leaks();
}

#[test]
fn udp_copies_and_udp_only() {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(WAIT)).unwrap();
    let port = sock.local_addr().unwrap().port();
    let sb = Sandbox::new();
    let d = sb.join("log");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("config"), format!("u127.0.0.1:{port}\npP \n")).unwrap();
    let mut c = sb.command(bin("svlogd"));
    c.args(["-l", "10", d.to_str().unwrap()])
        .stdin(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"0123456789abcdef\nshort\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let mut buf = [0u8; 100];
    let n = sock.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"P 0123456789...\n");
    let n = sock.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"P short\n");
    assert_eq!(read(d.join("current")), "P 0123456789abcdef\nP short\n");
    // UDP only: nothing in the directory.
    std::fs::write(d.join("config"), format!("U127.0.0.1:{port}\n")).unwrap();
    std::fs::remove_file(d.join("current")).unwrap();
    let mut c = sb.command(bin("svlogd"));
    c.arg(d.to_str().unwrap()).stdin(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"only udp\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let n = sock.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"only udp\n");
    assert_eq!(read(d.join("current")), "");
}

// ---------------------------------------------------------------------
// A full disk: a small tmpfs mounted by the test

struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(dir).unwrap();
        if !need_root("to mount a small tmpfs") {
            return None;
        }
        let mut c = Command::new("mount");
        c.args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir);
        if let Err(s) = probe("mount a tmpfs", c) {
            s.record();
            return None;
        }
        Some(Mount(dir.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn disk_full_pauses_and_loses_nothing() {
    let mut sb = Sandbox::new();
    let Some(m) = Mount::tmpfs(&sb.join("fs"), "256k") else {
        return;
    };
    let d = m.0.join("log");
    std::fs::create_dir(&d).unwrap();
    // Fill most of the file system, leaving a little room.
    let filler = m.0.join("filler");
    {
        let mut f = File::create(&filler).unwrap();
        let block = vec![b'F'; 4096];
        while f.write_all(&block).is_ok() {}
    }
    let len = std::fs::metadata(&filler).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&filler)
        .unwrap()
        .set_len(len - 16 * 1024)
        .unwrap();
    let mut l = Live::start(&mut sb, &bin("svlogd"), &[d.to_str().unwrap()], "err");
    let input = lines(2000, 50);
    let mut stdin = l.stdin.take().unwrap();
    let writer = {
        let input = input.clone();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        })
    };
    wait_until("the pausing message", WAIT, || {
        l.stderr().contains(&format!(
            "svlogd: pausing: unable to write to current: {}: out of disk space\n",
            d.display()
        ))
    });
    // Space comes back: everything must arrive.
    std::fs::remove_file(&filler).unwrap();
    writer.join().unwrap();
    let st = sb.wait_exit(l.pid, Duration::from_secs(40));
    assert_eq!(st.code(), Some(0));
    assert!(
        read(d.join("current")).as_bytes() == input.as_slice(),
        "lines lost or damaged"
    );
    drop(m);
    sb.assert_no_leaks();
}

#[test]
fn disk_full_with_n_below_big_n_deletes_old_files() {
    let mut sb = Sandbox::new();
    let Some(m) = Mount::tmpfs(&sb.join("fs"), "64k") else {
        return;
    };
    let d = m.0.join("log");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("config"), "s20000\nn5\nN2\n").unwrap();
    let mut c = sb.command(bin("svlogd"));
    c.arg(d.to_str().unwrap())
        .stdin(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = lines(1000, 80);
    let w = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    w.join().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("svlogd: warning: out of disk space, delete: "),
        "{err}"
    );
    let olds = old_files(&d, ".s");
    assert!(olds.len() >= 2, "{olds:?}");
    // The newest data is all there: current ends with the last line.
    assert!(read(d.join("current")).ends_with(&format!("line {:06} ", 999)[..0]));
    assert!(read(d.join("current")).contains("line 000999"));
    drop(m);
    sb.assert_no_leaks();
}

// ---------------------------------------------------------------------
// Something else where svlogd expects one of its files (or the log
// directory): a FIFO, a directory, a symlink into nowhere, a symlink to
// a file that can be created. runit opens every such file non-blocking,
// so where it copes, ours must cope the same way; where runit pauses or
// restarts for ever (and so cannot be stopped), ours must still exit on
// TERM.

#[derive(Clone, Copy, Debug)]
enum Intruder {
    Fifo,
    Dir,
    Nowhere,
    Creatable,
}

/// Puts `what` at `path`; symlinks point into `base`.
fn plant(base: &Path, path: &Path, what: Intruder) {
    match what {
        Intruder::Fifo => rustix::fs::mknodat(
            rustix::fs::CWD,
            path,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap(),
        Intruder::Dir => std::fs::create_dir(path).unwrap(),
        Intruder::Nowhere => std::os::unix::fs::symlink(base.join("nowhere/x"), path).unwrap(),
        Intruder::Creatable => std::os::unix::fs::symlink(base.join("target"), path).unwrap(),
    }
}

/// A config that rotates after the first 200 bytes and runs a processor.
const PROCESSED: &str = "s200\n!cat\n";

/// Starts `bin` on `TAG/log` with `what` in the place of `name` ("."
/// for the log directory itself), `cfg` as config (unless `name` is the
/// config), 400 bytes of lines as input and standard error in
/// `TAG/stderr`. Returns the pid and `TAG`.
fn start_with_intruder(
    sb: &mut Sandbox,
    bin: &Path,
    tag: &str,
    (name, what): (&str, Intruder),
    cfg: Option<&str>,
) -> (u32, PathBuf) {
    let base = sb.join(tag);
    let log = base.join("log");
    std::fs::create_dir(&base).unwrap();
    if name == "." {
        plant(&base, &log, what);
    } else {
        std::fs::create_dir(&log).unwrap();
        if let Some(c) = cfg.filter(|_| name != "config") {
            std::fs::write(log.join("config"), c).unwrap();
        }
        plant(&base, &log.join(name), what);
    }
    std::fs::write(base.join("input"), lines(12, 32)).unwrap();
    let mut cmd = sb.command(bin);
    cmd.current_dir(&base)
        .arg("log")
        .stdin(File::open(base.join("input")).unwrap())
        .stdout(Stdio::null())
        .stderr(File::create(base.join("stderr")).unwrap());
    (sb.spawn(cmd), base)
}

/// What a finished run left: exit code, standard error, the log
/// directory (when it is one) and the symlinks' target file.
type Left = (
    Option<i32>,
    String,
    Vec<(String, u32, String)>,
    Option<String>,
);

fn intruder_outcome(code: Option<i32>, base: &Path) -> Left {
    let log = base.join("log");
    let dir = if std::fs::symlink_metadata(&log).is_ok_and(|m| m.is_dir()) {
        snapshot(&log)
    } else {
        Vec::new()
    };
    (
        code,
        norm(&std::fs::read(base.join("stderr")).unwrap()),
        dir,
        std::fs::read(base.join("target")).ok().map(|t| norm(&t)),
    )
}

/// Where runit copes: both finish the input, with the same outcome.
fn diff_intruder(place: (&str, Intruder), cfg: Option<&str>) {
    let Some(r) = reference() else { return };
    let mut sb = Sandbox::new();
    let mut outs = Vec::new();
    for (tag, b) in [("ref", r.runit("svlogd")), ("ours", bin("svlogd"))] {
        let (pid, base) = start_with_intruder(&mut sb, &b, tag, place, cfg);
        let code = sb.wait_exit(pid, WAIT).code();
        outs.push(intruder_outcome(code, &base));
    }
    assert_eq!(outs[0], outs[1], "{place:?}");
    sb.assert_no_leaks();
}

/// The first line of `stderr` that is a pause or a failure.
fn first_trouble(stderr: &Path) -> Option<String> {
    read(stderr)
        .lines()
        .find(|l| l.starts_with("svlogd: pausing: ") || l.starts_with("svlogd: fatal: "))
        .map(|l| norm(l.as_bytes()))
}

/// Where runit pauses or restarts for ever: both report the same first
/// trouble; runit is then killed, ours must exit on TERM, saying it
/// stopped. Returns our exit code and directory (in `sb`).
fn stoppable_despite(
    sb: &mut Sandbox,
    place: (&str, Intruder),
    cfg: Option<&str>,
) -> Option<(Option<i32>, PathBuf)> {
    let r = reference()?;
    let mut troubles = Vec::new();
    let mut ours = None;
    for (tag, b) in [("ref", r.runit("svlogd")), ("ours", bin("svlogd"))] {
        let (pid, base) = start_with_intruder(sb, &b, tag, place, cfg);
        let stderr = base.join("stderr");
        troubles.push(wait_for("a pause or a failure", WAIT, || {
            first_trouble(&stderr)
        }));
        if tag == "ref" {
            kill(pid, Signal::KILL);
            sb.wait_exit(pid, WAIT);
        } else {
            wait_catching(pid, Signal::TERM, WAIT);
            kill(pid, Signal::TERM);
            let code = sb.wait_exit(pid, WAIT).code();
            assert!(
                read(&stderr).contains("svlogd: warning: stopping"),
                "{}",
                read(&stderr)
            );
            ours = Some((code, base.join("log")));
        }
    }
    assert_eq!(troubles[0], troubles[1], "{place:?}");
    sb.assert_no_leaks();
    ours
}

#[test]
fn intruder_config_reads_as_runit_does() {
    // A FIFO is read as empty (it used to block svlogd in open(2)), a
    // directory gives a warning, a dangling symlink counts as no config.
    for what in [Intruder::Fifo, Intruder::Dir, Intruder::Nowhere] {
        diff_intruder(("config", what), None);
    }
}

#[test]
fn intruder_lock_and_directory_refused_as_runit_does() {
    for what in [
        Intruder::Fifo,
        Intruder::Dir,
        Intruder::Nowhere,
        Intruder::Creatable,
    ] {
        diff_intruder(("lock", what), None);
    }
    // The log directory a FIFO (it used to block in open(2)) or dangling.
    for what in [Intruder::Fifo, Intruder::Nowhere, Intruder::Creatable] {
        diff_intruder((".", what), None);
    }
}

#[test]
fn intruder_current_symlink_followed_as_runit_does() {
    diff_intruder(("current", Intruder::Creatable), None);
}

#[test]
fn intruder_current_unopenable_still_stops_on_term() {
    for what in [Intruder::Fifo, Intruder::Dir, Intruder::Nowhere] {
        let mut sb = Sandbox::new();
        let Some((code, log)) = stoppable_despite(&mut sb, ("current", what), None) else {
            return;
        };
        // No directory could be opened: runit's fatal message and code.
        assert_eq!(code, Some(111), "{what:?}");
        assert!(std::fs::symlink_metadata(log.join("current")).is_ok());
    }
}

#[test]
fn intruder_state_and_newstate_as_runit_does() {
    // A FIFO state is handed to the processor (it used to block svlogd in
    // open(2)); symlinks to a file that can be created are followed.
    diff_intruder(("state", Intruder::Fifo), Some(PROCESSED));
    diff_intruder(("state", Intruder::Creatable), Some(PROCESSED));
    diff_intruder(("newstate", Intruder::Creatable), Some(PROCESSED));
}

#[test]
fn intruder_processor_files_still_stop_on_term() {
    // The processor cannot be set up (runit restarts it for ever) or its
    // state cannot be renamed (runit pauses for ever): ours exits on TERM
    // and keeps the rotated lines, processed or not.
    for place in [
        ("newstate", Intruder::Fifo),
        ("newstate", Intruder::Dir),
        ("newstate", Intruder::Nowhere),
        ("state", Intruder::Nowhere),
        ("state", Intruder::Dir),
    ] {
        let mut sb = Sandbox::new();
        let Some((code, log)) = stoppable_despite(&mut sb, place, Some(PROCESSED)) else {
            return;
        };
        assert_eq!(code, Some(0), "{place:?}");
        let kept: Vec<String> = ["u", "s"]
            .iter()
            .flat_map(|s| old_files(&log, s))
            .map(|n| read(log.join(n)))
            .collect();
        assert_eq!(kept.len(), 1, "{place:?}: {kept:?}");
        assert!(kept[0].starts_with("line 000000 "), "{place:?}: {kept:?}");
        assert_eq!(kept[0].len(), 200, "{place:?}");
    }
}

#[test]
fn failing_processor_is_given_up_on_term() {
    // runit restarts a failing processor for ever, also after TERM, and
    // so never exits; ours stops restarting it and keeps its input.
    let mut sb = Sandbox::new();
    let (pid, base) = start_with_intruder(
        &mut sb,
        &bin("svlogd"),
        "ours",
        ("unused", Intruder::Nowhere),
        Some("s200\n!exit 1\n"),
    );
    let stderr = base.join("stderr");
    wait_until("a failed processor", WAIT, || {
        read(&stderr).contains("svlogd: warning: processor failed, restart: log")
    });
    wait_catching(pid, Signal::TERM, WAIT);
    kill(pid, Signal::TERM);
    assert_eq!(sb.wait_exit(pid, WAIT).code(), Some(0));
    assert!(read(&stderr).contains("svlogd: warning: stopping, processor input kept: log/@"));
    let log = base.join("log");
    let kept = old_files(&log, "u");
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(read(log.join(&kept[0])).len(), 200);
    assert!(old_files(&log, "t").is_empty());
    sb.assert_no_leaks();
}

#[test]
fn processor_exec_failure_reported_as_runit_does() {
    // A command longer than the kernel takes for one argument: exec of
    // /bin/sh fails with E2BIG in the child, which both report with the
    // same message (runit then restarts it for ever; ours until TERM).
    let cfg = format!("s200\n!{}\n", "x".repeat(200_000));
    let mut sb = Sandbox::new();
    let Some((code, log)) = stoppable_despite(&mut sb, ("unused", Intruder::Nowhere), Some(&cfg))
    else {
        return;
    };
    assert_eq!(code, Some(0));
    let stderr = read(log.parent().unwrap().join("stderr"));
    assert!(
        stderr.contains("svlogd: fatal: unable to run processor: log: "),
        "{stderr}"
    );
    assert_eq!(old_files(&log, "u").len(), 1);
}
