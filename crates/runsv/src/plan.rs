//! What one control command asks of a service, decided without touching
//! the system: a new "want", whether to run once, and a list of steps.
//!
//! A step may first consult a custom control script `control/C`; its exit
//! status 0 means "handled", and the step's default action (usually a
//! signal) is then skipped. The supervisor executes the steps in order and
//! does not take the next command until they are done, so a byte sequence
//! such as `tcu` keeps runit's meaning even though the scripts run without
//! freezing the supervisor.
//!
//! As in runit, signals and their scripts are for ./run only: while
//! ./finish runs, `t h a i q 1 2 p c` send nothing and run no script (`p`
//! and `c` still set and clear the paused flag). `k` is the exception, by
//! choice: it kills ./finish too.

use rustix::process::Signal;
use supervise_proto::{Control, RunState, Want};

/// What a step does after its control script (if any) has answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing beyond running the script.
    Nothing,
    /// Send the signal unless the script handled it.
    Signal(Signal),
    /// Send TERM and record "got TERM" unless the script handled it.
    Term,
    /// Send STOP unless handled; mark paused either way.
    Pause,
    /// Send CONT unless handled; clear paused either way.
    Cont,
}

/// One step: an optional control script to consult, then an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub script: Option<Control>,
    pub action: Action,
}

/// Everything a control command changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The new want, written to the status file before any step runs.
    pub want: Option<Want>,
    /// Start ./run once when nothing runs (the `o` command).
    pub once: bool,
    pub steps: Vec<Step>,
}

/// The parts of a service's state that decide a plan.
#[derive(Clone, Copy, Debug)]
pub struct View {
    pub running: bool,
    pub state: RunState,
    pub want: Want,
    /// runsv has sent TERM and ./run has not exited yet.
    pub got_term: bool,
    pub is_log: bool,
}

/// Plans control command `c` for a service in state `v`.
pub fn plan(c: Control, v: View) -> Plan {
    // The log service has no custom control scripts.
    let script = |c: Control| (!v.is_log).then_some(c);
    // ./run itself runs (not ./finish).
    let run = v.running && v.state == RunState::Run;
    let mut p = Plan::default();
    match c {
        Control::Up => p.want = Some(Want::Up),
        Control::Down => {
            p.want = Some(Want::Down);
            if run {
                p.steps = stop_steps(Want::Down, v.is_log);
            }
        }
        Control::Exit => {
            if v.is_log {
                return p;
            }
            p.want = Some(Want::Exit);
            if run {
                p.steps = stop_steps(Want::Exit, v.is_log);
            }
        }
        Control::Term => {
            if run {
                p.steps = stop_steps(v.want, v.is_log);
            }
        }
        Control::Once => {
            p.want = Some(Want::Down);
            // runit starts ./run when it reads `o` with nothing running.
            // It reads one byte per round and reaps in between, so an `o`
            // right behind a `d` finds ./run gone; here the bytes come in
            // one batch, so an `o` during a stop we sent counts as read
            // once ./run has exited.
            p.once = !v.running || (run && v.got_term);
        }
        Control::Kill => {
            // Unlike runit 2.1.2 (which ignores `k` during ./finish and then
            // runs ./finish a second time), a KILL reaches ./finish too.
            if v.running {
                p.steps.push(Step {
                    script: script(c),
                    action: Action::Signal(Signal::KILL),
                });
            }
        }
        Control::Pause | Control::Cont => p.steps.push(Step {
            script: if run { script(c) } else { None },
            action: if c == Control::Pause {
                Action::Pause
            } else {
                Action::Cont
            },
        }),
        Control::Hup
        | Control::Alarm
        | Control::Interrupt
        | Control::Quit
        | Control::Usr1
        | Control::Usr2 => {
            if let Some(sig) = c.signal().filter(|_| run) {
                p.steps.push(Step {
                    script: script(c),
                    action: Action::Signal(sig),
                });
            }
        }
    }
    p
}

/// Whether `sig` goes to a service in `state`: runit signals ./run only;
/// our KILL reaches ./finish too. Checked again when the step acts, since
/// a control script may run long enough for ./run to end meanwhile.
pub fn signals_reach(state: RunState, sig: Signal) -> bool {
    state == RunState::Run || sig == Signal::KILL
}

