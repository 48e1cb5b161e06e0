//! `sv -o json|FIELD,...|prom[:FILE] status`: the machine-readable status.
//! Every state from fixture directories (a status record, xstatus and exit
//! records written with supervise-proto's encoders, and the test itself
//! holding supervise/ok open as runsv would), then the same forms against
//! live runsv processes. JSON is checked with Python's json module and the
//! exposition with Prometheus' own parser (prometheus_client), never by
//! matching text alone.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use runit_tests::*;
use supervise_proto::exits::{ExitLog, ExitRecord};
use supervise_proto::xstatus::XStatus;
use supervise_proto::{RunState, Status, Tai64n, Want};

/// Flattens each JSON line into `key=json-value` lines (`log.` before the
/// log's keys), one `---` line before each object. json.loads is strict:
/// a line that is not exactly one JSON value fails the script.
const FLATTEN: &str = r#"
import json, sys
for line in sys.stdin:
    obj = json.loads(line)
    assert isinstance(obj, dict), line
    print("---")
    def walk(prefix, o):
        for k, v in o.items():
            if isinstance(v, dict):
                walk(prefix + k + ".", v)
            else:
                print(prefix + k + "=" + json.dumps(v))
    walk("", obj)
"#;

/// One parsed object: keys in their order, values as JSON text.
type Obj = Vec<(String, String)>;

fn python(script: &str, input: &[u8]) -> String {
    let mut c = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed for these tests");
    c.stdin.take().unwrap().write_all(input).unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python3 refused the input:\n{}\n{}",
        String::from_utf8_lossy(input),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn parse_json_lines(text: &[u8]) -> Vec<Obj> {
    let flat = python(FLATTEN, text);
    let mut objs: Vec<Obj> = Vec::new();
    for line in flat.lines() {
        if line == "---" {
            objs.push(Vec::new());
        } else {
            let (k, v) = line.split_once('=').unwrap();
            objs.last_mut().unwrap().push((k.into(), v.into()));
        }
    }
    objs
}

fn get<'a>(o: &'a Obj, key: &str) -> &'a str {
    o.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no key {key} in {o:?}"))
}

/// Asserts the listed keys have these JSON values.
fn check(o: &Obj, expect: &[(&str, &str)]) {
    for (k, v) in expect {
        assert_eq!(get(o, k), *v, "{k} in {o:?}");
    }
}

/// The fields every part has, in order (sv(8) documents the same list).
const PART_KEYS: &[&str] = &[
    "state",
    "up",
    "want",
    "normally_up",
    "paused",
    "got_term",
    "pid",
    "pgid",
    "since",
    "since_tai64n",
    "seconds",
    "notify",
    "ready",
    "ready_since",
    "ready_since_tai64n",
    "failed_since",
    "restart_at",
    "restart_delay_ms",
    "last_exit_code",
    "last_signal",
    "last_ended",
    "last_ran_ms",
    "deaths_minute",
    "deaths_total",
    "kill_at",
    "kill_at_tai64n",
    "finish_kill_at",
    "cgroup",
    "settings",
    "error",
];

struct Out {
    stdout: Vec<u8>,
    stderr: String,
    code: i32,
}

fn sv_in(sb: &Sandbox, svdir: &Path, args: &[&str]) -> Out {
    let mut c = sb.command(bin("sv"));
    c.args(args).env("SVDIR", svdir);
    let o = sb.run(c);
    Out {
        stdout: o.stdout,
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        code: o.status.code().unwrap_or(-1),
    }
}

fn unix_now() -> u64 {
    Tai64n::now().unix_secs()
}

fn t(secs: u64) -> Tai64n {
    Tai64n::from_unix(secs, 123_000_500)
}

const STARTED: u64 = 1_700_000_000;

fn tai_text(secs: u64) -> String {
    format!("\"{}\"", t(secs))
}

