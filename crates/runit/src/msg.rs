//! runit's console messages.
//!
//! PID 1 writes each message with one write(2) on descriptor 2 (the
//! console), unbuffered, so lines from the stages and from runit do not
//! interleave mid-line and nothing is lost if runit is killed.

/// Prefix of informational lines.
pub const INFO: &str = "- runit: ";
/// Prefix of warnings.
pub const WARNING: &str = "- runit: warning: ";
/// Prefix of fatal errors.
pub const FATAL: &str = "- runit: fatal: ";

/// What runit says in its boot line, where runit 2.1.2 shows its source
/// file's RCS id.
pub const ID: &str = concat!("$Id: runit-rs ", env!("CARGO_PKG_VERSION"), " $");

/// One line runit prints, before the prefix is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Info(String),
    Warn(String),
    Fatal(String),
}

impl Line {
    /// The full text, newline included.
    pub fn text(&self) -> String {
        match self {
            Line::Info(s) => format!("{INFO}{s}\n"),
            Line::Warn(s) => format!("{WARNING}{s}\n"),
            Line::Fatal(s) => format!("{FATAL}{s}\n"),
        }
    }
}

/// Writes raw bytes to standard error, retrying on EINTR and short
/// writes; errors are dropped (there is nowhere to report them).
pub fn write_stderr(bytes: &[u8]) {
    supervise_proto::fdio::eprint(bytes);
}

/// Prints one line on standard error.
pub fn say(line: &Line) {
    write_stderr(line.text().as_bytes());
}

/// Prints several lines.
pub fn say_all(lines: &[Line]) {
    for l in lines {
        say(l);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(
            Line::Info("enter stage: /etc/runit/1".into()).text(),
            "- runit: enter stage: /etc/runit/1\n"
        );
        assert_eq!(
            Line::Warn("skipping stage 2...".into()).text(),
            "- runit: warning: skipping stage 2...\n"
        );
        assert_eq!(
            Line::Fatal("must be run as process no 1.".into()).text(),
            "- runit: fatal: must be run as process no 1.\n"
        );
    }
}
