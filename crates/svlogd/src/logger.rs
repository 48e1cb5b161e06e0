//! The main loop: poll standard input, the signal pipe and the `t`
//! deadlines; read what is available in one large read, hand every
//! complete line to the log directories, and write each directory's
//! share with one write per batch. Nothing waits for a buffer to fill:
//! what one read returned is written before the next read.

use std::ffi::OsString;
use std::time::Instant;

use rustix::event::{poll, PollFd, PollFlags};
use rustix::io::Errno;

use crate::lines::{Sink, Splitter};
use crate::logdir::LogDir;
use crate::msg;
use crate::options::Options;
use crate::stamp::{Clock, Stamper, STAMP_LEN};
use supervise_proto::selfpipe::{self as signals, Signals};

/// Input buffer size: half a pipe's worth per read. Throughput is the
/// same as with a whole pipe's worth (64 KiB) and the process stays
/// smaller; see `logdir::FLUSH_AT` for the figures.
const READ_SIZE: usize = 32 * 1024;

/// runit never sleeps longer than this in one poll.
const MAX_POLL_SECS: u64 = 2744;

pub struct Logger {
    dirs: Vec<LogDir>,
    names: Vec<OsString>,
    stamper: Stamper,
    splitter: Splitter,
    buf: Vec<u8>,
    held: usize,
    signals: Signals,
    exiting: bool,
    eof: bool,
}

/// Hands lines to every open directory (and to standard error).
struct Out<'a> {
    dirs: &'a mut [LogDir],
}

impl Sink for Out<'_> {
    #[inline]
    fn head(&mut self, stamp: &[u8], head: &[u8], truncated: bool, complete: bool) {
        for d in self.dirs.iter_mut() {
            if !d.is_open() {
                continue;
            }
            let (log, err) = if d.has_patterns() {
                d.select(head)
            } else {
                (true, false)
            };
            if err {
                let dots: &[u8] = if truncated { b"..." } else { b"" };
                msg::queue(&[stamp, d.prefix(), head, dots, b"\n"]);
            }
            d.line_selected = log && !d.udp_only();
            if !log {
                continue;
            }
            d.udp_line(stamp, head, truncated);
            if !d.udp_only() {
                d.write_head(stamp, head, complete);
            }
        }
    }

    fn tail(&mut self, chunk: &[u8]) {
        for d in self.dirs.iter_mut() {
            if d.is_open() && d.line_selected {
                d.append(&[chunk], false);
            }
        }
    }

    fn end(&mut self) {
        for d in self.dirs.iter_mut() {
            if d.is_open() && d.line_selected {
                d.append(&[b"\n"], true);
            }
        }
    }
}

/// The input buffer: a whole read, and room for one head of -l bytes
/// behind a held partial line. runit allocates -b and -l bytes at start-up
/// and says "out of memory" when it cannot; so does this, where a failed
/// allocation would abort. Both sizes are tried and given back first; the
/// buffer itself is zeroed lazily by the allocator, and -b is not used
/// (our reads are sized for throughput instead).
fn input_buffer(opts: &Options) -> Vec<u8> {
    let len = opts.line_max.saturating_add(1).max(READ_SIZE);
    let fits = |n: usize| {
        supervise_proto::start::fallibly(|| Vec::<u8>::new().try_reserve_exact(n).is_ok())
    };
    if !fits(opts.buf_len) || !fits(len) {
        msg::fatalx("out of memory.");
    }
    vec![0; len]
}

impl Logger {
    pub fn new(opts: &Options, signals: Signals) -> Logger {
        Logger {
            dirs: opts
                .dirs
                .iter()
                .map(|n| LogDir::new(n, opts.line_max))
                .collect(),
            names: opts.dirs.clone(),
            stamper: Stamper::new(opts.stamp),
            splitter: Splitter::new(opts.line_max, opts.repl, &opts.replace),
            buf: input_buffer(opts),
            held: 0,
            signals,
            exiting: false,
            eof: false,
        }
    }

    /// Closes and reopens every directory; exits 111 when none works.
    /// `first`: at start-up, before any input was read.
    fn reopen(&mut self, first: bool) {
        let mut ok = false;
        for d in self.dirs.iter_mut() {
            d.close();
            if d.open(first) {
                ok = true;
            }
        }
        if !ok {
            msg::fatalx("no functional log directories.");
        }
        debug_assert_eq!(self.names.len(), self.dirs.len());
    }

