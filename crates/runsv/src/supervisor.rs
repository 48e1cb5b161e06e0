//! The supervisor: one poll loop over the control FIFOs and a self-pipe
//! that signals write to. It starts the service and its log, reaps them,
//! acts on control bytes and exits when told to. It never sleeps: runit's
//! one-second restart pause is a poll deadline here, and control scripts
//! run while the loop goes on serving signals.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::time::Instant;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::fs::{open, stat, FileType, Mode, OFlags};
use rustix::io::Errno;
use rustix::pipe::{pipe_with, PipeFlags};
use rustix::process::Signal;
use supervise_proto::selfpipe::{self, Signals};
use supervise_proto::svdir::{
    control_script, DOWN, FINISH, FINISH_ARGV0, LOG, LOG_DOWN, LOG_FILES, MAIN_FILES, RUN_ARGV0,
};
use supervise_proto::wait::Wstat;
use supervise_proto::{Control, RunState, Want};

use crate::access::Access;
use crate::deaths;
use crate::msg::Messages;
use crate::plan::{plan, signals_reach, Action, Step, View};
use crate::service::{Now, Service};
use crate::setup;
use crate::spawn::{spawn, Wiring};
use crate::stop::Placement;

/// How long to wait before retrying after fork failed (runit: 5 s).
const FORK_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

/// Which of the two services.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Which {
    Main,
    Log,
}

pub struct Supervisor {
    msg: Messages,
    main: Service,
    log: Option<Service>,
    /// The pipe from the service's stdout to the log's stdin. runsv holds
    /// both ends for its whole life, so no line is lost while either side
    /// restarts.
    log_pipe: Option<(OwnedFd, OwnedFd)>,
    signals: Signals,
    /// The ok FIFOs are still to be opened (after the first status write).
    ok_pending: bool,
    /// Whether the next try is the first (only that one can be fatal).
    ok_first_try: bool,
    /// Opening them failed before anything was started: runsv exits
    /// with this code, as runit's does.
    fatal: Option<i32>,
}

impl Supervisor {
    /// Prepares the directory (chdir, supervise/, locks, FIFOs); on failure
    /// returns runit's exit code after printing its message.
    pub fn start(dir: &OsStr, msg: Messages) -> Result<Supervisor, i32> {
        let signals = Signals::install(&[Signal::CHILD.as_raw(), Signal::TERM.as_raw()])
            .map_err(|e| msg.fatal("unable to create selfpipe", e))?;
        rustix::process::chdir(dir).map_err(|e| msg.fatal("unable to change to directory", e))?;

        let want = if stat(DOWN).is_ok() {
            Want::Down
        } else {
            Want::Up
        };
        let mut main = Service::new(false, &MAIN_FILES, want, Now::read());

        let mut log = None;
        let mut log_pipe = None;
        match stat(LOG) {
            Err(Errno::NOENT) => {}
            Err(e) => msg.warn("unable to stat() ./log", e),
            Ok(st) if FileType::from_raw_mode(st.st_mode) != FileType::Directory => {
                msg.warnx("./log: not a directory.")
            }
            Ok(_) => {
                let want = if stat(LOG_DOWN).is_ok() {
                    Want::Down
                } else {
                    Want::Up
                };
                log = Some(Service::new(true, &LOG_FILES, want, Now::read()));
                let (r, w) = pipe_with(PipeFlags::CLOEXEC)
                    .map_err(|e| msg.fatal("unable to create log pipe", e))?;
                log_pipe = Some((r, w));
            }
        }

        setup::make_supervise_dir(&MAIN_FILES, &msg)?;
        main.lock_fd = Some(setup::lock(&MAIN_FILES, false, &msg)?);
        if let Some(l) = log.as_mut() {
            setup::make_supervise_dir(&LOG_FILES, &msg)?;
            l.lock_fd = Some(setup::lock(&LOG_FILES, true, &msg)?);
        }
        // The first status record (and the empty exit list) is written at
        // the first round's flush, after ./run's fork: runit writes "down"
        // here and replaces it right after its fork, and on a file system
        // that hunts past recently freed inodes (ext4 without a journal)
        // those replaced files made every file creation of a fan-out
        // slower. The ok FIFO is opened only after that write, so no
        // client reaches this runsv before its status exists (until then
        // it is "not running", as in runit's own start).
        setup::control_fifo(&mut main, &msg)?;
        main.mark_status();
        deaths::create(&mut main, &msg);
        if let Some(l) = log.as_mut() {
            setup::control_fifo(l, &msg)?;
            l.mark_status();
            deaths::create(l, &msg);
        }
        // An ok that cannot be opened ends runsv before anything starts,
        // as in runit, which has written its first status by then.
        if let Err(code) = setup::make_ok(&MAIN_FILES, &msg).and_then(|()| {
            if log.is_some() {
                setup::make_ok(&LOG_FILES, &msg)
            } else {
                Ok(())
            }
        }) {
            main.flush(&msg);
            if let Some(l) = log.as_mut() {
                l.flush(&msg);
            }
            return Err(code);
        }
        // The groups get their access before ./run starts, as before.
        let access = Access::read("", None, &msg);
        setup::grant(&MAIN_FILES, &access, &msg);
        if log.is_some() {
            setup::grant(&LOG_FILES, &Access::read("log/", Some(&access), &msg), &msg);
        }
        Ok(Supervisor {
            msg,
            main,
            log,
            log_pipe,
            signals,
            ok_pending: true,
            ok_first_try: true,
            fatal: None,
        })
    }