/// A service directory whose supervise/ files the test writes, with the
/// test holding supervise/ok open for reading, as runsv does.
struct Fixture {
    _ok: Option<OwnedFd>,
}

#[derive(Default)]
struct Spec {
    status: Option<Status>,
    down_file: bool,
    x: Option<XStatus>,
    exits: Option<ExitLog>,
    /// No reader on supervise/ok: runsv gone.
    no_supervisor: bool,
    raw_status: Option<Vec<u8>>,
}

fn fixture_at(dir: &Path, spec: Spec) -> Fixture {
    let sup = dir.join("supervise");
    std::fs::create_dir_all(&sup).unwrap();
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        sup.join("ok"),
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .unwrap();
    let ok = (!spec.no_supervisor).then(|| {
        rustix::fs::open(
            sup.join("ok"),
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::NONBLOCK,
            rustix::fs::Mode::empty(),
        )
        .unwrap()
    });
    if let Some(st) = spec.status {
        std::fs::write(sup.join("status"), st.encode()).unwrap();
    }
    if let Some(raw) = spec.raw_status {
        std::fs::write(sup.join("status"), raw).unwrap();
    }
    if spec.down_file {
        std::fs::write(dir.join("down"), "").unwrap();
    }
    if let Some(x) = spec.x {
        std::fs::write(sup.join("xstatus"), x.encode()).unwrap();
    }
    if let Some(e) = spec.exits {
        std::fs::write(sup.join("exits"), e.encode()).unwrap();
    }
    Fixture { _ok: ok }
}

fn status(pid: u32, paused: bool, want: Want, term: bool, state: RunState) -> Status {
    Status::new(t(STARTED), pid, paused, want, term, state)
}

fn me() -> u32 {
    std::process::id()
}

fn my_pgid() -> String {
    rustix::process::getpgrp().as_raw_nonzero().to_string()
}

/// Exit records: one exited 3 an hour ago, then one killed by signal 9
/// ten seconds ago after running 1.5 s; 7 deaths in all.
fn two_deaths(now: u64) -> ExitLog {
    let rec = |end: u64, ran_ms: u64, w: i32| {
        let ended = Tai64n::from_unix(end, 500_000_500);
        let started_ns = end * 1_000_000_000 + 500_000_500 - ran_ms * 1_000_000;
        ExitRecord {
            ended,
            started: Tai64n::from_unix(
                started_ns / 1_000_000_000,
                (started_ns % 1_000_000_000) as u32,
            ),
            wstatus: w,
            flags: 0,
        }
    };
    let mut l = ExitLog::default();
    l.push(rec(now - 3600, 20_000, 3 << 8), 100);
    l.push(rec(now - 10, 1_500, 9), 100);
    l.total = 7;
    l
}

