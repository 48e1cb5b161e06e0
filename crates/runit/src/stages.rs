//! The decisions runit makes, apart from the system calls: what to say and
//! what to do next when a stage ends, and what a request signal means.
//!
//! Semantics are runit 2.1.2's with upstream 2.3.0's fix for stages killed
//! by a signal: 2.1.2 took such a stage for a clean exit (a crashed stage 1
//! went on to stage 2, a crashed stage 2 to stage 3); 2.3.0, as the manual
//! always said, skips stage 2 after a crashed stage 1 and restarts a crashed
//! stage 2.

use crate::msg::Line;

/// How a stage process ended.
pub use supervise_proto::wait::Exit;

/// Stage numbers are 0, 1, 2 for /etc/runit/1, 2, 3.
pub type StageNo = usize;

/// What follows the end of a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Run this stage now.
    Run(StageNo),
    /// Kill stage 2's process group, wait 5 seconds, say "restarting." and
    /// run stage 2 again.
    RestartStage2,
    /// Stage 3 is over: kill everything and halt or reboot.
    Halt,
}

/// What runit says and does when stage `st` (named `name`) ends with `exit`.
pub fn stage_ended(st: StageNo, name: &str, exit: Exit) -> (Vec<Line>, Next) {
    let mut lines = Vec::new();
    let crashed = matches!(exit, Exit::Signal(_));
    let failed = crashed || exit != Exit::Code(0);
    if failed {
        lines.push(Line::Warn(format!(
            "child {}: {name}",
            if crashed { "crashed" } else { "failed" }
        )));
        if st == 0 && (crashed || exit == Exit::Code(100)) {
            lines.push(Line::Info(format!("leave stage: {name}")));
            lines.push(Line::Warn("skipping stage 2...".into()));
            return (lines, Next::Run(2));
        }
        if st == 1 && (crashed || exit == Exit::Code(111)) {
            lines.push(Line::Warn("killing all processes in stage 2...".into()));
            return (lines, Next::RestartStage2);
        }
    }
    lines.push(Line::Info(format!("leave stage: {name}")));
    let next = if st >= 2 {
        Next::Halt
    } else {
        Next::Run(st + 1)
    };
    (lines, next)
}

/// Request signals received and not yet acted on. Like runit's counters
/// they survive a stage change: a request that arrives as a stage ends is
/// answered in the next stage (with "signals only work in stage 2.").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requests {
    /// SIGCONT: shut down if the stopit file is owner-executable.
    pub cont: bool,
    /// SIGINT (ctrl-alt-del): run the ctrlaltdel program.
    pub int: bool,
    /// SIGPWR (Debian), and SIGTERM when runit is a container's init:
    /// shut down unconditionally.
    pub power: bool,
}

impl Requests {
    pub fn any(&self) -> bool {
        self.cont || self.int || self.power
    }
}

/// What to do about pending requests in stage `st`, step one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Nothing pending.
    Nothing,
    /// Not in stage 2: warn "signals only work in stage 2." and forget them.
    NotNow,
    /// In stage 2: go on to [`after_ctrlaltdel`] (running the ctrlaltdel
    /// program first when `run_ctrlaltdel`).
    Consider { run_ctrlaltdel: bool },
}

/// First step of answering requests. `ctrlaltdel_executable` is whether
/// the ctrlaltdel program is owner-executable.
pub fn answer(st: StageNo, req: &Requests, ctrlaltdel_executable: bool) -> Answer {
    if !req.any() {
        return Answer::Nothing;
    }
    if st != 1 {
        return Answer::NotNow;
    }
    Answer::Consider {
        run_ctrlaltdel: req.int && ctrlaltdel_executable,
    }
}

