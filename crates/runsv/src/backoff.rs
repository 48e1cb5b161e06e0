//! Crash-loop control: whether, and how soon, ./run is started again
//! after it died. runit's rule (no start sooner than a second after the
//! last) is the default and is kept by the supervisor; a service opts in
//! to more with files in its directory (in `log/` for the log service),
//! read at each start of ./run:
//!
//! - `restart-delay-max`: milliseconds (s6's unit for `timeout-kill` and
//!   `timeout-finish`, so every time in a service directory is in one
//!   unit). Each death of a run shorter than this doubles the pause before
//!   the next start, counted from the death: 1 s, 2 s, 4 s... up to this
//!   maximum. A run that lasted at least the maximum starts the series
//!   over: one knob, and a run as long as the longest pause is by
//!   definition not part of a loop at that pace.
//! - `restart-limit`: `COUNT SECONDS` (dinit's restart-limit-count and
//!   restart-limit-interval in one line): the COUNT-th death within
//!   SECONDS gives up. The service is then down and marked failed until
//!   someone asks for it again (`sv up`, `sv restart`, `sv once`).
//! - `finish-125`: a flag file; with it, ./finish exiting 125 means "do not
//!   restart" (s6's convention), with the same failed mark.
//!
//! Only a service wanted up has a restart to decide on. Deaths that follow
//! runsv's own TERM (`sv restart`, `sv term`) are no crashes: they neither
//! count nor grow the pause (./finish exiting 125 still gives up). The policy here is pure (time
//! is passed in) and unit tested; the supervisor turns its verdicts into
//! a poll deadline or a want of down.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::msg::Messages;
use crate::settings;

pub const RESTART_DELAY_MAX: &str = "restart-delay-max";
pub const RESTART_LIMIT: &str = "restart-limit";
pub const FINISH_125: &str = "finish-125";

/// The first grown pause (runit's one second).
const FIRST_DELAY: Duration = Duration::from_secs(1);
/// `restart-delay-max` beyond a day is taken as a day.
const DELAY_MAX_CAP_MS: u64 = 24 * 60 * 60 * 1000;
/// The exit code of ./finish that means "do not restart".
pub const FINISH_NO_RESTART: i32 = 125;
/// Setting files are short; anything longer is not a setting.
const FILE_MAX: usize = 64;

/// `restart-limit`: the COUNT-th death within `within` gives up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub count: u32,
    pub within: Duration,
}

/// The crash-loop settings of one service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub delay_max: Option<Duration>,
    pub limit: Option<Limit>,
    pub finish_125: bool,
}

impl Policy {
    /// Reads the files of the service (`prefix` "") or its log ("log/").
    pub fn read(prefix: &str, msg: &Messages) -> Policy {
        let name = settings::path(prefix, RESTART_DELAY_MAX);
        let delay_max = settings::read(&name, FILE_MAX, msg).and_then(|b| {
            let v = parse_delay_max(&b);
            if v.is_none() {
                settings::bad_value(&name, "a number of milliseconds", msg);
            }
            v
        });
        let name = settings::path(prefix, RESTART_LIMIT);
        let limit = settings::read(&name, FILE_MAX, msg).and_then(|b| {
            let v = parse_limit(&b);
            if v.is_none() {
                settings::bad_value(&name, "COUNT SECONDS", msg);
            }
            v
        });
        let finish_125 = settings::flag(&settings::path(prefix, FINISH_125), msg);
        Policy {
            delay_max,
            limit,
            finish_125,
        }
    }
}

/// A positive decimal number of milliseconds, capped at a day.
pub fn parse_delay_max(b: &[u8]) -> Option<Duration> {
    let ms: u64 = std::str::from_utf8(b).ok()?.trim().parse().ok()?;
    (ms > 0).then(|| Duration::from_millis(ms.min(DELAY_MAX_CAP_MS)))
}

/// `COUNT SECONDS`, both positive decimal numbers.
pub fn parse_limit(b: &[u8]) -> Option<Limit> {
    let s = std::str::from_utf8(b).ok()?;
    let mut w = s.split_ascii_whitespace();
    let count: u32 = w.next()?.parse().ok()?;
    let secs: u32 = w.next()?.parse().ok()?;
    if w.next().is_some() || count == 0 || secs == 0 {
        return None;
    }
    Some(Limit {
        count,
        within: Duration::from_secs(secs.into()),
    })
}