/// The fixture services, one per state. Returns the root ($SVDIR).
fn fixtures(sb: &Sandbox, now: u64) -> (PathBuf, Vec<Fixture>) {
    let root = sb.join("service");
    let specs = vec![
        // run: readiness notification, ready in this run, pgid from xstatus.
        (
            "run",
            Spec {
                status: Some(status(me(), false, Want::Up, false, RunState::Run)),
                x: Some(XStatus {
                    started: Some(t(STARTED)),
                    notify: true,
                    ready: Some(t(STARTED + 2)),
                    pgid: Some(4242),
                    ..XStatus::default()
                }),
                exits: Some(two_deaths(now)),
                ..Spec::default()
            },
        ),
        // A log service beside it: running, no notification.
        (
            "run/log",
            Spec {
                status: Some(status(me(), false, Want::Up, false, RunState::Run)),
                ..Spec::default()
            },
        ),
        // run, notification configured, but the record is from an earlier
        // run: not ready yet.
        (
            "starting",
            Spec {
                status: Some(status(me(), false, Want::Up, false, RunState::Run)),
                x: Some(XStatus {
                    started: Some(t(STARTED - 100)),
                    notify: true,
                    ready: Some(t(STARTED - 98)),
                    pgid: Some(4242),
                    ..XStatus::default()
                }),
                ..Spec::default()
            },
        ),
        (
            "finish",
            Spec {
                status: Some(status(me(), false, Want::Up, false, RunState::Finish)),
                exits: Some(two_deaths(now)),
                ..Spec::default()
            },
        ),
        // Recorded a moment before ./finish starts: no pid yet.
        (
            "finishing",
            Spec {
                status: Some(status(0, false, Want::Up, false, RunState::Finish)),
                ..Spec::default()
            },
        ),
        (
            "paused",
            Spec {
                status: Some(status(me(), true, Want::Up, false, RunState::Run)),
                ..Spec::default()
            },
        ),
        (
            "wantdown",
            Spec {
                status: Some(status(me(), false, Want::Down, true, RunState::Run)),
                ..Spec::default()
            },
        ),
        (
            "normallydown",
            Spec {
                status: Some(status(me(), false, Want::Up, false, RunState::Run)),
                down_file: true,
                ..Spec::default()
            },
        ),
        (
            "down",
            Spec {
                status: Some(status(0, false, Want::Down, false, RunState::Down)),
                down_file: true,
                ..Spec::default()
            },
        ),
        // Down, wanted up, a delayed restart pending (crash-loop backoff).
        (
            "backoff",
            Spec {
                status: Some(status(0, false, Want::Up, false, RunState::Down)),
                x: Some(XStatus {
                    started: Some(t(STARTED - 1)),
                    restart_at: Some(t(STARTED + 4)),
                    restart_delay_ms: Some(4000),
                    ..XStatus::default()
                }),
                exits: Some(two_deaths(now)),
                ..Spec::default()
            },
        ),
        (
            "failed",
            Spec {
                status: Some(status(0, false, Want::Up, false, RunState::Down)),
                x: Some(XStatus {
                    failed: Some(t(STARTED + 1)),
                    restart_delay_ms: Some(60_000),
                    ..XStatus::default()
                }),
                exits: Some(two_deaths(now)),
                ..Spec::default()
            },
        ),
        (
            "gone",
            Spec {
                status: Some(status(0, false, Want::Up, false, RunState::Down)),
                no_supervisor: true,
                ..Spec::default()
            },
        ),
        (
            "damaged",
            Spec {
                raw_status: Some(vec![0u8; 19]),
                ..Spec::default()
            },
        ),
    ];
    std::fs::create_dir_all(root.join("never")).unwrap();
    let v = specs
        .into_iter()
        .map(|(name, spec)| fixture_at(&root.join(name), spec))
        .collect();
    (root, v)
}

const NAMES: &[&str] = &[
    "run",
    "starting",
    "finish",
    "finishing",
    "paused",
    "wantdown",
    "normallydown",
    "down",
    "backoff",
    "failed",
    "gone",
    "never",
    "missing",
    "damaged",
];