/// Second step, after the ctrlaltdel program (if any) has run: updates the
/// requests and says whether stage 2 is to be stopped. Having run
/// ctrlaltdel counts as a SIGCONT; the stopit file decides, except that a
/// power request always shuts down.
pub fn after_ctrlaltdel(req: &mut Requests, ran_ctrlaltdel: bool, stopit_executable: bool) -> bool {
    if ran_ctrlaltdel {
        req.int = false;
        req.cont = true;
    }
    if (req.cont && stopit_executable) || req.power {
        // runit clears the SIGCONT count here; Debian's power flag stays
        // set, so stage 3 will warn once that signals only work in stage 2.
        req.cont = false;
        return true;
    }
    req.cont = false;
    req.int = false;
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.text()).collect()
    }

    #[test]
    fn clean_exits_go_on() {
        let (l, n) = stage_ended(0, "/etc/runit/1", Exit::Code(0));
        assert_eq!(texts(&l), ["- runit: leave stage: /etc/runit/1\n"]);
        assert_eq!(n, Next::Run(1));
        assert_eq!(
            stage_ended(1, "/etc/runit/2", Exit::Code(0)).1,
            Next::Run(2)
        );
        assert_eq!(stage_ended(2, "/etc/runit/3", Exit::Code(0)).1, Next::Halt);
    }

    #[test]
    fn stage1_100_skips_stage2() {
        let (l, n) = stage_ended(0, "/etc/runit/1", Exit::Code(100));
        assert_eq!(
            texts(&l),
            [
                "- runit: warning: child failed: /etc/runit/1\n",
                "- runit: leave stage: /etc/runit/1\n",
                "- runit: warning: skipping stage 2...\n"
            ]
        );
        assert_eq!(n, Next::Run(2));
    }

    #[test]
    fn stage1_other_failure_goes_to_stage2() {
        let (l, n) = stage_ended(0, "/etc/runit/1", Exit::Code(1));
        assert_eq!(l.len(), 2);
        assert_eq!(n, Next::Run(1));
    }

    #[test]
    fn crashes_follow_2_3_0() {
        let (l, n) = stage_ended(0, "/etc/runit/1", Exit::Signal(9));
        assert_eq!(
            texts(&l)[0],
            "- runit: warning: child crashed: /etc/runit/1\n"
        );
        assert_eq!(n, Next::Run(2));
        let (l, n) = stage_ended(1, "/etc/runit/2", Exit::Signal(11));
        assert_eq!(
            texts(&l),
            [
                "- runit: warning: child crashed: /etc/runit/2\n",
                "- runit: warning: killing all processes in stage 2...\n"
            ]
        );
        assert_eq!(n, Next::RestartStage2);
        // A crashed stage 3 still halts.
        assert_eq!(
            stage_ended(2, "/etc/runit/3", Exit::Signal(6)).1,
            Next::Halt
        );
    }

    #[test]
    fn stage2_111_restarts_other_codes_halt() {
        assert_eq!(stage_ended(1, "x", Exit::Code(111)).1, Next::RestartStage2);
        let (l, n) = stage_ended(1, "/etc/runit/2", Exit::Code(3));
        assert_eq!(
            texts(&l),
            [
                "- runit: warning: child failed: /etc/runit/2\n",
                "- runit: leave stage: /etc/runit/2\n"
            ]
        );
        assert_eq!(n, Next::Run(2));
    }

    #[test]
    fn requests_outside_stage2_are_refused() {
        let r = Requests {
            cont: true,
            ..Default::default()
        };
        assert_eq!(answer(0, &r, true), Answer::NotNow);
        assert_eq!(answer(2, &r, true), Answer::NotNow);
        assert_eq!(answer(1, &Requests::default(), true), Answer::Nothing);
    }

    #[test]
    fn cont_needs_stopit() {
        let mut r = Requests {
            cont: true,
            ..Default::default()
        };
        assert_eq!(
            answer(1, &r, true),
            Answer::Consider {
                run_ctrlaltdel: false
            }
        );
        assert!(!after_ctrlaltdel(&mut r.clone(), false, false));
        assert!(after_ctrlaltdel(&mut r, false, true));
        assert_eq!(r, Requests::default());
    }

    #[test]
    fn int_runs_ctrlaltdel_then_acts_as_cont() {
        let mut r = Requests {
            int: true,
            ..Default::default()
        };
        assert_eq!(
            answer(1, &r, true),
            Answer::Consider {
                run_ctrlaltdel: true
            }
        );
        assert!(after_ctrlaltdel(&mut r, true, true));
        // Without an executable ctrlaltdel, SIGINT does nothing.
        let mut r = Requests {
            int: true,
            ..Default::default()
        };
        assert_eq!(
            answer(1, &r, false),
            Answer::Consider {
                run_ctrlaltdel: false
            }
        );
        assert!(!after_ctrlaltdel(&mut r, false, true));
        assert_eq!(r, Requests::default());
    }

    #[test]
    fn power_shuts_down_without_stopit_and_lingers() {
        let mut r = Requests {
            power: true,
            ..Default::default()
        };
        assert!(after_ctrlaltdel(&mut r, false, false));
        assert!(r.power);
        assert_eq!(answer(2, &r, false), Answer::NotNow);
    }
}
