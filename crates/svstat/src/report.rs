//! Wording a finding as daemontools' svstat does:
//!
//! ```text
//! DIR: up (pid N) S seconds[, normally down][, paused][, want down]
//!      [, ready S seconds | , not ready]   (services that notify only)
//! DIR: down S seconds[, normally up][, want up]
//! DIR: supervise not running
//! DIR: unable to chdir: ERR          (and the other "unable to" texts)
//! ```

use supervise_proto::errno_str;
use supervise_proto::tai64::TAI64_UNIX_OFFSET;
use supervise_proto::xstatus::Readiness;

use crate::inspect::{Finding, Step};

/// The current TAI64 second, as daemontools takes it: from time(2),
/// which reads the kernel's coarse clock. That clock lags the precise one
/// by up to a tick, so near a second's turn daemontools' svstat still sees
/// the old second, and so must ours to print the same age.
pub fn now_tai() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
    TAI64_UNIX_OFFSET + u64::try_from(t.tv_sec).unwrap_or(0)
}

/// Appends the line for `dir` (with its newline) to `out`.
pub fn line(out: &mut Vec<u8>, dir: &[u8], finding: &Finding, now: u64) {
    out.extend_from_slice(dir);
    out.extend_from_slice(b": ");
    match finding {
        Finding::Failed(step, e) => {
            out.extend_from_slice(step_text(*step).as_bytes());
            out.extend_from_slice(errno_str(*e).as_bytes());
        }
        Finding::BadFormat => out.extend_from_slice(b"unable to read supervise/status: bad format"),
        Finding::NotRunning => out.extend_from_slice(b"supervise not running"),
        Finding::Supervised {
            status,
            normally_up,
            readiness,
        } => {
            let up = status.pid != 0;
            // A stamp in the future (clock stepped back) counts as now.
            // daemontools prints the difference through a double, so
            // beyond 2^53 seconds its digits are the double's.
            let seconds = now.saturating_sub(status.stamp.secs) as f64 as u64;
            let mut s = if up {
                format!("up (pid {}) {seconds} seconds", status.pid)
            } else {
                format!("down {seconds} seconds")
            };
            if up && !normally_up {
                s.push_str(", normally down");
            }
            if !up && *normally_up {
                s.push_str(", normally up");
            }
            if up && status.paused {
                s.push_str(", paused");
            }
            // daemontools' supervise writes 0 after `svc -o`: neither.
            if !up && status.want == b'u' {
                s.push_str(", want up");
            }
            if up && status.want == b'd' {
                s.push_str(", want down");
            }
            // After daemontools' words, in s6-svstat's.
            match readiness {
                Readiness::NotNotifying => {}
                Readiness::NotReady => s.push_str(", not ready"),
                Readiness::Ready(t) => {
                    let ago = now.saturating_sub(t.secs);
                    s.push_str(&format!(", ready {ago} seconds"));
                }
            }
            out.extend_from_slice(s.as_bytes());
        }
    }
    out.push(b'\n');
}

fn step_text(step: Step) -> &'static str {
    match step {
        Step::Chdir => "unable to chdir: ",
        Step::StatDown => "unable to stat down: ",
        Step::OpenOk => "unable to open supervise/ok: ",
        Step::OpenStatus => "unable to open supervise/status: ",
        Step::ReadStatus => "unable to read supervise/status: ",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::io::Errno;
    use supervise_proto::{RunState, Status, Tai64n};

    const NOW: u64 = TAI64_UNIX_OFFSET + 1_800_000_000;

    fn status(pid: u32, paused: bool, want: u8, age: u64) -> Status {
        Status {
            stamp: Tai64n {
                secs: NOW - age,
                nanos: 500,
            },
            pid,
            paused,
            want,
            got_term: false,
            state: if pid != 0 {
                RunState::Run
            } else {
                RunState::Down
            },
        }
    }

    fn text(f: &Finding) -> String {
        let mut v = Vec::new();
        line(&mut v, b"svc", f, NOW);
        String::from_utf8(v).unwrap()
    }

    fn sup(pid: u32, paused: bool, want: u8, age: u64, normally_up: bool) -> String {
        text(&Finding::Supervised {
            status: status(pid, paused, want, age),
            normally_up,
            readiness: Readiness::NotNotifying,
        })
    }

    #[test]
    fn readiness_after_daemontools_words() {
        let f = |readiness| {
            text(&Finding::Supervised {
                status: status(12, false, b'd', 9),
                normally_up: true,
                readiness,
            })
        };
        assert_eq!(
            f(Readiness::NotReady),
            "svc: up (pid 12) 9 seconds, want down, not ready\n"
        );
        let t = Tai64n {
            secs: NOW - 4,
            nanos: 0,
        };
        assert_eq!(
            f(Readiness::Ready(t)),
            "svc: up (pid 12) 9 seconds, want down, ready 4 seconds\n"
        );
    }

    #[test]
    fn up_lines() {
        assert_eq!(
            sup(12, false, b'u', 7, true),
            "svc: up (pid 12) 7 seconds\n"
        );
        assert_eq!(
            sup(12, true, b'd', 7, false),
            "svc: up (pid 12) 7 seconds, normally down, paused, want down\n"
        );
        // want up or daemontools' 0 add nothing while up.
        assert_eq!(sup(12, false, 0, 0, true), "svc: up (pid 12) 0 seconds\n");
    }

    #[test]
    fn down_lines() {
        assert_eq!(sup(0, false, b'd', 3, false), "svc: down 3 seconds\n");
        assert_eq!(
            sup(0, true, b'u', 3, true),
            "svc: down 3 seconds, normally up, want up\n"
        );
        assert_eq!(
            sup(0, false, b'd', 3, true),
            "svc: down 3 seconds, normally up\n"
        );
    }

    #[test]
    fn future_stamp_is_zero_seconds() {
        let f = Finding::Supervised {
            status: Status {
                stamp: Tai64n {
                    secs: NOW + 100,
                    nanos: 0,
                },
                ..status(5, false, b'u', 0)
            },
            normally_up: true,
            readiness: Readiness::NotNotifying,
        };
        assert_eq!(text(&f), "svc: up (pid 5) 0 seconds\n");
    }

    #[test]
    fn failures() {
        assert_eq!(text(&Finding::NotRunning), "svc: supervise not running\n");
        assert_eq!(
            text(&Finding::Failed(Step::Chdir, Errno::NOENT)),
            "svc: unable to chdir: file does not exist\n"
        );
        assert_eq!(
            text(&Finding::Failed(Step::StatDown, Errno::LOOP)),
            "svc: unable to stat down: symbolic link loop\n"
        );
        assert_eq!(
            text(&Finding::Failed(Step::OpenOk, Errno::NOENT)),
            "svc: unable to open supervise/ok: file does not exist\n"
        );
        assert_eq!(
            text(&Finding::Failed(Step::OpenStatus, Errno::ACCESS)),
            "svc: unable to open supervise/status: access denied\n"
        );
        assert_eq!(
            text(&Finding::Failed(Step::ReadStatus, Errno::ISDIR)),
            "svc: unable to read supervise/status: is a directory\n"
        );
        assert_eq!(
            text(&Finding::BadFormat),
            "svc: unable to read supervise/status: bad format\n"
        );
    }
}