#[test]
fn json_for_every_state() {
    let sb = Sandbox::new();
    let now = unix_now();
    let (root, _fx) = fixtures(&sb, now);
    let mut args = vec!["-o", "json", "status"];
    args.extend_from_slice(NAMES);
    let out = sv_in(&sb, &root, &args);
    assert_eq!(out.stderr, "");
    let objs = parse_json_lines(&out.stdout);
    assert_eq!(objs.len(), NAMES.len());
    let by: BTreeMap<&str, &Obj> = NAMES.iter().copied().zip(objs.iter()).collect();
    for (name, o) in &by {
        assert_eq!(get(o, "service"), format!("\"{name}\""));
        let keys: Vec<&str> = o
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| *k != "service" && !k.starts_with("log"))
            .collect();
        assert_eq!(keys, PART_KEYS, "{name}");
    }
    let since = STARTED.to_string();
    let me = me().to_string();
    let deaths = [
        ("last_exit_code", "null"),
        ("last_signal", "9"),
        ("last_ran_ms", "1500"),
        ("deaths_minute", "1"),
        ("deaths_total", "7"),
    ];
    let ended = (now - 10).to_string();
    check(
        by["run"],
        &[
            ("state", "\"run\""),
            ("up", "true"),
            ("want", "\"up\""),
            ("normally_up", "true"),
            ("paused", "false"),
            ("got_term", "false"),
            ("pid", &me),
            ("pgid", "4242"),
            ("since", &since),
            ("since_tai64n", &tai_text(STARTED)),
            ("notify", "true"),
            ("ready", "true"),
            ("ready_since", &(STARTED + 2).to_string()),
            ("ready_since_tai64n", &tai_text(STARTED + 2)),
            ("failed_since", "null"),
            ("restart_at", "null"),
            ("restart_delay_ms", "null"),
            ("last_ended", &ended),
            ("error", "null"),
            ("log.state", "\"run\""),
            ("log.pid", &me),
            ("log.pgid", &my_pgid()),
            ("log.notify", "false"),
            ("log.ready", "true"),
            ("log.ready_since", &since),
            ("log.deaths_total", "null"),
            ("log.last_exit_code", "null"),
            ("log.error", "null"),
        ],
    );
    check(by["run"], &deaths);
    let seconds: u64 = get(by["run"], "seconds").parse().unwrap();
    assert!(seconds >= now - STARTED && seconds < now - STARTED + 60);
    check(
        by["starting"],
        &[
            ("state", "\"run\""),
            ("notify", "true"),
            ("ready", "false"),
            ("ready_since", "null"),
            ("pgid", &my_pgid()),
            ("deaths_total", "null"),
            ("log", "null"),
        ],
    );
    check(
        by["finish"],
        &[
            ("state", "\"finish\""),
            ("up", "false"),
            ("pid", &me),
            ("ready", "false"),
        ],
    );
    check(by["finish"], &deaths);
    check(
        by["finishing"],
        &[("state", "\"finish\""), ("pid", "null"), ("up", "false")],
    );
    check(
        by["paused"],
        &[("state", "\"run\""), ("paused", "true"), ("want", "\"up\"")],
    );
    check(
        by["wantdown"],
        &[
            ("state", "\"run\""),
            ("want", "\"down\""),
            ("got_term", "true"),
        ],
    );
    check(
        by["normallydown"],
        &[("state", "\"run\""), ("normally_up", "false")],
    );
    check(
        by["down"],
        &[
            ("state", "\"down\""),
            ("up", "false"),
            ("want", "\"down\""),
            ("normally_up", "false"),
            ("pid", "null"),
            ("pgid", "null"),
            ("since", &since),
            ("ready", "false"),
            ("restart_at", "null"),
            ("last_exit_code", "null"),
        ],
    );
    check(
        by["backoff"],
        &[
            ("state", "\"down\""),
            ("want", "\"up\""),
            ("restart_at", &(STARTED + 4).to_string()),
            ("restart_delay_ms", "4000"),
            ("failed_since", "null"),
        ],
    );
    check(by["backoff"], &deaths);
    check(
        by["failed"],
        &[
            ("state", "\"failed\""),
            ("up", "false"),
            ("failed_since", &(STARTED + 1).to_string()),
            ("restart_at", "null"),
            ("restart_delay_ms", "60000"),
        ],
    );
    check(by["failed"], &deaths);
    let unknown: Vec<(&str, &str)> = PART_KEYS[1..PART_KEYS.len() - 1]
        .iter()
        .map(|k| (*k, "null"))
        .collect();
    for (name, state, error) in [
        ("gone", "unsupervised", "runsv not running"),
        (
            "never",
            "unsupervised",
            "unable to open supervise/ok: file does not exist",
        ),
        (
            "missing",
            "missing",
            "unable to change to service directory: file does not exist",
        ),
        (
            "damaged",
            "unknown",
            "unable to read supervise/status: bad format",
        ),
    ] {
        check(
            by[name],
            &[
                ("state", &format!("\"{state}\"")),
                ("error", &format!("\"{error}\"")),
            ],
        );
        check(by[name], &unknown);
    }
    // The worst state decides the exit code.
    assert_eq!(out.code, 7);
}

