//! The svscan.rc stop sequence from the busybox/daemontools notes (svok,
//! svstat and svc together), run end to end against our supervision tree,
//! runit's runsvdir with our runsv, and runit's own: no log line lost.

use std::path::PathBuf;
use std::process::Stdio;

use runit_tests::*;

/// The stop half of the svscan.rc script quoted in the seed notes
/// (loggers told to exit once their service is gone, then services downed
/// and their supervisors told to exit), verbatim but for its PATH.
const SVSCAN_RC: &str = r#"#!/bin/sh
PATH=$TOOLS:/bin:/sbin:/usr/bin:/usr/sbin
SERVICES=${2:-"/service"}
exec </dev/null >/dev/null 2>&1
for log_dir in "$SERVICES"/*/log "$SERVICES"/.svscan/log; do
if [ -d "$log_dir" ] \
&& svok "$log_dir" \
&& svstat "$log_dir" | grep -q ": up"
then
svc -ox "$log_dir"
fi
done
svc -dx "$SERVICES"/*
"#;

/// A service that writes numbered lines (paced so that svlogd never
/// rotates within the test), and a last line when told to stop.
const CHATTY_RUN: &str = r#"#!/bin/sh
i=0
trap 'echo "last line after $i"; exit 0' TERM
while :; do i=$((i+1)); echo "line $i"; sleep 0.002; done
"#;

/// Which runsvdir and runsv supervise the tree.
#[derive(Clone, Copy)]
enum Tree {
    /// Our runsvdir starting our runsv.
    Ours,
    /// runit's runsvdir starting our runsv.
    TheirRunsvdir,
    /// runit's runsvdir and runsv: the script works there too.
    Runit,
}

#[test]
fn svscan_rc_stop_loses_no_log_line() {
    svscan_rc_stop(Tree::Ours);
}

#[test]
fn svscan_rc_stop_under_runit_runsvdir_with_our_runsv() {
    svscan_rc_stop(Tree::TheirRunsvdir);
}

#[test]
fn svscan_rc_stop_under_runit() {
    svscan_rc_stop(Tree::Runit);
}

fn svscan_rc_stop(tree: Tree) {
    let Some(r) = reference() else { return };
    let mut sb = Sandbox::new();
    let services = sb.join("service");
    let names = ["alpha", "beta", "gamma"];
    for n in names {
        make_service(&services.join(n), CHATTY_RUN);
        std::fs::create_dir_all(services.join(n).join("log/main")).unwrap();
        write_script(
            services.join(n).join("log/run"),
            &format!("#!/bin/sh\nexec {} ./main\n", r.runit("svlogd").display()),
        );
    }
    // A logged service that is normally down, and one without a log.
    make_service(&services.join("idle"), "#!/bin/sh\nexec sleep 1000\n");
    std::fs::write(services.join("idle/down"), "").unwrap();
    std::fs::create_dir_all(services.join("idle/log/main")).unwrap();
    write_script(
        services.join("idle/log/run"),
        &format!("#!/bin/sh\nexec {} ./main\n", r.runit("svlogd").display()),
    );
    make_service(&services.join("nolog"), "#!/bin/sh\nexec sleep 1000\n");

    // Supervision tree: runsvdir finds runsv on PATH.
    let (runsvdir, runsv_dir) = supervision_tree(r, tree);
    let path = format!("{}:/bin:/usr/bin", runsv_dir.display());
    let mut c = sb.command(&runsvdir);
    c.arg(&services).env("PATH", &path).stdin(Stdio::null());
    let rsd = sb.spawn(c);

    let svok = bin("svok");
    for n in names {
        let dir = services.join(n);
        wait_until("service and log supervised", WAIT, || {
            run_tool(&sb, &svok, &[dir.to_str().unwrap()], sb.path()).code == Some(0)
                && run_tool(&sb, &svok, &[dir.join("log").to_str().unwrap()], sb.path()).code
                    == Some(0)
        });
        wait_until("some lines logged", WAIT, || {
            read(dir.join("log/main/current")).lines().count() > 50
        });
    }
    // The supervisors are the runsv we meant to test.
    let supervisors = wait_for("five runsv", WAIT, || {
        let exes: Vec<PathBuf> = sb
            .live_processes()
            .into_iter()
            .filter(|p| read(format!("/proc/{p}/cmdline")).starts_with("runsv\0"))
            .filter_map(|p| std::fs::read_link(format!("/proc/{p}/exe")).ok())
            .collect();
        (exes.len() == 5).then_some(exes)
    });
    for exe in supervisors {
        assert_eq!(exe, runsv_dir.join("runsv").canonicalize().unwrap());
    }
    // As the script's notes say, the scanner must be gone first.
    kill(rsd, rustix::process::Signal::TERM);
    sb.wait_exit(rsd, WAIT);

    // The script finds our tools through wrappers that note each call.
    let tools = sb.join("tools");
    let trace = sb.join("trace");
    for t in ["svok", "svstat", "svc"] {
        write_script(
            tools.join(t),
            &format!(
                "#!/bin/sh\necho \"{t} $*\" >> {}\nexec {} \"$@\"\n",
                trace.display(),
                bin(t).display()
            ),
        );
    }
    write_script(sb.join("svscan.rc"), SVSCAN_RC);
    let mut c = sb.command("/bin/sh");
    c.arg(sb.join("svscan.rc"))
        .arg("stop")
        .arg(&services)
        .env("TOOLS", &tools);
    let o = sb.run(c);
    assert!(o.status.success(), "svscan.rc: {o:?}");
    let calls = read(&trace);
    let s = services.display();
    for n in ["alpha", "beta", "gamma", "idle"] {
        for call in [
            format!("svok {s}/{n}/log"),
            format!("svstat {s}/{n}/log"),
            format!("svc -ox {s}/{n}/log"),
        ] {
            assert!(calls.lines().any(|l| l == call), "no `{call}` in\n{calls}");
        }
    }
    let all = format!("svc -dx {s}/alpha {s}/beta {s}/gamma {s}/idle {s}/nolog");
    assert_eq!(calls.lines().last(), Some(all.as_str()), "{calls}");

    // Every supervisor and logger exits by itself.
    wait_until("tree gone", WAIT, || sb.live_processes().is_empty());
    for n in names {
        let log = read(services.join(n).join("log/main/current"));
        let mut expect = 1u64;
        let mut last = None;
        for line in log.lines() {
            if let Some(rest) = line.strip_prefix("line ") {
                assert_eq!(rest.parse::<u64>().unwrap(), expect, "{n}: gap in the log");
                expect += 1;
            } else if let Some(rest) = line.strip_prefix("last line after ") {
                last = Some(rest.parse::<u64>().unwrap());
            } else {
                panic!("{n}: unexpected log line {line:?}");
            }
        }
        // TERM can land between the script's `i=$((i+1))` and its echo, so
        // the trap may name one line more than was ever written; any other
        // difference is a lost line.
        let last = last.unwrap_or_else(|| panic!("{n}: the service's last line is not in the log"));
        assert!(
            last == expect - 1 || last == expect,
            "{n}: last line after {last}, but the log ends at line {}",
            expect - 1
        );
    }
    // svok and svstat now see no supervisor anywhere.
    for n in names {
        let dir = services.join(n);
        assert_eq!(
            run_tool(&sb, &svok, &[dir.to_str().unwrap()], sb.path()).code,
            Some(100)
        );
        assert_eq!(
            run_tool(&sb, &svok, &[dir.join("log").to_str().unwrap()], sb.path()).code,
            Some(100)
        );
    }
    sb.assert_no_leaks();
}

/// The runsvdir and the directory holding the runsv it will find on PATH.
fn supervision_tree(r: &Reference, tree: Tree) -> (PathBuf, PathBuf) {
    let ours = || bin("runsv").parent().unwrap().to_path_buf();
    match tree {
        Tree::Ours => (bin("runsvdir"), ours()),
        Tree::TheirRunsvdir => (r.runit("runsvdir"), ours()),
        Tree::Runit => (r.runit("runsvdir"), r.dir.join("runit")),
    }
}
