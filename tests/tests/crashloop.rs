//! Exit records (supervise/exits, every service) and crash-loop control
//! (restart-delay-max, restart-limit, finish-125: opt-in), end to end.
//! Timings are read from the records runsv writes (its own stamps of each
//! start and end), waited for with deadlines; services without the files
//! are compared with runit 2.1.2's runsv byte for byte.

use std::os::fd::OwnedFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::time::{Duration, Instant};

use runit_tests::*;
use supervise_proto::exits::{Ending, ExitLog, FLAG_FINISH_125};
use supervise_proto::svdir::send_control;
use supervise_proto::xstatus::XStatus;
use supervise_proto::{RunState, Tai64n};

fn exits(dir: &Path) -> Option<ExitLog> {
    ExitLog::decode(&std::fs::read(dir.join("supervise/exits")).ok()?).ok()
}

fn xstatus(dir: &Path) -> Option<XStatus> {
    std::fs::read(dir.join("supervise/xstatus"))
        .ok()
        .map(|b| XStatus::decode(&b))
}

/// Waits until at least `n` deaths are recorded.
fn wait_deaths(dir: &Path, n: u64) -> ExitLog {
    wait_for(&format!("{n} deaths of {}", dir.display()), WAIT, || {
        exits(dir).filter(|l| l.total >= n)
    })
}

fn secs(t: Tai64n) -> f64 {
    t.unix_secs() as f64 + f64::from(t.nanos) / 1e9
}

/// Seconds from the end of record `i` to the start of record `i + 1`:
/// the pause runsv made before starting ./run again.
fn pauses(l: &ExitLog) -> Vec<f64> {
    l.records
        .windows(2)
        .map(|w| secs(w[1].started) - secs(w[0].ended))
        .collect()
}

fn sv_status(sv: &Path, dir: &Path) -> String {
    let out = std::process::Command::new(sv)
        .arg("status")
        .arg(dir)
        .output()
        .unwrap();
    normalize_sv(&String::from_utf8_lossy(&out.stdout))
}

/// `sv -o FIELDS status DIR`: (the service's line, exit code).
fn sv_fields(dir: &Path, fields: &str) -> (String, Option<i32>) {
    let out = std::process::Command::new(bin("sv"))
        .args(["-o", fields, "status"])
        .arg(dir)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
    )
}