/// sv(8) names every field, every state and every metric.
#[test]
fn the_manual_names_every_field_and_metric() {
    let man = std::fs::read_to_string(workspace_root().join("docs/man/sv.8")).unwrap();
    let words: std::collections::HashSet<&str> = man
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    let sb = Sandbox::new();
    let (root, _fx) = fixtures(&sb, unix_now());
    let mut args = vec!["-o", "prom", "status"];
    args.extend_from_slice(NAMES);
    let prom = String::from_utf8(sv_in(&sb, &root, &args).stdout).unwrap();
    let metrics = prom
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap());
    let states = [
        "run",
        "finish",
        "down",
        "failed",
        "unsupervised",
        "missing",
        "unknown",
    ];
    for name in PART_KEYS.iter().copied().chain(states).chain(metrics) {
        assert!(words.contains(name), "sv(8) does not name {name}");
    }
}

#[test]
fn exit_codes_tell_the_states_apart() {
    let sb = Sandbox::new();
    let (root, _fx) = fixtures(&sb, unix_now());
    for (names, code) in [
        (&["run", "paused", "wantdown", "normallydown"][..], 0),
        (&["run", "down"][..], 3),
        (&["finish"][..], 3),
        (&["backoff", "run"][..], 3),
        (&["failed", "down"][..], 4),
        (&["gone", "failed"][..], 5),
        (&["never"][..], 5),
        (&["missing", "gone"][..], 6),
        (&["damaged", "missing"][..], 7),
    ] {
        for form in ["json", "state"] {
            let mut args = vec!["-o", form, "status"];
            args.extend_from_slice(names);
            let out = sv_in(&sb, &root, &args);
            assert_eq!(out.code, code, "{form} {names:?}");
            assert_eq!(out.stderr, "");
        }
    }
}

#[test]
fn field_form_is_values_in_the_order_asked() {
    let sb = Sandbox::new();
    let now = unix_now();
    let (root, _fx) = fixtures(&sb, now);
    let out = sv_in(
        &sb,
        &root,
        &[
            "-o",
            "service,state,want,pid,pgid,ready,since,last_signal,deaths_total,log.state,log.pid",
            "status",
            "run",
            "down",
            "failed",
            "missing",
        ],
    );
    let me = me();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "run run up {me} 4242 true {STARTED} 9 7 run {me}\n\
             down down down - - false {STARTED} - - - -\n\
             failed failed up - - false {STARTED} 9 7 - -\n\
             missing missing - - - - - - - - -\n"
        )
    );
    assert_eq!(out.code, 6);
    // Unknown fields, -o with another command, and -o in LSB mode are
    // usage errors.
    let usage = "usage: sv [-v] [-w sec] command service ...\n\n";
    let bad = sv_in(&sb, &root, &["-o", "state,bogus", "status", "run"]);
    assert_eq!(
        (bad.code, bad.stderr.as_str()),
        (100, &*format!("sv: unknown field: bogus\n{usage}"))
    );
    let bad = sv_in(&sb, &root, &["-o", "json", "up", "run"]);
    assert_eq!((bad.code, bad.stderr.as_str()), (100, usage));
    let bad = sv_in(&sb, &root, &["-o", "error", "status", "run"]);
    assert_eq!(bad.code, 100);
}

