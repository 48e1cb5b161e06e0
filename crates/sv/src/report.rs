//! sv's output, in runit 2.1.2's exact words: status lines on stdout, one
//! per service, and `fail:`/`warning:`/`ok:`/`timeout:` lines. It also
//! counts failures for the exit code.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::io::Errno;
use supervise_proto::xstatus::{NotifyState, Readiness};
use supervise_proto::{errno_str, Status};

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
        self.service.clear();
        self.service.extend_from_slice(name.as_bytes());
        self.log_suffix = false;
    }

    pub fn set_log_suffix(&mut self, on: bool) {
        self.log_suffix = on;
    }

    fn put(&mut self, s: &[u8]) {
        self.out.extend_from_slice(s);
        self.open = true;
    }

    fn name(&mut self) {
        self.out.extend_from_slice(&self.service);
        self.open = true;
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

    /// The log directory exists but cannot be entered (a warning: counted,
    /// as runit counts it).
    pub fn log_chdir_warning(&mut self, e: Errno) {
        self.put(b"; ");
        self.log_suffix = true;
        self.warn("unable to change directory", Some(e));
        self.log_suffix = false;
    }

    /// Appends one status description: `run: NAME: (pid P) Ns, ...`,
    /// NAME being the service as named on the command line, or `log` for
    /// its log service. `down` is the down file to judge "normally up/down"
    /// by (relative to the current directory). Returns whether a process
    /// runs. Written straight into the output buffer: with a thousand
    /// services on the command line, no allocation per line.
    ///
    /// As runit's sv, the head of the line follows the state byte as
    /// stored (`state`: 0 down, no pid; 1 run; 2 finish; any other byte
    /// no word, but the pid) and the clauses follow the pid, so a record
    /// that runsv would never write still reads as runit reads it.
    pub fn status_line(
        &mut self,
        log: bool,
        st: &Status,
        state: u8,
        now: u64,
        down: &Path,
        gave_up: bool,
    ) -> Option<bool> {
        let normally_up = match rustix::fs::stat(down) {
            Ok(_) => false,
            Err(Errno::NOENT) => true,
            Err(e) => {
                self.flush();
                let mut err = Vec::with_capacity(128);
                err.extend_from_slice(b"warning: ");
                err.extend_from_slice(if log { b"log" } else { &self.service });
                let _ = writeln!(err, ": unable to stat {}: {}", down.display(), errno_str(e));
                supervise_proto::fdio::eprint(&err);
                return None;
            }
        };
        let pid = st.pid != 0;
        self.open = true;
        let out = &mut self.out;
        let name: &[u8] = if log { b"log" } else { &self.service };
        out.extend_from_slice(match state {
            0 => b"down: ",
            1 => b"run: ",
            2 => b"finish: ",
            _ => b"",
        });
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        if state != 0 {
            // runit keeps the pid in a C int and prints it as unsigned
            // long: one with the top bit set comes out sign-extended.
            let _ = write!(out, "(pid {}) ", st.pid as i32 as i64 as u64);
        }
        // In TAI seconds, as runit subtracts: a stamp in the future is 0s,
        // one from before 1970 a great many.
        let now = now + supervise_proto::tai64::TAI64_UNIX_OFFSET;
        let _ = write!(out, "{}s", now.saturating_sub(st.stamp.secs));
        let notes: [(bool, &[u8]); 6] = [
            (pid && !normally_up, b", normally down"),
            (!pid && normally_up, b", normally up"),
            (pid && st.paused, b", paused"),
            (!pid && st.wants_up(), b", want up"),
            (pid && st.wants_down(), b", want down"),
            (pid && st.got_term, b", got TERM"),
        ];
        for (on, text) in notes {
            if on {
                out.extend_from_slice(text);
            }
        }
        // runsv gave up restarting it (crash-loop files: a `failed` mark
        // in supervise/xstatus); without such files the line is runit's.
        if !pid && gave_up {
            out.extend_from_slice(b", failed");
        }
        Some(pid)
    }

    /// Appends the readiness clause of a service that opted in to
    /// notification (after runit's clauses of its part): `, ready Ns` or
    /// `, not ready`, then `, reloading` / `, stopping` while a
    /// systemd-style service says so. Nothing for any other service.
    pub fn readiness_clause(&mut self, r: Readiness, state: Option<NotifyState>, now: u64) {
        match r {
            Readiness::NotNotifying => return,
            Readiness::NotReady => self.put(b", not ready"),
            Readiness::Ready(t) => {
                let _ = write!(self.out, ", ready {}s", now.saturating_sub(t.unix_secs()));
            }
        }
        if let Some(st) = state {
            self.put(b", ");
            self.put(st.name().as_bytes());
        }
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
