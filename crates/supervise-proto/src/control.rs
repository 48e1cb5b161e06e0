//! The bytes runsv accepts on `supervise/control`, one command per byte.

use rustix::process::Signal;

/// One control command. Bytes runsv does not know are ignored by it, so
/// [`Control::from_byte`] returns `None` for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Control {
    /// `u`: want up; start if not running.
    Up,
    /// `d`: want down; TERM then CONT the process.
    Down,
    /// `o`: run once: want down, but start if not running.
    Once,
    /// `x`: exit runsv once the service (and then its log) is down.
    Exit,
    /// `t`: TERM (restarts when wanted up).
    Term,
    /// `k`: KILL.
    Kill,
    /// `p`: STOP, and mark paused.
    Pause,
    /// `c`: CONT, and clear paused.
    Cont,
    /// `h`: HUP.
    Hup,
    /// `a`: ALRM.
    Alarm,
    /// `i`: INT.
    Interrupt,
    /// `q`: QUIT.
    Quit,
    /// `1`: USR1.
    Usr1,
    /// `2`: USR2.
    Usr2,
}

impl Control {
    /// Every command, in runit's documentation order.
    pub const ALL: [Control; 14] = [
        Control::Up,
        Control::Down,
        Control::Once,
        Control::Pause,
        Control::Cont,
        Control::Hup,
        Control::Alarm,
        Control::Interrupt,
        Control::Quit,
        Control::Usr1,
        Control::Usr2,
        Control::Term,
        Control::Kill,
        Control::Exit,
    ];

    /// Decodes one control byte.
    pub fn from_byte(b: u8) -> Option<Control> {
        Some(match b {
            b'u' => Control::Up,
            b'd' => Control::Down,
            b'o' => Control::Once,
            b'x' => Control::Exit,
            b't' => Control::Term,
            b'k' => Control::Kill,
            b'p' => Control::Pause,
            b'c' => Control::Cont,
            b'h' => Control::Hup,
            b'a' => Control::Alarm,
            b'i' => Control::Interrupt,
            b'q' => Control::Quit,
            b'1' => Control::Usr1,
            b'2' => Control::Usr2,
            _ => return None,
        })
    }

    /// The byte written to the FIFO.
    pub fn byte(self) -> u8 {
        match self {
            Control::Up => b'u',
            Control::Down => b'd',
            Control::Once => b'o',
            Control::Exit => b'x',
            Control::Term => b't',
            Control::Kill => b'k',
            Control::Pause => b'p',
            Control::Cont => b'c',
            Control::Hup => b'h',
            Control::Alarm => b'a',
            Control::Interrupt => b'i',
            Control::Quit => b'q',
            Control::Usr1 => b'1',
            Control::Usr2 => b'2',
        }
    }

    /// The signal a plain signal command sends (`k p c h a i q 1 2`, and
    /// `t` as the first step of stopping).
    pub fn signal(self) -> Option<Signal> {
        Some(match self {
            Control::Term => Signal::TERM,
            Control::Kill => Signal::KILL,
            Control::Pause => Signal::STOP,
            Control::Cont => Signal::CONT,
            Control::Hup => Signal::HUP,
            Control::Alarm => Signal::ALARM,
            Control::Interrupt => Signal::INT,
            Control::Quit => Signal::QUIT,
            Control::Usr1 => Signal::USR1,
            Control::Usr2 => Signal::USR2,
            Control::Up | Control::Down | Control::Once | Control::Exit => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip() {
        for c in Control::ALL {
            assert_eq!(Control::from_byte(c.byte()), Some(c));
        }
        let known: Vec<u8> = Control::ALL.iter().map(|c| c.byte()).collect();
        for b in 0..=255u8 {
            assert_eq!(Control::from_byte(b).is_some(), known.contains(&b), "{b}");
        }
    }

    #[test]
    fn signals() {
        assert_eq!(Control::Term.signal(), Some(Signal::TERM));
        assert_eq!(Control::Pause.signal(), Some(Signal::STOP));
        assert_eq!(Control::Usr2.signal(), Some(Signal::USR2));
        for c in [Control::Up, Control::Down, Control::Once, Control::Exit] {
            assert_eq!(c.signal(), None);
        }
    }
}
