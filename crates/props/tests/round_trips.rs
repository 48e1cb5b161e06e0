//! Encode/decode round trips of the on-disk records, over generated
//! values (proptest; 256 cases each).

use proptest::prelude::*;
use runit_props::proto::exit_record;
use supervise_proto::exits::{ExitLog, MAX_TALLY};
use supervise_proto::xstatus::{NotifyState, XStatus};
use supervise_proto::{RunState, Status, Tai64n, Want};

fn tai() -> impl Strategy<Value = Tai64n> {
    (any::<u64>(), any::<u32>()).prop_map(|(secs, nanos)| Tai64n { secs, nanos })
}

/// A label as runit writes them: 2^62 + 10 + Unix seconds, nanoseconds
/// within the second.
fn runit_tai() -> impl Strategy<Value = Tai64n> {
    (0u64..1 << 40, 0u32..1_000_000_000).prop_map(|(s, n)| Tai64n::from_unix(s, n))
}

fn state() -> impl Strategy<Value = RunState> {
    prop_oneof![
        Just(RunState::Down),
        Just(RunState::Run),
        Just(RunState::Finish)
    ]
}

fn want() -> impl Strategy<Value = Want> {
    prop_oneof![Just(Want::Up), Just(Want::Down), Just(Want::Exit)]
}

/// One line of text as a service could send it, control bytes included.
fn text() -> impl Strategy<Value = String> {
    "[ -~\t\r\u{80}-\u{10ffff}]{0,24}"
}

/// Text that survives a round trip: no control characters.
fn clean() -> impl Strategy<Value = String> {
    "[ -<>-~\u{a0}-\u{10ffff}]{0,24}"
}

fn xstatus() -> impl Strategy<Value = XStatus> {
    let stamps = proptest::collection::vec(proptest::option::of(runit_tai()), 6);
    let notify_state = proptest::option::of(prop_oneof![
        Just(NotifyState::Reloading),
        Just(NotifyState::Stopping)
    ]);
    (
        stamps,
        any::<bool>(),
        proptest::option::of(clean()),
        notify_state,
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u32>()),
        proptest::option::of(clean()),
        proptest::collection::vec(("[a-z-]{1,12}", clean()), 0..4),
    )
        .prop_map(
            |(t, notify, status, ns, delay, main_pid, pgid, cgroup, settings)| XStatus {
                started: t[0],
                notify,
                ready: t[1],
                notify_status: status,
                notify_state: ns,
                main_pid,
                failed: t[2],
                restart_at: t[3],
                restart_delay_ms: delay,
                kill_at: t[4],
                finish_kill_at: t[5],
                pgid,
                cgroup,
                settings,
            },
        )
}

proptest! {
    #[test]
    fn status_record(stamp in tai(), pid in any::<u32>(), paused in any::<bool>(),
                     w in want(), term in any::<bool>(), st in state()) {
        let s = Status::new(stamp, pid, paused, w, term, st);
        let b = s.encode();
        prop_assert_eq!(Status::decode(&b), Ok(s));
        // daemontools' 18 bytes keep the fields they have.
        let dt = Status::decode(&b[..18]).unwrap();
        prop_assert_eq!((dt.stamp, dt.pid, dt.paused, dt.want), (stamp, pid, paused, s.want));
    }

    #[test]
    fn tai64n_bytes_and_text(t in tai()) {
        prop_assert_eq!(Tai64n::from_bytes(&t.to_bytes()), t);
        let s = t.to_string();
        prop_assert_eq!(Tai64n::parse(&s), Some(t));
        prop_assert_eq!(Tai64n::parse(&s.to_uppercase()), Some(t));
        prop_assert_eq!(Tai64n::parse_prefix(format!("{s} line").as_bytes()), Some((t, 25)));
    }

    #[test]
    fn xstatus_record(x in xstatus()) {
        prop_assert_eq!(XStatus::decode(&x.encode()), x);
    }

    #[test]
    fn xstatus_text_stays_on_its_line(s in text()) {
        let x = XStatus { notify_status: Some(s), ..XStatus::default() };
        let e = x.encode();
        prop_assert_eq!(e.iter().filter(|&&b| b == b'\n').count(), 1);
        prop_assert_eq!(XStatus::decode(&e).encode(), e);
    }

    #[test]
    fn exit_log(total in any::<u64>(),
                recs in proptest::collection::vec((tai(), tai(), any::<i32>(), any::<u8>()), 0..40)) {
        let log = ExitLog {
            total,
            records: recs.into_iter().map(|(e, s, w, f)| exit_record(e, s, w, f)).collect(),
        };
        prop_assert_eq!(ExitLog::decode(&log.encode()), Ok(log.clone()));
        let mut more = log.clone();
        more.push(exit_record(Tai64n::default(), Tai64n::default(), 0, 0), MAX_TALLY);
        prop_assert_eq!(more.records.len(), log.records.len() + 1);
    }
}