/// Installs prometheus_client for the running python3 when it is missing
/// (CI starts from a clean machine); panics when that fails.
fn prometheus_parser() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let has = || {
            Command::new("python3")
                .args(["-c", "import prometheus_client.parser"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !has() {
            let st = Command::new("python3")
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "prometheus_client",
                ])
                .status();
            eprintln!("installing prometheus_client: {st:?}");
        }
        assert!(
            has(),
            "python3's prometheus_client is needed (pip install prometheus_client)"
        );
    });
}

/// Each sample as `TYPE NAME{k=v,...} VALUE`, from Prometheus' parser; each
/// family must have its HELP text.
const PROM_PARSE: &str = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
for fam in text_string_to_metric_families(sys.stdin.read()):
    assert fam.documentation, fam.name
    for s in fam.samples:
        labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
        print("%s %s{%s} %r" % (fam.type, s.name, labels, s.value))
"#;

fn parse_prom(text: &[u8]) -> BTreeMap<String, (String, f64)> {
    prometheus_parser();
    python(PROM_PARSE, text)
        .lines()
        .map(|l| {
            let mut w = l.splitn(3, ' ');
            let kind = w.next().unwrap().to_string();
            let key = w.next().unwrap().to_string();
            let v: f64 = w.next().unwrap().parse().unwrap();
            (key, (kind, v))
        })
        .collect()
}

fn sample(m: &BTreeMap<String, (String, f64)>, key: &str) -> Option<(String, f64)> {
    m.get(key).cloned()
}

#[test]
fn prometheus_textfile_for_every_state() {
    let sb = Sandbox::new();
    let now = unix_now();
    let (root, _fx) = fixtures(&sb, now);
    let file = sb.join("runit.prom");
    let mut args = vec!["-o", "prom:", "status"];
    let dest = format!("prom:{}", file.display());
    args[1] = &dest;
    args.extend_from_slice(NAMES);
    let out = sv_in(&sb, &root, &args);
    assert_eq!(
        (out.code, out.stderr.as_str(), out.stdout.len()),
        (0, "", 0)
    );
    let text = std::fs::read(&file).unwrap();
    // Nothing left beside it.
    let left: Vec<_> = std::fs::read_dir(sb.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("runit.prom"))
        .collect();
    assert_eq!(left, ["runit.prom"]);
    let m = parse_prom(&text);
    let g = |v: f64| Some(("gauge".to_string(), v));
    let key = |metric: &str, svc: &str, log: u8| format!("{metric}{{log={log},service={svc}}}");
    // The state enumeration: exactly one 1 per part.
    let states = [
        "run",
        "finish",
        "down",
        "failed",
        "unsupervised",
        "missing",
        "unknown",
    ];
    for (svc, state) in [
        ("run", "run"),
        ("starting", "run"),
        ("finish", "finish"),
        ("paused", "run"),
        ("down", "down"),
        ("backoff", "down"),
        ("failed", "failed"),
        ("gone", "unsupervised"),
        ("never", "unsupervised"),
        ("missing", "missing"),
        ("damaged", "unknown"),
    ] {
        for s in states {
            assert_eq!(
                sample(
                    &m,
                    &format!("runit_service_state{{log=0,service={svc},state={s}}}")
                ),
                g(if s == state { 1.0 } else { 0.0 }),
                "{svc} {s}"
            );
        }
    }
    assert_eq!(
        sample(&m, "runit_service_state{log=1,service=run,state=run}"),
        g(1.0)
    );
    let expect: &[(&str, &str, u8, Option<f64>)] = &[
        ("runit_service_up", "run", 0, Some(1.0)),
        ("runit_service_up", "run", 1, Some(1.0)),
        ("runit_service_up", "finish", 0, Some(0.0)),
        ("runit_service_up", "down", 0, Some(0.0)),
        ("runit_service_up", "gone", 0, None),
        ("runit_service_up", "missing", 0, None),
        ("runit_service_up", "damaged", 0, None),
        ("runit_service_ready", "run", 0, Some(1.0)),
        ("runit_service_ready", "starting", 0, Some(0.0)),
        ("runit_service_ready", "down", 0, Some(0.0)),
        ("runit_service_want_up", "run", 0, Some(1.0)),
        ("runit_service_want_up", "wantdown", 0, Some(0.0)),
        ("runit_service_normally_up", "run", 0, Some(1.0)),
        ("runit_service_normally_up", "normallydown", 0, Some(0.0)),
        ("runit_service_paused", "paused", 0, Some(1.0)),
        ("runit_service_paused", "run", 0, Some(0.0)),
        (
            "runit_service_since_seconds",
            "run",
            0,
            Some(STARTED as f64),
        ),
        (
            "runit_service_since_seconds",
            "down",
            0,
            Some(STARTED as f64),
        ),
        (
            "runit_service_ready_since_seconds",
            "run",
            0,
            Some((STARTED + 2) as f64),
        ),
        ("runit_service_ready_since_seconds", "starting", 0, None),
        (
            "runit_service_restart_at_seconds",
            "backoff",
            0,
            Some((STARTED + 4) as f64),
        ),
        ("runit_service_restart_at_seconds", "run", 0, None),
        ("runit_service_deaths_last_minute", "run", 0, Some(1.0)),
        ("runit_service_deaths_last_minute", "down", 0, None),
        ("runit_service_last_exit_code", "run", 0, None),
        ("runit_service_last_exit_signal", "run", 0, Some(9.0)),
        ("runit_service_last_exit_signal", "failed", 0, Some(9.0)),
        (
            "runit_service_last_exit_seconds",
            "run",
            0,
            Some((now - 10) as f64),
        ),
        ("runit_service_last_runtime_seconds", "run", 0, Some(1.5)),
        ("runit_service_last_runtime_seconds", "down", 0, None),
    ];
    for (metric, svc, log, v) in expect {
        assert_eq!(
            sample(&m, &key(metric, svc, *log)),
            v.and_then(g),
            "{metric} {svc} {log}"
        );
    }
    // The counter: Prometheus' parser gives its family the name without
    // _total, and the sample keeps it.
    assert_eq!(
        sample(&m, &key("runit_service_deaths_total", "run", 0)),
        Some(("counter".to_string(), 7.0))
    );
    assert_eq!(
        sample(&m, &key("runit_service_deaths_total", "run", 1)),
        None
    );
}

