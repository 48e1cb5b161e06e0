//! What runsv does when ./run dies, beyond what runit does: the exit
//! record (every service, [`crate::exits`]) and the crash-loop policy
//! (services with its files, [`crate::backoff`]), with the marks the policy
//! leaves in supervise/xstatus (`restart-at`, `restart-delay-ms`,
//! `failed`). The supervisor calls in at three moments: each start of
//! ./run, each exit of ./run or ./finish, and each command that sets what
//! is wanted. A service without crash-loop files never gets an xstatus
//! write from here, and its status files and timing stay runit's.

use std::time::Instant;

use supervise_proto::exits::{FLAG_FINISH_125, FLAG_NEVER_READY};
use supervise_proto::wait::Wstat;
use supervise_proto::{Control, RunState, Tai64n, Want};

use crate::backoff::{Backoff, Death, Policy, Verdict, FINISH_NO_RESTART};
use crate::exits::Exits;
use crate::msg::Messages;
use crate::service::{Now, Service};

/// The death history of one service.
pub struct Deaths {
    exits: Exits,
    backoff: Backoff,
    /// ./run's death, kept until ./finish (if any) has exited.
    pending: Option<Pending>,
    /// The hold runit's rule alone set after the last death: `u` during a
    /// grown pause falls back to it.
    runit_hold: Option<Instant>,
}

#[derive(Clone, Copy)]
struct Pending {
    started: Instant,
    ended: Instant,
    /// It followed runsv's own TERM.
    asked: bool,
}

impl Deaths {
    pub fn new(is_log: bool) -> Deaths {
        Deaths {
            exits: Exits::new(is_log),
            backoff: Backoff::default(),
            pending: None,
            runit_hold: None,
        }
    }

    /// Replaces supervise/exits if a death was added since the last write.
    pub fn flush(&mut self, msg: &Messages) {
        self.exits.flush(msg);
    }
}

/// When runsv starts: supervise/exits exists for every service from now
/// on. An xstatus left by an earlier runsv (a failed mark, a pause) is
/// about a history this one does not have: it is replaced by the empty
/// record. A service that never had one gets none.
pub fn create(s: &mut Service, msg: &Messages) {
    s.deaths.exits.create();
    if std::path::Path::new(s.xstatus_path()).exists() {
        s.write_xstatus(msg);
    }
}

/// Before each start of ./run: the settings are read again (as s6 reads
/// its own), and the marks of an earlier give-up or pause end.
pub fn starting(s: &mut Service, msg: &Messages) {
    let prefix = if s.is_log { "log/" } else { "" };
    s.deaths.exits.read_tally(msg);
    s.deaths.backoff.policy = Policy::read(prefix, msg);
    // restart-at and restart-delay-ms describe a pause that is over now;
    // they need no write of their own (readers look at them only while
    // the service is down), but the next write leaves them out.
    s.xstatus.restart_at = None;
    s.xstatus.restart_delay_ms = None;
    if s.xstatus.failed.take().is_some() {
        s.write_xstatus(msg);
    }
}

/// ./run or ./finish exited: [`Service::exited`], plus the exit record
/// and, once the death is over, the crash-loop verdict. Returns whether
/// ./finish is to run now, as `Service::exited` does.
pub fn exited(s: &mut Service, wstat: i32, has_finish: bool, now: Now, msg: &Messages) -> bool {
    let was = s.state;
    if was == RunState::Run {
        s.deaths.pending = Some(Pending {
            started: s.started,
            ended: now.mono,
            asked: s.got_term,
        });
        // xstatus still describes the run that died (readiness starts
        // over only at the next start).
        let flags = if s.xstatus.notify && s.xstatus.ready.is_none() {
            FLAG_NEVER_READY
        } else {
            0
        };
        s.deaths
            .exits
            .died(s.stamp, now.wall, wstat, flags, has_finish);
    }
    let finishing = s.exited(wstat, has_finish, now);
    if !finishing {
        let finish_status = (was == RunState::Finish).then_some(wstat);
        settle(s, finish_status, now, msg);
    }
    finishing
}

/// The death is over: writes its record and applies the policy.
fn settle(s: &mut Service, finish_status: Option<i32>, now: Now, msg: &Messages) {
    let Some(p) = s.deaths.pending.take() else {
        return;
    };
    let policy = s.deaths.backoff.policy;
    let finish_125 =
        finish_status.is_some_and(|w| Wstat::from_raw(w).code() == Some(FINISH_NO_RESTART));
    let flags = if finish_125 && policy.finish_125 {
        FLAG_FINISH_125
    } else {
        0
    };
    s.deaths.exits.settle(flags);
    let verdict = s.deaths.backoff.died(Death {
        started: p.started,
        ended: p.ended,
        wanted_up: s.want == Want::Up,
        asked: p.asked,
        finish_125,
    });
    match verdict {
        Verdict::Restart => {}
        Verdict::Delay { at, delay } => {
            s.deaths.runit_hold = s.hold_until;
            s.hold_until = Some(s.hold_until.map_or(at, |h| h.max(at)));
            s.xstatus.restart_at = Some(wall_at(at, now));
            s.xstatus.restart_delay_ms = Some(delay.as_millis() as u64);
            s.write_xstatus(msg);
        }
        Verdict::GiveUp => {
            s.want = Want::Down;
            s.xstatus.failed = Some(now.wall);
            s.write_xstatus(msg);
            let why = if finish_125 {
                "./finish exited 125".to_string()
            } else {
                let l = policy
                    .limit
                    .map_or((0, 0), |l| (l.count, l.within.as_secs()));
                format!("{} deaths within {}s", l.0, l.1)
            };
            let what = if s.is_log { "log/run" } else { "./run" };
            msg.warnx(&format!("{why}: {what} not restarted until asked"));
        }
    }
}

/// A command set what is wanted. `u` is someone asking for the service:
/// a pending grown pause ends (runit's own one-second rule still holds),
/// the crash history starts over and a failed mark goes. `d`, `x` and `o`
/// cancel a pending restart.
pub fn wanted(s: &mut Service, c: Control, msg: &Messages) {
    let pending = s.xstatus.restart_at.take().is_some();
    s.xstatus.restart_delay_ms = None;
    let mut changed = pending;
    if c == Control::Up {
        s.deaths.backoff.reset();
        if pending {
            s.hold_until = s.deaths.runit_hold;
        }
        changed |= s.xstatus.failed.take().is_some();
    }
    if changed {
        s.write_xstatus(msg);
    }
}

/// The wall-clock time of monotonic instant `at`, `now` being both.
fn wall_at(at: Instant, now: Now) -> Tai64n {
    let d = at.saturating_duration_since(now.mono);
    let nanos = u64::from(now.wall.nanos) + u64::from(d.subsec_nanos());
    Tai64n {
        secs: now.wall.secs + d.as_secs() + nanos / 1_000_000_000,
        nanos: (nanos % 1_000_000_000) as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn wall_time_of_a_deadline() {
        let mono = Instant::now();
        let now = Now {
            mono,
            wall: Tai64n {
                secs: 100,
                nanos: 900_000_000,
            },
        };
        let t = wall_at(mono + Duration::from_millis(2300), now);
        assert_eq!((t.secs, t.nanos), (103, 200_000_000));
        assert_eq!(wall_at(mono, now), now.wall);
    }
}