    /// Acts on signals that arrived; `woken` when poll saw the signal
    /// pipe readable (only then is it worth a read to empty it).
    fn handle_signals(&mut self, woken: bool) {
        if woken {
            self.signals.drain();
        }
        if signals::take(&signals::CHLD) {
            msg::info(&[b"sigchild received."]);
            for d in self.dirs.iter_mut() {
                d.reap();
            }
        }
        if signals::take(&signals::ALRM) {
            msg::info(&[b"sigalarm received."]);
            for d in self.dirs.iter_mut() {
                d.rotate();
            }
        }
        if signals::take(&signals::HUP) {
            msg::info(&[b"sighangup received."]);
            self.reopen(false);
        }
        // TERM stays set (see `msg::stopping`).
        if !self.exiting && msg::stopping() {
            msg::info(&[b"sigterm received."]);
            self.exiting = true;
        }
    }

    fn flush_all(&mut self) {
        for d in self.dirs.iter_mut() {
            d.flush();
        }
        msg::flush();
    }

    /// One read from standard input and everything it completes.
    fn read_input(&mut self) {
        // After TERM only the line in progress is finished, a byte at a
        // time, so nothing past its end is taken from the pipe.
        let room = if self.exiting {
            1
        } else {
            self.buf.len() - self.held
        };
        let r = rustix::io::read(
            rustix::stdio::stdin(),
            &mut self.buf[self.held..self.held + room],
        );
        match r {
            Ok(0) => self.end_of_input(),
            Ok(n) => {
                self.held += n;
                let mut stamp = [0u8; STAMP_LEN];
                let s = self.stamper.stamp(Clock::now());
                let stamp = {
                    stamp[..s.len()].copy_from_slice(s);
                    &stamp[..s.len()]
                };
                let mut out = Out {
                    dirs: &mut self.dirs,
                };
                let used = self.splitter.feed(&self.buf[..self.held], stamp, &mut out);
                self.buf.copy_within(used..self.held, 0);
                self.held -= used;
            }
            Err(Errno::INTR) | Err(Errno::AGAIN) => {}
            Err(e) => {
                msg::warn1("unable to read standard input", e);
                self.end_of_input();
            }
        }
        self.flush_all();
    }

    /// End of input: an unfinished last line is kept, with a newline.
    fn end_of_input(&mut self) {
        let mut out = Out {
            dirs: &mut self.dirs,
        };
        self.splitter.finish(&self.buf[..self.held], &mut out);
        self.held = 0;
        self.eof = true;
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.dirs.iter().filter_map(|d| d.deadline()).min()
    }

    pub fn run(&mut self) -> i32 {
        self.reopen(true);
        // Everything the logging itself needs is allocated by now (the
        // input buffer, each directory's output buffer); from the first
        // read on, what svlogd holds must wait for memory, not die.
        supervise_proto::start::nomem_pause(crate::NOMEM_PAUSE);
        let mut woken = true;
        loop {
            self.handle_signals(woken);
            let now = Instant::now();
            for d in self.dirs.iter_mut() {
                d.check_deadline(now);
            }
            msg::flush();
            if self.eof || (self.exiting && !self.splitter.in_line()) {
                break;
            }
            let timeout = self.next_deadline().map(|d| {
                let left = d.saturating_duration_since(Instant::now());
                let left = left.min(std::time::Duration::from_secs(MAX_POLL_SECS));
                rustix::time::Timespec {
                    tv_sec: left.as_secs() as _,
                    tv_nsec: left.subsec_nanos() as _,
                }
            });
            let stdin = rustix::stdio::stdin();
            let mut fds = [
                PollFd::new(&stdin, PollFlags::IN),
                PollFd::new(&self.signals.pipe, PollFlags::IN),
            ];
            match poll(&mut fds, timeout.as_ref()) {
                Ok(_) => {}
                Err(Errno::INTR) => {
                    woken = true;
                    continue;
                }
                Err(e) => msg::fatal("unable to poll", e),
            }
            woken = !fds[1].revents().is_empty();
            let input = fds[0].revents();
            if !input.is_empty() {
                self.read_input();
            }
        }
        for d in self.dirs.iter_mut() {
            d.wait_job();
            d.close();
        }
        msg::flush();
        0
    }
}