#[test]
fn prometheus_labels_and_write_failures() {
    let sb = Sandbox::new();
    let (root, _fx) = fixtures(&sb, unix_now());
    // To stdout; labels are the last component, or the whole name when
    // that is taken; quotes and backslashes in names survive the parser.
    let odd = root.join("we\"ird\\name");
    std::fs::create_dir_all(&odd).unwrap();
    let run_abs = root.join("run").display().to_string();
    let odd_abs = odd.display().to_string();
    let out = sv_in(
        &sb,
        &root,
        &["-o", "prom", "status", "run", &run_abs, &odd_abs],
    );
    assert_eq!(out.code, 0);
    let m = parse_prom(&out.stdout);
    assert!(m.contains_key("runit_service_up{log=0,service=run}"));
    assert!(m.contains_key(&format!("runit_service_up{{log=0,service={run_abs}}}")));
    assert!(m.contains_key("runit_service_state{log=0,service=we\"ird\\name,state=unsupervised}"));
    // A file that cannot be written: exit 111 and a message.
    let out = sv_in(
        &sb,
        &root,
        &["-o", "prom:/nonexistent/dir/x.prom", "status", "run"],
    );
    assert_eq!(out.code, 111);
    assert_eq!(
        out.stderr,
        "sv: fatal: unable to write /nonexistent/dir/x.prom: file does not exist\n"
    );
}