/// (inode, mtime, ctime) of a file: any replacement or write changes one.
fn identity(p: &Path) -> (u64, i64, i64, i64, i64) {
    let m = std::fs::metadata(p).unwrap();
    (
        m.ino(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec(),
    )
}

#[test]
fn exit_records_of_an_exit_and_a_signal_for_the_service_and_its_log() {
    let mut sb = Sandbox::new();
    let d = sb.join("svc");
    make_service(
        &d,
        "#!/bin/sh\nif [ ! -e ran ]; then : > ran; exit 3; fi\nexec sleep 1000\n",
    );
    write_script(
        d.join("log/run"),
        "#!/bin/sh\nif [ ! -e ran ]; then : > ran; exit 5; fi\nexec cat > /dev/null\n",
    );
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    let l = wait_deaths(&d, 1);
    assert_eq!(l.records[0].ending(), Ending::Exited(3));
    // The record is written before the status: wait for the second run.
    let first_end = l.records[0].ended;
    wait_status(&d, "the second run", |s| {
        s.pid != 0 && s.state == RunState::Run && s.stamp > first_end
    });
    let spid = wait_running(&d);
    let started = status_of(&d).unwrap().stamp;
    kill(spid, rustix::process::Signal::KILL);
    let l = wait_deaths(&d, 2);
    assert_eq!(l.total, 2);
    assert_eq!(l.records.len(), 2);
    let r = l.records[1];
    assert_eq!(r.ending(), Ending::Signaled(9));
    assert_eq!(r.started, started, "the start stamp of that run's status");
    assert!(r.ended >= r.started);
    assert_eq!(r.flags, 0);
    let lg = wait_deaths(&d.join("log"), 1);
    assert_eq!(lg.records[0].ending(), Ending::Exited(5));
    for f in ["supervise/exits", "log/supervise/exits"] {
        let m = std::fs::metadata(d.join(f)).unwrap();
        assert_eq!(m.mode() & 0o7777, 0o644, "{f}");
    }
    // No crash-loop file, so no extended record.
    assert!(xstatus(&d).is_none());
    stop_runsv(&mut sb, pid, &d).expect("runsv exits on x");
    sb.assert_no_leaks();
}

/// inotify events `IN_MOVED_TO` of file `name` in `dir` (one per rename
/// onto it), read without blocking.
fn renames_onto(fd: &OwnedFd, name: &str) -> usize {
    use rustix::fs::inotify::Reader;
    let mut buf = [std::mem::MaybeUninit::uninit(); 8192];
    let mut r = Reader::new(fd, &mut buf);
    let mut n = 0;
    while let Ok(e) = r.next() {
        if e.file_name()
            .is_some_and(|f| f.to_bytes() == name.as_bytes())
        {
            n += 1;
        }
    }
    n
}

#[test]
fn crash_loop_records_are_bounded_and_each_death_replaces_the_file_once() {
    use rustix::fs::inotify;
    let mut sb = Sandbox::new();
    let d = sb.join("svc");
    // The first run waits for `go`; then every run exits at once with its
    // number as exit code.
    make_service(
        &d,
        "#!/bin/sh\nwhile [ ! -e go ]; do sleep 0.02; done\n\
         n=$(( $(cat n 2>/dev/null || echo 0) + 1 ))\necho $n > n\nexit $n\n",
    );
    std::fs::write(d.join("max-death-tally"), "3\n").unwrap();
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    wait_running(&d);
    let ino =
        inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK).unwrap();
    inotify::add_watch(&ino, d.join("supervise"), inotify::WatchFlags::MOVED_TO).unwrap();
    std::fs::write(d.join("go"), "").unwrap();
    wait_deaths(&d, 5);
    send_control(&d, b"d").unwrap();
    wait_status(&d, "down, wanted down", |s| s.pid == 0 && s.wants_down());
    let l = exits(&d).unwrap();
    let t = l.total;
    assert!(t >= 5, "{l:?}");
    assert_eq!(l.records.len(), 3, "max-death-tally keeps 3");
    let codes: Vec<_> = l.records.iter().map(|r| r.ending()).collect();
    let want: Vec<_> = (t - 2..=t).map(|c| Ending::Exited(c as u8)).collect();
    assert_eq!(codes, want, "the newest kept, oldest first");
    assert_eq!(
        renames_onto(&ino, "exits") as u64,
        t,
        "one replacement per death"
    );
    stop_runsv(&mut sb, pid, &d).unwrap();
    sb.assert_no_leaks();
}

#[test]
fn restart_delay_doubles_to_its_maximum_and_resets_after_a_long_run() {
    let mut sb = Sandbox::new();
    let d = sb.join("svc");
    make_service(
        &d,
        "#!/bin/sh\nif [ -e long ]; then rm long; sleep 2.3; fi\nexit 1\n",
    );
    std::fs::write(d.join("restart-delay-max"), "2000\n").unwrap();
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    let l = wait_deaths(&d, 3);
    // While the third pause runs, the extended record says so.
    let x = xstatus(&d).expect("an opted-in service has supervise/xstatus");
    assert_eq!(x.restart_delay_ms, Some(2000));
    let ended = l.records[2].ended;
    let at = x.restart_at.expect("restart-at");
    assert!(
        (secs(at) - secs(ended) - 2.0).abs() < 0.01,
        "{at:?} {ended:?}"
    );
    assert!(status_of(&d).unwrap().wants_up());
    // sv -o reads the same pause.
    let fields = sv_fields(&d, "state,restart_delay_ms,deaths_total");
    assert_eq!(fields.0, "down 2000 3\n");
    // The fourth run lasts longer than the maximum: the series starts over.
    std::fs::write(d.join("long"), "").unwrap();
    let l = wait_deaths(&d, 6);
    let p = pauses(&l);
    let want = [1.0, 2.0, 2.0, 0.0, 1.0];
    for (i, (got, want)) in p.iter().zip(want).enumerate() {
        assert!(
            *got >= want - 0.005 && *got < want + 0.5,
            "pause {i}: {got:.3}s, expected {want}s: {p:?}"
        );
    }
    assert!(l.records[3].ran_secs() >= 2.3);
    send_control(&d, b"d").unwrap();
    stop_runsv(&mut sb, pid, &d).unwrap();
    sb.assert_no_leaks();
}

