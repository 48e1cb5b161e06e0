//! runsv's diagnostics, in runit's words: `runsv DIR: warning: WHAT: ERR`.

use rustix::io::Errno;
use supervise_proto::errno_str;
use supervise_proto::status::{WriteError, WriteStep};

/// Exit code of a fatal error.
pub const FATAL: i32 = 111;

#[derive(Clone)]
pub struct Messages {
    dir: String,
}

impl Messages {
    pub fn new(dir: &str) -> Messages {
        Messages {
            dir: dir.to_string(),
        }
    }

    /// `runsv DIR: warning: WHAT: ERR`
    pub fn warn(&self, what: &str, e: Errno) {
        say(format_args!(
            "runsv {}: warning: {}: {}\n",
            self.dir,
            what,
            errno_str(e)
        ));
    }

    /// `runsv DIR: warning: WHAT`
    pub fn warnx(&self, what: &str) {
        say(format_args!("runsv {}: warning: {}\n", self.dir, what));
    }

    /// A file of supervise/ could not be replaced: runit's warning for
    /// the step that failed.
    pub fn write_failed(&self, e: WriteError) {
        let what = match e.step {
            WriteStep::Open => format!("unable to open {}", e.tmp),
            WriteStep::Write => format!("unable to write {}", e.tmp),
            // runit names the new file without its directory here.
            WriteStep::Rename => {
                let name = e.tmp.rsplit('/').next().unwrap_or(e.tmp);
                format!("unable to rename {name} to {}", e.path)
            }
        };
        self.warn(&what, e.errno);
    }

    /// Prints `runsv DIR: fatal: WHAT: ERR` and returns the exit code.
    pub fn fatal(&self, what: &str, e: Errno) -> i32 {
        say(format_args!(
            "runsv {}: fatal: {}: {}\n",
            self.dir,
            what,
            errno_str(e)
        ));
        FATAL
    }

    /// `runsv DIR: fatal: WHAT`, for a child to print with its error.
    pub fn fatal_text(&self, what: &str) -> String {
        format!("runsv {}: fatal: {}", self.dir, what)
    }

    /// Prints `runsv DIR: fatal: WHAT` and returns the exit code.
    pub fn fatalx(&self, what: &str) -> i32 {
        say(format_args!("runsv {}: fatal: {}\n", self.dir, what));
        FATAL
    }
}

/// Writes one message to standard error in one write. Errors are ignored:
/// a supervisor must not die because nobody reads its diagnostics
/// (eprintln! would panic, and SIGPIPE is ignored for the same reason).
pub fn say(args: std::fmt::Arguments) {
    let text = std::fmt::format(args);
    supervise_proto::fdio::eprint(text.as_bytes());
}