/// The same forms against live runsv processes: run (with its log),
/// paused, want down, finish, down; the pids are runsv's.
#[test]
fn live_services() {
    let mut sb = Sandbox::new();
    let root = sb.join("service");
    let a = root.join("a");
    make_service(&a, "#!/bin/sh\nexec sleep 1000\n");
    write_script(a.join("log/run"), "#!/bin/sh\nexec cat > /dev/null\n");
    let f = root.join("f");
    // ./run ends at once; ./finish stays until the test lets it go.
    make_service(&f, "#!/bin/sh\nexec sleep 1000\n");
    write_script(
        f.join("finish"),
        "#!/bin/sh\nwhile [ ! -e release ]; do sleep 0.02; done\n",
    );
    let runsv = bin("runsv");
    let pa = start_runsv(&mut sb, &runsv, &a);
    let pf = start_runsv(&mut sb, &runsv, &f);
    let apid = wait_running(&a);
    let lpid = wait_running(&a.join("log"));
    let fpid = wait_running(&f);
    let json = |sb: &Sandbox, name: &str| {
        let out = sv_in(sb, &root, &["-o", "json", "status", name]);
        (parse_json_lines(&out.stdout).remove(0), out.code)
    };
    let (o, code) = json(&sb, "a");
    assert_eq!(code, 0);
    check(
        &o,
        &[
            ("state", "\"run\""),
            ("pid", &apid.to_string()),
            ("want", "\"up\""),
            ("ready", "true"),
            ("log.state", "\"run\""),
            ("log.pid", &lpid.to_string()),
        ],
    );
    // runsv does not give ./run a process group of its own: runsv's.
    let runsv_pgid = rustix::process::getpgid(rustix::process::Pid::from_raw(pa as i32))
        .unwrap()
        .as_raw_nonzero()
        .to_string();
    check(&o, &[("pgid", &runsv_pgid)]);

    supervise_proto::svdir::send_control(&a, b"p").unwrap();
    wait_status(&a, "paused", |s| s.paused);
    check(
        &json(&sb, "a").0,
        &[("state", "\"run\""), ("paused", "true")],
    );
    supervise_proto::svdir::send_control(&a, b"c").unwrap();
    wait_status(&a, "continued", |s| !s.paused);

    // ./finish runs after TERM ends ./run, wanted up: state finish.
    // (runsv records the finish state before it starts ./finish, with no
    // pid yet: wait for the pid.)
    supervise_proto::svdir::send_control(&f, b"t").unwrap();
    wait_status(&f, "finish", |s| s.state == RunState::Finish && s.pid != 0);
    let (o, code) = json(&sb, "f");
    assert_eq!(code, 3);
    check(
        &o,
        &[("state", "\"finish\""), ("up", "false"), ("want", "\"up\"")],
    );
    assert_ne!(get(&o, "pid"), fpid.to_string());
    std::fs::write(f.join("release"), "").unwrap();
    wait_status(&f, "back up", |s| s.state == RunState::Run && s.pid != 0);

    supervise_proto::svdir::send_control(&a, b"d").unwrap();
    wait_down(&a);
    let (o, code) = json(&sb, "a");
    assert_eq!(code, 3);
    check(
        &o,
        &[
            ("state", "\"down\""),
            ("want", "\"down\""),
            ("pid", "null"),
            ("normally_up", "true"),
            ("log.state", "\"run\""),
        ],
    );
    let out = sv_in(
        &sb,
        &root,
        &["-o", "service,state,want,log.state", "status", "a", "f"],
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "a down down run\nf run up -\n"
    );
    for (p, d) in [(pa, &a), (pf, &f)] {
        stop_runsv(&mut sb, p, d).expect("runsv exits");
    }
    // runsv gone: unsupervised, exit 5.
    let (o, code) = json(&sb, "a");
    assert_eq!(code, 5);
    check(
        &o,
        &[
            ("state", "\"unsupervised\""),
            ("log.state", "\"unsupervised\""),
        ],
    );
    sb.assert_no_leaks();
}
