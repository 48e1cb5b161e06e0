//! sv's output, in runit 2.1.2's exact words: status lines on stdout, one
//! per service, and `fail:`/`warning:`/`ok:`/`timeout:` lines. It also
//! counts failures for the exit code.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::io::Errno;
use supervise_proto::{errno_str, RunState, Status};

pub struct Report {
    out: Vec<u8>,
    /// Something was written since the last newline.
    open: bool,
    /// The service as named on the command line.
    service: Vec<u8>,
    /// Messages are about the log service: name it `NAME/log`.
    log_suffix: bool,
    /// Services that failed, warned or timed out.
    failures: u32,
}

impl Report {
    pub fn new() -> Report {
        Report {
            out: Vec::with_capacity(4096),
            open: false,
            service: Vec::new(),
            log_suffix: false,
            failures: 0,
        }
    }

    pub fn set_service(&mut self, name: &OsString) {
        self.service = name.as_bytes().to_vec();
        self.log_suffix = false;
    }

    pub fn set_log_suffix(&mut self, on: bool) {
        self.log_suffix = on;
    }

    pub fn service_name(&self) -> String {
        String::from_utf8_lossy(&self.service).into_owned()
    }

    fn put(&mut self, s: &[u8]) {
        self.out.extend_from_slice(s);
        self.open = true;
    }

    fn name(&mut self) {
        let name = self.service.clone();
        self.put(&name);
        if self.log_suffix {
            self.put(b"/log");
        }
    }

    fn message(&mut self, prefix: &str, what: &str, e: Option<Errno>) {
        self.put(prefix.as_bytes());
        self.name();
        self.put(b": ");
        self.put(what.as_bytes());
        if let Some(e) = e {
            self.put(b": ");
            self.put(errno_str(e).as_bytes());
        }
        self.end_line();
    }

    /// `fail: NAME: WHAT[: ERR]`
    pub fn fail(&mut self, what: &str, e: Option<Errno>) {
        self.failures += 1;
        self.message("fail: ", what, e);
    }

    /// `warning: NAME: WHAT[: ERR]`
    pub fn warn(&mut self, what: &str, e: Option<Errno>) {
        self.failures += 1;
        self.message("warning: ", what, e);
    }

    /// `ok: NAME: WHAT`
    pub fn ok_line(&mut self, what: &str) {
        self.message("ok: ", what, None);
    }

    /// `ok: ` before a status line.
    pub fn ok_prefix(&mut self) {
        self.put(b"ok: ");
    }

    /// `timeout: ` or `kill: ` before a status line; counts as a failure.
    pub fn timeout_prefix(&mut self, kill: bool) {
        self.failures += 1;
        self.put(if kill { b"kill: " } else { b"timeout: " });
    }

    /// `; ` between the service's and the log's status.
    pub fn separator_next(&mut self) {
        self.put(b"; ");
    }

    /// The log directory exists but cannot be entered.
    pub fn log_chdir_warning(&mut self, e: Errno) {
        self.put(b"; ");
        self.log_suffix = true;
        self.message("warning: ", "unable to change directory", Some(e));
        self.log_suffix = false;
    }

    /// Appends one status description: `run: NAME: (pid P) Ns, ...`.
    /// `down` is the down file to judge "normally up/down" by (relative to
    /// the current directory). Returns whether a process runs.
    pub fn status_line(&mut self, name: &str, st: &Status, now: u64, down: &Path) -> Option<bool> {
        let normally_up = match rustix::fs::stat(down) {
            Ok(_) => false,
            Err(Errno::NOENT) => true,
            Err(e) => {
                self.flush();
                eprintln!(
                    "warning: {}: unable to stat {}: {}",
                    name,
                    down.display(),
                    errno_str(e)
                );
                return None;
            }
        };
        let pid = st.pid != 0;
        let mut s = String::with_capacity(96);
        if pid {
            s.push_str(match st.state {
                RunState::Run => "run: ",
                RunState::Finish => "finish: ",
                RunState::Down => "",
            });
            s.push_str(name);
            s.push_str(&format!(": (pid {}) ", st.pid));
        } else {
            s.push_str("down: ");
            s.push_str(name);
            s.push_str(": ");
        }
        s.push_str(&format!("{}s", now.saturating_sub(st.stamp.unix_secs())));
        if pid && !normally_up {
            s.push_str(", normally down");
        }
        if !pid && normally_up {
            s.push_str(", normally up");
        }
        if pid && st.paused {
            s.push_str(", paused");
        }
        if !pid && st.wants_up() {
            s.push_str(", want up");
        }
        if pid && st.wants_down() {
            s.push_str(", want down");
        }
        if pid && st.got_term {
            s.push_str(", got TERM");
        }
        self.put(s.as_bytes());
        Some(pid)
    }

    /// Ends the current line, if one is open. Lines are written out in
    /// batches (before sv waits, and at exit), not one write per line.
    pub fn end_line(&mut self) {
        if self.open {
            self.out.push(b'\n');
            self.open = false;
        }
        if self.out.len() >= 16 * 1024 {
            self.flush();
        }
    }

    /// Writes out what has been collected.
    pub fn flush(&mut self) {
        if !self.out.is_empty() {
            let mut o = std::io::stdout().lock();
            let _ = o.write_all(&self.out);
            let _ = o.flush();
            self.out.clear();
        }
    }

    /// Failures counted, capped at 99 as runit caps them.
    pub fn exit_code(&self) -> i32 {
        self.failures.min(99) as i32
    }
}