/// One death of ./run, as the policy needs it.
#[derive(Clone, Copy, Debug)]
pub struct Death {
    pub started: Instant,
    pub ended: Instant,
    /// The service is wanted up (else there is no restart to decide on).
    pub wanted_up: bool,
    /// It followed runsv's own TERM.
    pub asked: bool,
    /// ./finish exited 125.
    pub finish_125: bool,
}

/// What to do after a death.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Start again by runit's rule alone.
    Restart,
    /// Start again no sooner than `at`, `delay` after the death.
    Delay { at: Instant, delay: Duration },
    /// Do not start again until asked.
    GiveUp,
}

/// The crash-loop state of one service.
#[derive(Debug, Default)]
pub struct Backoff {
    /// The settings read at the last start of ./run.
    pub policy: Policy,
    /// Deaths in a row of runs shorter than `delay_max`.
    streak: u32,
    /// When the recent crashes happened, at most `limit.count` of them.
    recent: VecDeque<Instant>,
}

impl Backoff {
    /// Someone asked for the service (`u`, or a start after a give-up):
    /// the crash history starts over.
    pub fn reset(&mut self) {
        self.streak = 0;
        self.recent.clear();
    }

    pub fn died(&mut self, d: Death) -> Verdict {
        if !d.wanted_up {
            return Verdict::Restart;
        }
        if self.policy.finish_125 && d.finish_125 {
            self.reset();
            return Verdict::GiveUp;
        }
        if d.asked {
            return Verdict::Restart;
        }
        if let Some(l) = self.policy.limit {
            self.recent.push_back(d.ended);
            while let Some(&t) = self.recent.front() {
                if d.ended.duration_since(t) >= l.within || self.recent.len() > l.count as usize {
                    self.recent.pop_front();
                } else {
                    break;
                }
            }
            if self.recent.len() >= l.count as usize {
                self.reset();
                return Verdict::GiveUp;
            }
        }
        let Some(max) = self.policy.delay_max else {
            return Verdict::Restart;
        };
        if d.ended.saturating_duration_since(d.started) >= max {
            self.streak = 0;
            return Verdict::Restart;
        }
        self.streak = self.streak.saturating_add(1);
        let doublings = (self.streak - 1).min(31);
        let delay = FIRST_DELAY.saturating_mul(1 << doublings).min(max);
        Verdict::Delay {
            at: d.ended + delay,
            delay,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// A crash `ran` after a start at `t0 + at`.
    fn crash(t0: Instant, at: u64, ran: Duration) -> Death {
        Death {
            started: t0 + secs(at),
            ended: t0 + secs(at) + ran,
            wanted_up: true,
            asked: false,
            finish_125: false,
        }
    }

    fn delay_of(v: Verdict) -> Option<Duration> {
        match v {
            Verdict::Delay { delay, .. } => Some(delay),
            _ => None,
        }
    }

    #[test]
    fn settings_parse() {
        assert_eq!(parse_delay_max(b"30000\n"), Some(secs(30)));
        assert_eq!(parse_delay_max(b"99999999999"), Some(secs(86_400)));
        for bad in [&b"0"[..], b"-5", b"1s", b"", b"\xff"] {
            assert_eq!(parse_delay_max(bad), None, "{bad:?}");
        }
        assert_eq!(
            parse_limit(b"5 60\n"),
            Some(Limit {
                count: 5,
                within: secs(60)
            })
        );
        assert_eq!(parse_limit(b" 3\t10 ").map(|l| l.count), Some(3));
        for bad in [&b"5"[..], b"0 10", b"5 0", b"5 10 1", b"a b", b"5 -1"] {
            assert_eq!(parse_limit(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn without_settings_runit_rule_only() {
        let t0 = Instant::now();
        let mut b = Backoff::default();
        for i in 0..50 {
            assert_eq!(b.died(crash(t0, i, Duration::ZERO)), Verdict::Restart);
        }
        // finish 125 means nothing without the flag file.
        let mut d = crash(t0, 60, Duration::ZERO);
        d.finish_125 = true;
        assert_eq!(b.died(d), Verdict::Restart);
    }

    #[test]
    fn delay_doubles_up_to_the_maximum_and_resets_after_a_long_run() {
        let t0 = Instant::now();
        let mut b = Backoff::default();
        b.policy.delay_max = Some(Duration::from_millis(10_000));
        let got: Vec<_> = (0..6)
            .map(|i| delay_of(b.died(crash(t0, i * 100, Duration::from_millis(200)))))
            .collect();
        let want: Vec<_> = [1, 2, 4, 8, 10, 10].map(|s| Some(secs(s))).into();
        assert_eq!(got, want);
        let d = crash(t0, 1000, Duration::from_millis(300));
        assert_eq!(
            b.died(d),
            Verdict::Delay {
                at: d.ended + secs(10),
                delay: secs(10)
            }
        );
        // A run as long as the maximum: no delay, and the series starts over.
        assert_eq!(b.died(crash(t0, 2000, secs(10))), Verdict::Restart);
        assert_eq!(
            delay_of(b.died(crash(t0, 2100, Duration::ZERO))),
            Some(secs(1))
        );
        // A maximum under a second caps the first pause too.
        let mut b = Backoff::default();
        b.policy.delay_max = Some(Duration::from_millis(300));
        assert_eq!(
            delay_of(b.died(crash(t0, 0, Duration::ZERO))),
            Some(Duration::from_millis(300))
        );
    }

    #[test]
    fn long_streaks_do_not_overflow() {
        let t0 = Instant::now();
        let mut b = Backoff::default();
        b.policy.delay_max = Some(secs(86_400));
        let mut last = None;
        for i in 0..100 {
            last = delay_of(b.died(crash(t0, i, Duration::ZERO)));
        }
        assert_eq!(last, Some(secs(86_400)));
    }

    #[test]
    fn limit_gives_up_on_the_count_th_death_within_the_window() {
        let t0 = Instant::now();
        let mut b = Backoff::default();
        b.policy.limit = Some(Limit {
            count: 3,
            within: secs(10),
        });
        // Deaths 6 s apart: never three within 10 s.
        for i in 0..10 {
            assert_eq!(b.died(crash(t0, i * 6, Duration::ZERO)), Verdict::Restart);
        }
        // Three within 10 s.
        assert_eq!(b.died(crash(t0, 100, Duration::ZERO)), Verdict::Restart);
        assert_eq!(b.died(crash(t0, 104, Duration::ZERO)), Verdict::Restart);
        assert_eq!(b.died(crash(t0, 108, Duration::ZERO)), Verdict::GiveUp);
        // After giving up the history is gone: `sv up` gets a fresh window.
        assert_eq!(b.died(crash(t0, 109, Duration::ZERO)), Verdict::Restart);
    }

    #[test]
    fn asked_for_deaths_are_no_crashes() {
        let t0 = Instant::now();
        let mut b = Backoff::default();
        b.policy.delay_max = Some(secs(60));
        b.policy.limit = Some(Limit {
            count: 2,
            within: secs(60),
        });
        for i in 0..10 {
            let mut d = crash(t0, i, Duration::ZERO);
            if i % 2 == 0 {
                d.asked = true;
            } else {
                d.wanted_up = false;
            }
            assert_eq!(b.died(d), Verdict::Restart);
        }
        assert_eq!(
            delay_of(b.died(crash(t0, 20, Duration::ZERO))),
            Some(secs(1))
        );
        b.reset();
        assert_eq!(
            delay_of(b.died(crash(t0, 30, Duration::ZERO))),
            Some(secs(1))
        );
        assert_eq!(b.died(crash(t0, 31, Duration::ZERO)), Verdict::GiveUp);
    }

    #[test]
    fn finish_125_gives_up_with_the_flag() {
        let t0 = Instant::now();
        let mut b = Backoff::default();
        b.policy.finish_125 = true;
        assert_eq!(b.died(crash(t0, 0, secs(5))), Verdict::Restart);
        let mut d = crash(t0, 10, secs(5));
        d.finish_125 = true;
        // Not wanted up (sv down): nothing to give up.
        d.wanted_up = false;
        assert_eq!(b.died(d), Verdict::Restart);
        // Even after runsv's own TERM (sv restart): s6's rule is about
        // ./finish alone.
        d.wanted_up = true;
        d.asked = true;
        assert_eq!(b.died(d), Verdict::GiveUp);
    }
}
