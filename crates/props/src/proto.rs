//! The on-disk contract (supervise-proto), readiness notification, and
//! runsv's control planner and setting files.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use runsv::plan::{plan, Action, View};
use runsv::{backoff, stop};
use supervise_proto::exits::{self, ExitLog, ExitRecord};
use supervise_proto::getopt::{GetOpt, OptError};
use supervise_proto::notify;
use supervise_proto::status::{FormatError, DAEMONTOOLS_STATUS_LEN, RUNIT_STATUS_LEN};
use supervise_proto::xstatus::XStatus;
use supervise_proto::{Control, RunState, Status, Tai64n, Want};

use crate::{words, Input};

/// `supervise/status`: runit's 20 bytes or daemontools' 18 decode, and
/// what decodes encodes back to the same bytes (the flag bytes as 0/1).
pub fn status(data: &[u8]) {
    let st = match Status::decode(data) {
        Ok(st) => st,
        Err(FormatError::BadLength(n)) => {
            assert_eq!(n, data.len());
            assert!(n != RUNIT_STATUS_LEN && n != DAEMONTOOLS_STATUS_LEN);
            return;
        }
        Err(FormatError::BadState(s)) => {
            assert_eq!((data.len(), data[19]), (RUNIT_STATUS_LEN, s));
            assert!(s > 2);
            return;
        }
    };
    let enc = st.encode();
    assert_eq!(Status::decode(&enc), Ok(st));
    assert_eq!(enc[..16], data[..16]);
    assert_eq!(enc[16], (data[16] != 0) as u8);
    assert_eq!(enc[17], data[17]);
    assert_eq!(st.wants_up(), data[17] == b'u');
    assert_eq!(st.wants_down(), data[17] == b'd');
    if data.len() == RUNIT_STATUS_LEN {
        assert_eq!(enc[18], (data[18] != 0) as u8);
        assert_eq!(enc[19], data[19]);
    } else {
        // daemontools has no state byte: a pid means running.
        let want = if st.pid != 0 {
            RunState::Run
        } else {
            RunState::Down
        };
        assert_eq!((st.state, st.got_term), (want, false));
    }
    // Seconds before the epoch read as the epoch, never as a panic.
    let _ = st.stamp.to_system_time();
}

/// TAI64N's text form: `@` and 24 hex digits, either case; what parses
/// prints back (in lowercase) and parses again to the same label.
pub fn tai64n_text(data: &[u8]) {
    let hex = |b: &[u8]| b.iter().all(u8::is_ascii_hexdigit);
    match Tai64n::parse_prefix(data) {
        Some((t, n)) => {
            assert_eq!(n, 25);
            let s = t.to_string();
            assert_eq!(s.as_bytes(), data[..25].to_ascii_lowercase());
            assert_eq!(Tai64n::parse(&s), Some(t));
            assert_eq!(Tai64n::from_bytes(&t.to_bytes()), t);
        }
        None => assert!(data.len() < 25 || data[0] != b'@' || !hex(&data[1..25])),
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let whole = Tai64n::parse(s);
        assert_eq!(
            whole.is_some(),
            data.len() == 25 && Tai64n::parse_prefix(data).is_some()
        );
    }
}

/// `supervise/xstatus`: any bytes decode; after one encode the record is
/// stable (what is written reads back as itself), and the text stays
/// within a small factor of the input.
pub fn xstatus(data: &[u8]) {
    let x = XStatus::decode(data);
    let e = x.encode();
    let again = XStatus::decode(&e);
    assert_eq!(again.encode(), e);
    // Invalid UTF-8 bytes become U+FFFD (3 bytes); each key line at most
    // gains a newline.
    assert!(
        e.len() <= 3 * data.len() + 1,
        "{} -> {}",
        data.len(),
        e.len()
    );
    if let Some(started) = x.started {
        assert!(x.is_for_run(started));
    }
}