#[test]
fn commands_are_answered_during_a_delay() {
    let mut sb = Sandbox::new();
    let d = sb.join("svc");
    make_service(&d, "#!/bin/sh\nexit 1\n");
    std::fs::write(d.join("restart-delay-max"), "60000\n").unwrap();
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    // After the second death a 2 s pause runs; `u` ends it (and starts
    // the series over). runit's own rule, a second after a death of a run
    // shorter than that, still holds: runit sleeps it before reading `u`.
    wait_deaths(&d, 2);
    send_control(&d, b"u").unwrap();
    let l = wait_deaths(&d, 3);
    let p = pauses(&l);
    assert!(
        (0.995..1.5).contains(&p[1]),
        "u during the 2 s pause: runit's 1 s only: {p:?}"
    );
    // The pause after that death is 1 s again; `d` cancels it.
    send_control(&d, b"d").unwrap();
    wait_status(&d, "wanted down", |s| s.pid == 0 && s.wants_down());
    wait_until("restart-at gone", WAIT, || {
        xstatus(&d).is_some_and(|x| x.restart_at.is_none())
    });
    let ended = secs(l.records[2].ended);
    // Past the moment the cancelled restart was due: nothing started.
    while secs(Tai64n::now()) < ended + 1.5 {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(exits(&d).unwrap().total, 3);
    assert_eq!(status_of(&d).unwrap().pid, 0);
    let asked = Instant::now();
    send_control(&d, b"u").unwrap();
    wait_deaths(&d, 4);
    assert!(asked.elapsed() < Duration::from_secs(1), "u starts at once");
    send_control(&d, b"d").unwrap();
    stop_runsv(&mut sb, pid, &d).unwrap();
    sb.assert_no_leaks();
}

#[test]
fn restart_limit_gives_up_until_sv_up() {
    let mut sb = Sandbox::new();
    let d = sb.join("svc");
    make_service(&d, "#!/bin/sh\nexit 1\n");
    std::fs::write(d.join("restart-limit"), "3 60\n").unwrap();
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    wait_deaths(&d, 3);
    wait_until("failed mark", WAIT, || {
        xstatus(&d).is_some_and(|x| x.failed.is_some())
    });
    // supervise/xstatus is written first, then the status.
    wait_status(&d, "down, wanted down", |s| {
        s.pid == 0 && s.state == RunState::Down && s.wants_down()
    });
    let dir = d.display();
    assert_eq!(
        sv_status(&bin("sv"), &d),
        format!("down: {dir}: Ns, normally up, failed\n")
    );
    // sv -o: the failed state and its exit code.
    assert_eq!(
        sv_fields(&d, "state,want,last_exit_code,deaths_total"),
        ("failed down 1 3\n".to_string(), Some(4))
    );
    if let Some(r) = reference() {
        // runit's sv reads the same status: down, wanted down.
        assert_eq!(
            sv_status(&r.runit("sv"), &d),
            format!("down: {dir}: Ns, normally up\n")
        );
    }
    // It stays down: a second after the last death, still three.
    let last = secs(exits(&d).unwrap().records[2].ended);
    while secs(Tai64n::now()) < last + 1.5 {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(exits(&d).unwrap().total, 3);
    // sv up starts it again, with the mark gone and a fresh count.
    let out = sb.run({
        let mut c = sb.command(bin("sv"));
        c.arg("up").arg(&d);
        c
    });
    assert!(out.status.success(), "{out:?}");
    wait_deaths(&d, 4);
    wait_until("failed mark cleared", WAIT, || {
        xstatus(&d).is_some_and(|x| x.failed.is_none())
    });
    wait_deaths(&d, 6);
    wait_until("failed again", WAIT, || {
        xstatus(&d).is_some_and(|x| x.failed.is_some())
    });
    assert_eq!(exits(&d).unwrap().total, 6);
    stop_runsv(&mut sb, pid, &d).unwrap();
    // A new runsv knows nothing of that give-up: the mark left on disk is
    // gone before it answers, and its exit records start over.
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    assert_eq!(xstatus(&d).map(|x| x.failed), Some(None));
    assert!(exits(&d).unwrap().total < 6);
    stop_runsv(&mut sb, pid, &d).unwrap();
    sb.assert_no_leaks();
}

#[test]
fn finish_125_means_do_not_restart_with_the_flag_file_only() {
    let mut sb = Sandbox::new();
    let mut suites = vec![("ours", bin("runsv"), true), ("ours", bin("runsv"), false)];
    if let Some(r) = reference() {
        suites.push(("runit", r.runit("runsv"), false));
    }
    for (i, (name, runsv, flag)) in suites.into_iter().enumerate() {
        let d = sb.join(format!("svc{i}"));
        make_service(&d, "#!/bin/sh\necho x >> runs\nexit 0\n");
        write_script(d.join("finish"), "#!/bin/sh\nexit 125\n");
        if flag {
            std::fs::write(d.join("finish-125"), "").unwrap();
        }
        let pid = start_runsv(&mut sb, &runsv, &d);
        if flag {
            wait_until("failed mark", WAIT, || {
                xstatus(&d).is_some_and(|x| x.failed.is_some())
            });
            wait_status(&d, "down, wanted down", |s| s.pid == 0 && s.wants_down());
            let l = exits(&d).unwrap();
            assert_eq!((l.total, l.records[0].flags), (1, FLAG_FINISH_125));
            let t = Instant::now();
            while t.elapsed() < Duration::from_millis(1500) {
                std::thread::sleep(Duration::from_millis(50));
            }
            assert_eq!(read(d.join("runs")).lines().count(), 1, "not restarted");
            // sv up: started again (and down again after its ./finish).
            send_control(&d, b"u").unwrap();
            wait_until("second run", WAIT, || {
                read(d.join("runs")).lines().count() == 2
            });
            wait_deaths(&d, 2);
        } else {
            // runit's meaning: the exit code of ./finish is not looked at.
            wait_until(&format!("{name}: restarted"), WAIT, || {
                read(d.join("runs")).lines().count() >= 2
            });
            send_control(&d, b"d").unwrap();
        }
        stop_runsv(&mut sb, pid, &d).unwrap();
    }
    sb.assert_no_leaks();
}

/// Names, types and modes in a supervise directory, `exits` left out.
fn runit_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name() != "exits")
        .map(|e| {
            let m = e.metadata().unwrap();
            let kind = if m.file_type().is_fifo() {
                "fifo"
            } else {
                "file"
            };
            format!("{:?} {kind} {:o}", e.file_name(), m.mode() & 0o7777)
        })
        .collect();
    v.sort();
    v
}