/// Stopping: control/t may replace the TERM; when the service is wanted
/// down (or runsv is to exit) a CONT follows, so a paused process can act on
/// the TERM, and then control/d (or control/x) runs.
fn stop_steps(want: Want, is_log: bool) -> Vec<Step> {
    let script = |c: Control| (!is_log).then_some(c);
    let mut steps = vec![Step {
        script: script(Control::Term),
        action: Action::Term,
    }];
    let after = match want {
        Want::Down => Control::Down,
        Want::Exit => Control::Exit,
        Want::Up => return steps,
    };
    steps.push(Step {
        script: None,
        action: Action::Signal(Signal::CONT),
    });
    steps.push(Step {
        script: script(after),
        action: Action::Nothing,
    });
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plans the command spelt by byte `b`.
    fn plan(b: u8, v: View) -> Plan {
        super::plan(Control::from_byte(b).expect("a control byte"), v)
    }

    fn view(running: bool, state: RunState, want: Want) -> View {
        View {
            running,
            state,
            want,
            got_term: false,
            is_log: false,
        }
    }

    const RUN: View = View {
        running: true,
        state: RunState::Run,
        want: Want::Up,
        got_term: false,
        is_log: false,
    };

    fn step(script: Option<u8>, action: Action) -> Step {
        Step {
            script: script.and_then(Control::from_byte),
            action,
        }
    }

    #[test]
    fn down_terms_conts_and_runs_control_d() {
        let p = plan(b'd', RUN);
        assert_eq!(p.want, Some(Want::Down));
        assert_eq!(
            p.steps,
            vec![
                step(Some(b't'), Action::Term),
                step(None, Action::Signal(Signal::CONT)),
                step(Some(b'd'), Action::Nothing),
            ]
        );
    }

    #[test]
    fn term_when_wanted_up_only_terms() {
        assert_eq!(plan(b't', RUN).steps, vec![step(Some(b't'), Action::Term)]);
        assert_eq!(plan(b't', RUN).want, None);
    }

    #[test]
    fn exit_uses_control_x_and_is_ignored_by_the_log() {
        let p = plan(b'x', RUN);
        assert_eq!(p.want, Some(Want::Exit));
        assert_eq!(p.steps[2], step(Some(b'x'), Action::Nothing));
        let log = View {
            is_log: true,
            ..RUN
        };
        assert_eq!(plan(b'x', log), Plan::default());
    }

    #[test]
    fn nothing_is_stopped_during_finish_or_when_down() {
        let fin = view(true, RunState::Finish, Want::Up);
        assert!(plan(b'd', fin).steps.is_empty());
        assert!(plan(b't', fin).steps.is_empty());
        let down = view(false, RunState::Down, Want::Up);
        assert!(plan(b'd', down).steps.is_empty());
        assert_eq!(plan(b'd', down).want, Some(Want::Down));
    }

    #[test]
    fn once_starts_only_when_nothing_runs_or_a_stop_is_under_way() {
        let down = view(false, RunState::Down, Want::Down);
        assert_eq!(
            plan(b'o', down),
            Plan {
                want: Some(Want::Down),
                once: true,
                steps: vec![]
            }
        );
        assert!(!plan(b'o', RUN).once);
        assert_eq!(plan(b'u', down).want, Some(Want::Up));
        // `do` in one write: TERM is out, ./run not yet reaped.
        let stopping = View {
            got_term: true,
            want: Want::Down,
            ..RUN
        };
        assert!(plan(b'o', stopping).once);
        // During ./finish `o` starts nothing, as in runit.
        let fin = view(true, RunState::Finish, Want::Down);
        assert!(!plan(b'o', fin).once);
    }

    #[test]
    fn signals_consult_their_scripts() {
        for (b, s) in [
            (b'h', Signal::HUP),
            (b'a', Signal::ALARM),
            (b'i', Signal::INT),
            (b'q', Signal::QUIT),
            (b'1', Signal::USR1),
            (b'2', Signal::USR2),
            (b'k', Signal::KILL),
        ] {
            assert_eq!(plan(b, RUN).steps, vec![step(Some(b), Action::Signal(s))]);
            let down = view(false, RunState::Down, Want::Up);
            assert!(plan(b, down).steps.is_empty());
        }
    }

    #[test]
    fn during_finish_only_k_acts_and_p_c_only_mark() {
        let fin = view(true, RunState::Finish, Want::Down);
        for b in *b"haiq12t" {
            assert!(plan(b, fin).steps.is_empty(), "{}", b as char);
        }
        assert_eq!(plan(b'p', fin).steps, vec![step(None, Action::Pause)]);
        assert_eq!(plan(b'c', fin).steps, vec![step(None, Action::Cont)]);
        assert_eq!(
            plan(b'k', fin).steps,
            vec![step(Some(b'k'), Action::Signal(Signal::KILL))]
        );
        assert!(!signals_reach(RunState::Finish, Signal::STOP));
        assert!(!signals_reach(RunState::Finish, Signal::HUP));
        assert!(signals_reach(RunState::Finish, Signal::KILL));
        assert!(signals_reach(RunState::Run, Signal::HUP));
    }

    #[test]
    fn pause_and_cont_mark_even_without_a_process() {
        let down = view(false, RunState::Down, Want::Up);
        assert_eq!(plan(b'p', down).steps, vec![step(None, Action::Pause)]);
        assert_eq!(plan(b'c', RUN).steps, vec![step(Some(b'c'), Action::Cont)]);
    }

    #[test]
    fn log_service_never_uses_scripts() {
        let log = View {
            is_log: true,
            ..RUN
        };
        for b in b"dthaiq12kpc" {
            assert!(
                plan(*b, log).steps.iter().all(|s| s.script.is_none()),
                "{}",
                *b as char
            );
        }
    }
}