/// `supervise/exits`: a file is read whole or refused; what is read
/// writes back to bytes of the same length that read as the same log.
pub fn exit_log(data: &[u8]) {
    let _ = exits::parse_tally(data).map(|n| assert!(n <= exits::MAX_TALLY));
    let Ok(log) = ExitLog::decode(data) else {
        return;
    };
    assert!(log.records.len() <= exits::MAX_TALLY);
    let enc = log.encode();
    assert_eq!(enc.len(), data.len());
    assert_eq!(ExitLog::decode(&enc), Ok(log.clone()));
    for r in &log.records {
        let secs = r.ran_secs();
        assert!(secs.is_finite() && secs >= 0.0);
        assert!(r.describe().len() <= 10);
    }
    if let Some(last) = log.last() {
        assert!(log.deaths_within(last.ended, 0) >= 1);
        // Pushing keeps the bound and counts every death.
        let mut more = log.clone();
        more.push(*last, 3);
        assert_eq!(more.total, log.total.saturating_add(1));
        assert!(more.records.len() <= 3);
    }
}

/// A death record built from its fields, for round trips.
pub fn exit_record(ended: Tai64n, started: Tai64n, wstatus: i32, flags: u8) -> ExitRecord {
    ExitRecord {
        ended,
        started,
        wstatus,
        flags,
    }
}

/// Every option string a program of the suite scans with. svc's and sv's
/// live in binary crates; their strings are repeated here.
pub const OPTION_STRINGS: &[&str] = &[
    "w:vV",                   // sv (LSB mode)
    "w:vVo:",                 // sv
    "R:r:l:b:tvV",            // svlogd
    chpst::chpst::OPTIONS,    // chpst
    "nNxX",                   // setlock
    "a:c:d:f:l:m:o:p:r:s:t:", // softlimit
    "udopchaitkx",            // svc
    "wV",                     // utmpset
];

/// The option scanner: it ends, every option it reports is in the option
/// string with an argument exactly when the string says so, and the
/// operands left are the tail of the arguments.
pub fn getopt(data: &[u8]) {
    let mut inp = Input::new(data);
    let spec = OPTION_STRINGS[inp.byte() as usize % OPTION_STRINGS.len()];
    let args: Vec<OsString> = words(inp.rest());
    let budget: usize = args.iter().map(|a| a.len()).sum::<usize>() + args.len();
    let mut g = GetOpt::new(&args, spec);
    let mut seen = 0;
    let known = |c: u8| c != b':' && spec.as_bytes().contains(&c);
    let takes = |c: u8| {
        let i = spec.bytes().position(|s| s == c).unwrap();
        spec.as_bytes().get(i + 1) == Some(&b':')
    };
    for item in g.by_ref() {
        seen += 1;
        assert!(seen <= budget, "the scanner does not stop");
        match item {
            Ok((c, arg)) => {
                assert!(known(c), "{}", c as char);
                assert_eq!(arg.is_some(), takes(c));
            }
            Err(OptError::Illegal(c)) => {
                assert!(!known(c));
                assert!(OptError::Illegal(c).message("p").ends_with(c as char));
            }
            Err(OptError::MissingArgument(c)) => assert!(known(c) && takes(c)),
        }
    }
    let rest = g.rest();
    assert!(rest.len() <= args.len());
    assert_eq!(rest, &args[args.len() - rest.len()..]);
    if let Some(first) = rest.first() {
        // Scanning stops at an operand, or right after a "--" word.
        let b = first.as_bytes();
        let stopped_after_dashes = args.len() > rest.len()
            && args[args.len() - rest.len() - 1]
                .as_bytes()
                .starts_with(b"--");
        assert!(b.len() < 2 || b[0] != b'-' || stopped_after_dashes);
    }
}

