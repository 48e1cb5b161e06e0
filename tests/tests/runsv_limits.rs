//! runsv under resource limits: a fork refused by RLIMIT_NPROC is retried
//! (runit: "unable to fork, sleeping", again 5 s later) and the service
//! comes up once the limit is raised from outside with `prlimit --pid`.
//!
//! Root ignores RLIMIT_NPROC, so runsv runs as nobody (setpriv); only the
//! soft limit is lowered, so raising it back needs no capability.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use runit_tests::*;

const NOBODY: &str = "65534";

#[test]
fn fork_refused_by_nproc_is_retried_after_the_limit_is_raised() {
    if !need_root("RLIMIT_NPROC binds only non-root users; runsv runs as nobody") {
        return;
    }
    for tool in ["setpriv", "prlimit"] {
        if Command::new(tool).arg("--help").output().is_err() {
            skip(&format!("needs {tool} (util-linux)"));
            return;
        }
    }
    let mut sb = Sandbox::new();
    std::fs::set_permissions(sb.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let svc = sb.join("svc");
    std::fs::create_dir(&svc).unwrap();
    write_script(svc.join("run"), "#!/bin/sh\nexec sleep 1000\n");
    let st = Command::new("chown")
        .args([&format!("{NOBODY}:{NOBODY}"), svc.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(st.success());
    let hard = rustix::process::getrlimit(rustix::process::Resource::Nproc)
        .maximum
        .map_or("unlimited".to_string(), |h| h.to_string());
    let err = sb.join("err");
    let mut c = sb.command("prlimit");
    c.arg(format!("--nproc=1:{hard}"))
        .args([
            "setpriv",
            "--reuid",
            NOBODY,
            "--regid",
            NOBODY,
            "--clear-groups",
        ])
        .arg(bin("runsv"))
        .arg(&svc)
        .stdin(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap());
    let pid = sb.spawn(c);
    wait_until("the fork warning", WAIT, || {
        read(&err).contains(": warning: unable to fork, sleeping: ")
    });
    let raised = Command::new("setpriv")
        .args([
            "--reuid",
            NOBODY,
            "--regid",
            NOBODY,
            "--clear-groups",
            "prlimit",
        ])
        .arg(format!("--pid={pid}"))
        .arg(format!("--nproc=64:{hard}"))
        .status()
        .unwrap();
    assert!(raised.success(), "prlimit --pid failed");
    // The retry comes within runit's 5 s; without a wake-up for it runsv
    // would sleep in poll until some other event.
    wait_until(
        "./run started on the retry",
        Duration::from_secs(12),
        || {
            read(svc.join("supervise/pid"))
                .trim()
                .parse::<u32>()
                .is_ok()
        },
    );
    kill(pid, rustix::process::Signal::TERM);
    let status = sb.wait_exit(pid, WAIT);
    assert_eq!(status.code(), Some(0), "stderr:\n{}", read(&err));
    sb.assert_no_leaks();
}