/// One crash loop as a runsv without crash-loop files shows it: the
/// files of the held-down moment, runit's sv's words for it, the pauses.
#[derive(Debug, PartialEq)]
struct Loop {
    files: Vec<String>,
    status: String,
    stat: String,
    pid: String,
    sv: String,
}

fn crash_loop(sb: &mut Sandbox, runsv: &Path, sv: &Path, name: &str) -> (Loop, Vec<f64>) {
    let d = sb.join(name);
    make_service(&d, "#!/bin/sh\ndate +%s.%N >> starts\nexit 2\n");
    let pid = start_runsv(sb, runsv, &d);
    wait_until("three starts", WAIT, || {
        read(d.join("starts")).lines().count() >= 3
    });
    // runit holds a service that ran less than a second down for one:
    // catch that moment (the status read last confirms it held).
    let held = wait_for("the held-down moment", WAIT, || {
        let before = status_of(&d)?;
        if before.pid != 0 {
            return None;
        }
        let l = Loop {
            files: runit_files(&d.join("supervise")),
            status: masked_status(&d),
            stat: read(d.join("supervise/stat")),
            pid: read(d.join("supervise/pid")),
            sv: sv_status(sv, &d).replace(&d.display().to_string(), "DIR"),
        };
        // runit replaces pid, stat and status one after another: a
        // snapshot taken while it is between them (pid already the new
        // run's, status still the dead one's) is no held-down moment.
        // Held down, pid is empty and stat says down in both suites.
        let settled = l.pid.is_empty() && l.stat == "down\n";
        (settled && status_of(&d)? == before).then_some(l)
    });
    let starts: Vec<f64> = read(d.join("starts"))
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    let gaps = starts.windows(2).map(|w| w[1] - w[0]).collect();
    send_control(&d, b"d").unwrap();
    stop_runsv(sb, pid, &d).unwrap();
    (held, gaps)
}