/// A control byte stream fed to runsv's planner, with a model of the
/// service that follows the plans: the planner never panics, plans stay
/// short, the log service never consults a script, and only `u d o x`
/// change the want.
pub fn control_stream(data: &[u8]) {
    let mut inp = Input::new(data);
    let is_log = inp.byte() & 1 == 1;
    let mut v = View {
        running: false,
        state: RunState::Down,
        want: Want::Up,
        got_term: false,
        is_log,
    };
    for &b in inp.rest() {
        let Some(c) = Control::from_byte(b) else {
            // Other bytes stand for what the service does meanwhile.
            v = match b % 4 {
                0 => View {
                    running: true,
                    state: RunState::Run,
                    got_term: false,
                    ..v
                },
                1 => View {
                    state: RunState::Finish,
                    got_term: false,
                    ..v
                },
                2 => View {
                    running: false,
                    state: RunState::Down,
                    got_term: false,
                    ..v
                },
                _ => v,
            };
            continue;
        };
        let p = plan(c, v);
        assert!(p.steps.len() <= 4, "{c:?} {v:?}: {p:?}");
        assert!(!p.once || c == Control::Once);
        let want = match c {
            Control::Up => Some(Want::Up),
            Control::Down | Control::Once => Some(Want::Down),
            Control::Exit if !is_log => Some(Want::Exit),
            _ => None,
        };
        assert_eq!(p.want, want, "{c:?}");
        let run = v.running && v.state == RunState::Run;
        for s in &p.steps {
            if is_log {
                assert_eq!(s.script, None);
            }
            match s.action {
                Action::Term => {
                    assert!(run);
                    v.got_term = true;
                }
                Action::Signal(_) => assert!(v.running),
                Action::Pause | Action::Cont | Action::Nothing => {}
            }
        }
        if let Some(w) = p.want {
            v.want = w;
        }
        if p.once && !v.running {
            v.running = true;
            v.state = RunState::Run;
        }
    }
}

/// A systemd-style notification datagram and a `notification-fd` file:
/// any bytes parse; what is taken is within the protocol's bounds.
pub fn notify(data: &[u8]) {
    let n = notify::parse_datagram(data);
    let has = |line: &[u8]| data.split(|&b| b == b'\n').any(|l| l == line);
    assert_eq!(n.ready, has(b"READY=1"));
    assert_eq!(n.reloading, has(b"RELOADING=1"));
    assert_eq!(n.stopping, has(b"STOPPING=1"));
    if let Some(s) = &n.status {
        assert!(s.chars().count() <= notify::STATUS_MAX);
    }
    if let Some(pid) = n.main_pid {
        assert!((1..=4_194_304).contains(&pid));
    }
    let mut inp = Input::new(data);
    let limit = u64::from(u16::from_le_bytes([inp.byte(), inp.byte()]));
    if let Ok(fd) = notify::parse_notification_fd(inp.rest(), limit) {
        assert!(fd >= 3 && u64::from(fd) < limit);
    }
}

/// runsv's setting files (crash-loop control, stop settings): any bytes
/// parse or are refused; what is taken is in range, and a signal's name
/// reads back as that signal.
pub fn runsv_settings(data: &[u8]) {
    if let Some(d) = backoff::parse_delay_max(data) {
        assert!(d > Duration::ZERO && d <= Duration::from_secs(24 * 3600));
    }
    if let Some(l) = backoff::parse_limit(data) {
        assert!(l.count > 0 && l.within > Duration::ZERO);
    }
    let text = String::from_utf8_lossy(data);
    if let Some(sig) = stop::parse_signal(&text) {
        assert_eq!(stop::parse_signal(&stop::signal_name(sig)), Some(sig));
    }
    if let Some(Some(ms)) = stop::parse_ms(&text) {
        assert!(ms > Duration::ZERO);
    }
    let _ = stop::parse_grouping(&text);
    if let Some(c) = stop::parse_cgroup(&text) {
        // "" is runsv's own cgroup, "/" the root, else no trailing slash.
        assert!(c.is_empty() || c == "/" || (c.starts_with('/') && !c.ends_with('/')));
        assert!(!c.split('/').any(|p| p == "." || p == ".."));
    }
}
