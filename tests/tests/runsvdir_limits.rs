//! runsvdir started with almost no descriptors (RLIMIT_NOFILE), then the
//! limit raised from outside (prlimit on its pid): it must warn, stay up
//! without spinning, and start every service once descriptors are there.
//!
//! runit 2.1.2's runsvdir does not recover at 4 or 6: a services
//! directory it could not open is looked at again only when it changes.
//! Ours retries at every check (5 s), and where its self-pipe cannot be
//! made (4 descriptors) it waits for one instead of exiting 100, which
//! would end runit's stage 2.

use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::Duration;

use runit_tests::*;
use rustix::process::{Pid, Resource, Rlimit};

const RUN: &str = "#!/bin/sh\nexec sleep 1000\n";
const SERVICES: [&str; 3] = ["a", "b", "c"];

/// CPU time (user + system, clock ticks) of `pid` so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat; the first after ')' is field 3.
    f.get(11).and_then(|u| u.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn starts_once_raised(soft: u64, warning: &str) {
    let mut sb = Sandbox::new();
    let dir = sb.join("s");
    for s in SERVICES {
        make_service(&dir.join(s), RUN);
    }
    let err = sb.join("err");
    let hard = rustix::process::getrlimit(Resource::Nofile).maximum;
    let mut c = sb.command(bin("runsvdir"));
    c.arg(&dir)
        // Our runsv first, then the system's (./run needs sleep).
        .env("PATH", {
            let mut p = bin_dir().into_os_string();
            p.push(":");
            p.push(std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()));
            p
        })
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap());
    // SAFETY: setrlimit is a plain system call, safe between fork and exec.
    unsafe {
        c.pre_exec(move || {
            let l = Rlimit {
                current: Some(soft),
                maximum: hard,
            };
            rustix::process::setrlimit(Resource::Nofile, l)?;
            Ok(())
        });
    }
    let pid = sb.spawn(c);
    wait_until("the warning", WAIT, || read(&err).contains(warning));
    // Waiting, not spinning, and nothing started: over a second it uses
    // (far) less than a tenth of a second of CPU time.
    let t0 = cpu_ticks(pid);
    assert_stays(
        "runsvdir alive, no service up",
        Duration::from_secs(1),
        || alive(pid) && SERVICES.iter().all(|s| status_of(&dir.join(s)).is_none()),
    );
    assert!(
        cpu_ticks(pid) - t0 < 10,
        "runsvdir busy while it cannot work"
    );
    rustix::process::prlimit(
        Pid::from_raw(pid as i32),
        Resource::Nofile,
        Rlimit {
            current: Some(1024.min(hard.unwrap_or(1024))),
            maximum: hard,
        },
    )
    .expect("prlimit --pid");
    for s in SERVICES {
        wait_status(&dir.join(s), "service up once raised", |st| st.pid != 0);
    }
    kill(pid, rustix::process::Signal::HUP);
    let st = sb.wait_exit(pid, WAIT);
    assert_eq!(st.code(), Some(111), "HUP: runsvdir exits 111");
    sb.assert_no_leaks();
}

#[test]
fn too_few_descriptors_for_the_self_pipe_waits_and_recovers() {
    starts_once_raised(4, ": warning: unable to install signal handlers, pausing: ");
}

#[test]
fn services_directory_not_opened_is_retried_and_recovers() {
    starts_once_raised(6, ": warning: unable to open directory ");
}