#[test]
fn without_the_files_a_crash_loop_is_runits_byte_for_byte() {
    let Some(r) = reference() else { return };
    let mut sb = Sandbox::new();
    let theirs = crash_loop(&mut sb, &r.runit("runsv"), &r.runit("sv"), "theirs");
    // Our runsv, read by runit's sv.
    let ours = crash_loop(&mut sb, &bin("runsv"), &r.runit("sv"), "ours");
    assert_eq!(ours.0, theirs.0);
    assert_eq!(ours.0.status, "pid=0 paused=0 want=u term=0 state=0");
    for (who, gaps) in [("ours", &ours.1), ("runit", &theirs.1)] {
        for g in gaps {
            assert!(
                (0.95..1.5).contains(g),
                "{who}: restarted after {g:.3}s: {gaps:?}"
            );
        }
    }
    // No crash-loop file: no extended record either.
    assert!(!sb.join("ours/supervise/xstatus").exists());
    sb.assert_no_leaks();
}

#[test]
fn no_write_of_exits_while_nothing_dies() {
    let mut sb = Sandbox::new();
    let d = sb.join("svc");
    make_service(&d, "#!/bin/sh\nexec sleep 1000\n");
    write_script(d.join("log/run"), "#!/bin/sh\nexec cat > /dev/null\n");
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    wait_running(&d);
    wait_running(&d.join("log"));
    let files = [d.join("supervise/exits"), d.join("log/supervise/exits")];
    for f in &files {
        let l = ExitLog::decode(&std::fs::read(f).unwrap()).unwrap();
        assert_eq!(l, ExitLog::default(), "{}", f.display());
    }
    let before: Vec<_> = files.iter().map(|f| identity(f)).collect();
    // Commands that rewrite the status but kill nothing.
    for (byte, paused) in [(b"p", true), (b"c", false)] {
        send_control(&d, byte).unwrap();
        send_control(&d.join("log"), byte).unwrap();
        wait_status(&d, "pause flag", |s| s.paused == paused);
        wait_status(&d.join("log"), "log pause flag", |s| s.paused == paused);
    }
    let after: Vec<_> = files.iter().map(|f| identity(f)).collect();
    assert_eq!(before, after, "supervise/exits untouched");
    stop_runsv(&mut sb, pid, &d).unwrap();
    // Going down at exit is a death: recorded once.
    assert_eq!(exits(&d).unwrap().total, 1);
    sb.assert_no_leaks();
}