    /// Opens the ok FIFOs once the first status is on disk (runit's
    /// order: status, then ok).
    fn open_ok(&mut self) -> Result<(), Option<i32>> {
        let msg = self.msg.clone();
        // Nothing started by the first try: runit's fatal error. Once
        // ./run runs (it is forked before this), a warning, and the next
        // flush tries again; a later try never ends runsv, even between a
        // death and the restart.
        let fatal =
            self.ok_first_try && self.main.pid == 0 && self.log.as_ref().is_none_or(|l| l.pid == 0);
        self.ok_first_try = false;
        setup::ok_fifo(&mut self.main, fatal, &msg)?;
        if let Some(l) = self.log.as_mut() {
            setup::ok_fifo(l, fatal, &msg)?;
        }
        Ok(())
    }

    fn svc(&mut self, w: Which) -> &mut Service {
        match w {
            Which::Main => &mut self.main,
            Which::Log => self.log.as_mut().expect("log service"),
        }
    }

    /// The services to act on, the log first (as runit starts it first).
    fn services(&self) -> &'static [Which] {
        if self.log.is_some() {
            &[Which::Log, Which::Main]
        } else {
            &[Which::Main]
        }
    }

    /// The main loop; returns the exit code (0 once told to exit).
    pub fn run(&mut self) -> i32 {
        loop {
            let now = Instant::now();
            let mut deadline: Option<Instant> = None;
            for &w in self.services() {
                match self.svc(w).wants_start(now) {
                    Ok(true) => {
                        self.start_service(w);
                        // A failed fork holds the start for a while: wake
                        // for the retry instead of waiting for an event.
                        if let Err(t) = self.svc(w).wants_start(Instant::now()) {
                            deadline = Some(deadline.map_or(t, |d| d.min(t)));
                        }
                    }
                    Ok(false) => {}
                    Err(t) => deadline = Some(deadline.map_or(t, |d| d.min(t))),
                }
                if let Some(t) = self.svc(w).stopper.policy.deadline() {
                    deadline = Some(deadline.map_or(t, |d| d.min(t)));
                }
            }
            if let Some(code) = self.exit_check() {
                self.flush();
                return code;
            }
            // The kills and forks of this round are done: now the files.
            self.flush();
            if let Some(code) = self.fatal.take() {
                return code;
            }
            self.wait_for_events(deadline);
            self.reap();
            for &w in self.services() {
                self.stop_events(w);
            }
            self.read_controls();
            if selfpipe::take(&selfpipe::TERM) {
                // SIGTERM means the same as `x`.
                self.main.input.push_back(Control::Exit);
            }
            for &w in self.services() {
                self.work(w);
            }
            if let Some(code) = self.exit_check() {
                self.flush();
                return code;
            }
        }
    }

    /// Writes the status files (and exit records) changes left pending.
    fn flush(&mut self) {
        let msg = self.msg.clone();
        for s in std::iter::once(&mut self.main).chain(self.log.as_mut()) {
            s.flush(&msg);
        }
        if self.ok_pending {
            match self.open_ok() {
                Ok(()) => self.ok_pending = false,
                Err(Some(code)) => {
                    self.ok_pending = false;
                    self.fatal = Some(code);
                }
                Err(_) => {}
            }
        }
    }

    fn wait_for_events(&mut self, deadline: Option<Instant>) {
        let timeout = deadline.map(|d| {
            let left = d.saturating_duration_since(Instant::now());
            // A millisecond late rather than early: a wake-up a hair
            // before the deadline would only mean another round.
            let left = left + std::time::Duration::from_millis(1);
            Timespec {
                tv_sec: left.as_secs() as i64,
                tv_nsec: left.subsec_nanos() as i64,
            }
        });
        let mut fds = Vec::with_capacity(3);
        fds.push(PollFd::new(&self.signals.pipe, PollFlags::IN));
        if let Some(fd) = self.main.control_fd.as_ref() {
            fds.push(PollFd::new(fd, PollFlags::IN));
        }
        if let Some(fd) = self.log.as_ref().and_then(|l| l.control_fd.as_ref()) {
            fds.push(PollFd::new(fd, PollFlags::IN));
        }
        for s in std::iter::once(&self.main).chain(self.log.as_ref()) {
            fds.extend(s.readiness.fds().map(|fd| PollFd::new(fd, PollFlags::IN)));
            // A cgroup being emptied: the kernel flags cgroup.events with
            // POLLPRI when its `populated` line changes.
            if let Some(fd) = s.stopper.events_fd() {
                fds.push(PollFd::new(fd, PollFlags::PRI));
            }
        }
        let _ = poll(&mut fds, timeout.as_ref());
        drop(fds);
        self.signals.drain();
        let msg = self.msg.clone();
        for s in std::iter::once(&mut self.main).chain(self.log.as_mut()) {
            if s.readiness.events(&mut s.xstatus) {
                s.write_xstatus(&msg);
            }
        }
    }

    /// Collects every exited child: the service, the log, control scripts.
    fn reap(&mut self) {
        // Any child, also one that left runsv's process group (a ./run
        // that called setsid).
        while let Some((pid, wstat)) = supervise_proto::wait::reap() {
            for &w in self.services() {
                let s = self.svc(w);
                if s.pid == pid {
                    self.child_exited(w, wstat.raw());
                } else if matches!(s.busy, Some((p, _)) if p == pid) {
                    let (_, action) = s.busy.take().unwrap_or((0, Action::Nothing));
                    let handled = wstat.code() == Some(0);
                    self.finish_step(w, action, handled);
                }
            }
        }
    }

    fn child_exited(&mut self, w: Which, wstat: i32) {
        let msg = self.msg.clone();
        let s = self.svc(w);
        let pid = s.pid;
        if !s.stopper.ended(pid, wstat, &msg) {
            // Its cgroup still holds processes: they are being killed,
            // and the exit counts once the cgroup is empty.
            return;
        }
        self.process_ended(w, wstat);
    }

    /// Kill and finish deadlines that are due, and a cgroup that has
    /// emptied after ./run or ./finish exited.
    fn stop_events(&mut self, w: Which) {
        let msg = self.msg.clone();
        let s = self.svc(w);
        let finishing = s.state == RunState::Finish;
        if s.stopper.tick(s.pid, finishing, Instant::now(), &msg) && s.stop_extended() {
            s.write_xstatus(&msg);
        }
        if let Some(wstat) = s.stopper.drained(&msg) {
            self.process_ended(w, wstat);
        }
    }

    /// ./run or ./finish is over: the status says so, ./finish may follow.
    fn process_ended(&mut self, w: Which, wstat: i32) {
        // runit's test: can ./finish be opened for reading? Without
        // blocking, so a FIFO there cannot freeze runsv.
        let has_finish = w == Which::Main
            && open(
                FINISH,
                OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .is_ok();
        let msg = self.msg.clone();
        let s = self.svc(w);
        s.readiness.stopped();
        deaths::exited(s, wstat, has_finish, Now::read(), &msg);
        if s.stop_extended() {
            s.write_xstatus(&msg);
        }
        s.mark_status();
    }

    /// Reads what is waiting on the control FIFOs; bytes that are no
    /// command are dropped here, so garbage costs nothing later.
    fn read_controls(&mut self) {
        for &w in self.services() {
            let s = self.svc(w);
            let Some(fd) = s.control_fd.as_ref() else {
                continue;
            };
            let mut buf = [0u8; 256];
            // Bound what one writer can queue; the rest waits in the FIFO.
            while s.input.len() < 4096 {
                match rustix::io::read(fd, &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => s
                        .input
                        .extend(buf[..n].iter().copied().filter_map(Control::from_byte)),
                }
            }
        }
    }

    /// Acts on queued control bytes and steps until a script must be
    /// waited for or nothing is left.
    fn work(&mut self, w: Which) {
        loop {
            if self.svc(w).busy.is_some() {
                return;
            }
            if let Some(step) = self.svc(w).steps.pop_front() {
                self.begin_step(w, step);
                continue;
            }
            if self.svc(w).starting {
                // control/u has answered; now start ./run itself.
                self.svc(w).starting = false;
                self.spawn_run(w);
                continue;
            }
            let Some(c) = self.svc(w).input.pop_front() else {
                return;
            };
            let s = self.svc(w);
            let view = View {
                running: s.pid != 0,
                state: s.state,
                want: s.want,
                got_term: s.got_term,
                is_log: s.is_log,
            };
            let p = plan(c, view);
            let msg = self.msg.clone();
            let s = self.svc(w);
            if let Some(want) = p.want {
                s.want = want;
                s.once = p.once;
                deaths::wanted(s, c, &msg);
                s.mark_status();
            }
            s.steps.extend(p.steps);
        }
    }

    /// Starts a step: runs its control script if there is one (the action
    /// waits for it), else does the action at once.
    fn begin_step(&mut self, w: Which, step: Step) {
        if let Some(c) = step.script {
            if let Some(pid) = self.run_control_script(c) {
                self.svc(w).busy = Some((pid, step.action));
                return;
            }
        }
        self.finish_step(w, step.action, false);
    }

    /// Does a step's action once its script (if any) has answered.
    fn finish_step(&mut self, w: Which, action: Action, handled: bool) {
        let msg = self.msg.clone();
        let s = self.svc(w);
        let signal = |s: &Service, sig: Signal| {
            let sent = !handled && s.pid != 0 && signals_reach(s.state, sig);
            if sent {
                s.stopper.send(s.pid, sig, &msg);
            }
            sent
        };
        match action {
            Action::Nothing => {}
            Action::Signal(sig) => {
                signal(s, sig);
            }
            Action::Term => {
                // The stop signal (down-signal, else TERM) and the kill
                // deadline come from the stop settings.
                if s.pid != 0 && signals_reach(s.state, Signal::TERM) {
                    s.stopper.stop(s.pid, handled, Instant::now(), &msg);
                    if s.stop_extended() {
                        s.write_xstatus(&msg);
                    }
                    if !handled {
                        s.got_term = true;
                        s.mark_status();
                    }
                }
            }
            Action::Pause => {
                signal(s, Signal::STOP);
                s.paused = true;
                s.mark_status();
            }
            Action::Cont => {
                signal(s, Signal::CONT);
                s.paused = false;
                s.mark_status();
            }
        }
    }

    /// Runs `control/C` if it exists and is executable by its owner;
    /// returns its pid.
    fn run_control_script(&mut self, c: Control) -> Option<u32> {
        let path = control_script(c.byte());
        let name = path.to_string_lossy().into_owned();
        match stat(&path) {
            Ok(st) if st.st_mode & 0o100 != 0 => {}
            Ok(_) | Err(Errno::NOENT) => return None,
            Err(e) => {
                self.msg.warn(&format!("unable to stat {name}"), e);
                return None;
            }
        }
        // runit runs control scripts after writing the status: a script
        // that reads it sees the command it answers.
        self.flush();
        let wiring = match self.log_pipe.as_ref() {
            Some((_, wr)) => Wiring::ToLog(wr),
            None => Wiring::Inherit,
        };
        let fail = self.msg.fatal_text(&format!("unable to run {name}"));
        match spawn(
            &name,
            &[],
            wiring,
            Placement::default(),
            &fail,
            &Default::default(),
        ) {
            Ok(pid) => Some(pid),
            Err(e) => {
                self.msg.warn(&format!("unable to fork for {name}"), e);
                None
            }
        }
    }

    /// Starts ./finish at once, or ./run after control/u has had its say.
    fn start_service(&mut self, w: Which) {
        if self.svc(w).state == RunState::Finish {
            self.spawn_run(w);
            return;
        }
        if w == Which::Main {
            if let Some(pid) = self.run_control_script(Control::Up) {
                let s = self.svc(w);
                s.busy = Some((pid, Action::Nothing));
                s.starting = true;
                return;
            }
        }
        self.spawn_run(w);
    }

    fn spawn_run(&mut self, w: Which) {
        let finishing = self.svc(w).state == RunState::Finish;
        if finishing {
            // ./finish finds the status saying "finish", as under runit
            // (only ./run's start is on the latency path).
            self.flush();
        } else {
            // Settings are read at each start of ./run; the absent ones
            // are looked up again only when the directory changed.
            crate::settings::refresh(if w == Which::Log { "log/" } else { "" });
            let msg = self.msg.clone();
            self.svc(w).stopper.prepare_run(&msg);
        }
        let (prog, args) = if finishing {
            let st = Wstat::from_raw(self.svc(w).exit_status);
            (FINISH_ARGV0, st.finish_args().to_vec())
        } else {
            let msg = self.msg.clone();
            deaths::starting(self.svc(w), &msg);
            (RUN_ARGV0, Vec::new())
        };
        let handoff = if finishing {
            Default::default()
        } else {
            let msg = self.msg.clone();
            self.svc(w).readiness.prepare(&msg)
        };
        let wiring = match (&self.log_pipe, w) {
            (Some((_, wr)), Which::Main) => Wiring::ToLog(wr),
            (Some((rd, _)), Which::Log) => Wiring::FromLog(rd),
            (None, _) => Wiring::Inherit,
        };
        let msg = self.msg.clone();
        // runit's child reports a failed exec and exits 111; ours too.
        let fail = if w == Which::Log {
            msg.fatal_text(&format!("unable to start {LOG}/{prog}"))
        } else {
            msg.fatal_text(&format!("unable to start {prog}"))
        };
        let place = match w {
            Which::Main => self.main.stopper.placement(),
            Which::Log => self
                .log
                .as_ref()
                .map_or_else(Placement::default, |l| l.stopper.placement()),
        };
        match spawn(prog, &args, wiring, place, &fail, &handoff) {
            Ok(pid) => {
                // The child runs (with the vfork-style start it has
                // exec'd) and usually shares our CPU: the kernel wakes
                // runsv where the child runs. Let it go on
                // before the status files are replaced: their renames
                // (ext4 flushes a replaced file's data) would otherwise
                // preempt ./run's start, about 0.3 ms of every restart
                // on the 2-core VM. The files are written when it yields
                // back, as runit writes after its fork.
                rustix::thread::sched_yield();
                let now = Now::read();
                let s = self.svc(w);
                s.started(pid, now);
                let ready_news = !finishing
                    && s.readiness
                        .started(&mut s.xstatus, pid, s.stamp, handoff.notifies());
                if finishing {
                    s.stopper.finish_started(now.mono);
                } else {
                    s.xstatus.started = Some(s.stamp);
                }
                if ready_news || s.stop_extended() {
                    s.write_xstatus(&msg);
                }
                s.mark_status();
            }
            Err(e) => {
                msg.warn("unable to fork, sleeping", e);
                let s = self.svc(w);
                s.readiness.stopped();
                s.hold_until = Some(Instant::now() + FORK_RETRY);
                if finishing {
                    // Give up on ./finish rather than spin; the service goes down.
                    deaths::exited(s, 0, false, Now::read(), &msg);
                    s.mark_status();
                }
            }
        }
    }

    /// runit's exit rule: once the service is down and wanted to exit, the
    /// log is told to finish (its pipe closed) and runsv exits when it has.
    fn exit_check(&mut self) -> Option<i32> {
        let m = &self.main;
        if m.want != Want::Exit || m.state != RunState::Down || m.pid != 0 || !m.idle() {
            return None;
        }
        match self.log.as_mut() {
            None => Some(0),
            Some(l) if l.pid == 0 && l.idle() => Some(0),
            Some(l) => {
                if l.want != Want::Exit {
                    l.want = Want::Exit;
                    l.mark_status();
                    // Not on a latency path: written before the pipe
                    // closes, as runit does.
                    self.flush();
                    // The logger sees end-of-file once the service's copies
                    // of the write end are gone too.
                    self.log_pipe = None;
                }
                None
            }
        }
    }
}
