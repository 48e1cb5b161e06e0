//! Starting a program: the one place in the workspace that forks and
//! execs, and so the one file with the unsafe code that takes.
//!
//! A [`Spawn`] describes the child completely: the program and its
//! arguments, the environment, descriptors to move, the working
//! directory, process group or session, a controlling terminal, what
//! happens to signals, and what the child says when it cannot exec.
//! [`Spawn::spawn`] turns that into plain data (pointer arrays, descriptor
//! numbers, the candidate paths of a $PATH search) before it forks, so
//! that the child only makes system calls on memory that already exists
//! and allocates nothing.
//!
//! Signals: every signal is blocked across fork, so no handler of the
//! parent (they write to its self-pipe) can run in the child. The child
//! then sets every caught signal back to the default, and SIGPIPE, which
//! Rust's start-up and ours ignore and exec would pass on, plus any the
//! caller names, except those the caller keeps. Other ignores came from
//! whoever started the program and pass on, as they do in runit. Last,
//! just before exec, it sets the mask the caller asked for (by default
//! the parent's mask from before the fork).
//!
//! Why not std's Command or posix_spawn: runit's child reports a failed
//! exec itself, with its own message and exit code, which the supervisor
//! then treats as any quick exit; and both always wait until the child
//! has exec'd (vfork semantics), which halves the rate at which runsvdir
//! can start a thousand services. Here that wait is the caller's choice
//! ([`Spawn::until_exec`]): runsv takes it, as it makes a restart sooner.
//!
//! The callers are single-threaded (runit, runsv, runsvdir, svlogd), which
//! the unsafe blocks rely on: the child is a copy of a process no other
//! thread was changing.

use std::ffi::{c_char, c_int, CString, OsStr};
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use crate::errstr::raw_errno_str;

/// The child's signal mask at exec.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Mask {
    /// The parent's mask from before the fork.
    #[default]
    Parent,
    /// Nothing blocked.
    Empty,
}

/// Where the child sits among process groups and sessions.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Group {
    /// The parent's group and session.
    #[default]
    Inherit,
    /// A new process group led by the child (setpgid).
    NewGroup,
    /// A new session led by the child (setsid), hence a new group too.
    NewSession,
}

/// Why [`Spawn::spawn_confirmed`] failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Failed {
    /// fork(2) failed: no child.
    Fork(Errno),
    /// The child could not get as far as exec (the child is reaped).
    Exec(Errno),
}

enum Dir {
    Path(CString),
    Fd(RawFd),
}

struct Tty {
    path: CString,
    fd: RawFd,
    warning: Vec<u8>,
}

/// A program to start, and everything about the process it runs in.
/// Built with chained calls; [`Spawn::spawn`] may be called many times.
pub struct Spawn<'a> {
    program: CString,
    argv: Vec<CString>,
    env: Option<Vec<CString>>,
    search_path: bool,
    moves: Vec<(RawFd, RawFd)>,
    dir: Option<Dir>,
    group: Group,
    /// `cgroup.procs` of a cgroup the child moves itself into.
    cgroup: Option<RawFd>,
    tty: Option<Tty>,
    /// Bit N set: signal N keeps the parent's disposition.
    keep: u128,
    /// Bit N set: signal N goes back to the default even when ignored.
    reset: u128,
    /// The only signals with a handler, when the caller knows them.
    handlers: Option<u128>,
    /// The child shares the parent's memory until exec (see until_exec).
    until_exec: bool,
    mask: Mask,
    announce: Vec<u8>,
    failure: Option<Vec<u8>>,
    failure_code: i32,
    /// A string held a NUL byte: spawning fails with EINVAL.
    nul: bool,
    /// The descriptors in `moves` and `dir` are borrowed for this long.
    _fds: PhantomData<&'a ()>,
}

impl<'a> Spawn<'a> {
    /// Runs `program` (a path, or a name to look up with
    /// [`Spawn::search_path`]) with argv[0] = `program`.
    pub fn new(program: impl AsRef<OsStr>) -> Spawn<'a> {
        let mut nul = false;
        let program = cstring(program.as_ref(), &mut nul);
        Spawn {
            argv: vec![program.clone()],
            program,
            env: None,
            search_path: false,
            moves: Vec::new(),
            dir: None,
            group: Group::Inherit,
            cgroup: None,
            tty: None,
            keep: 0,
            reset: sig_bit(libc::SIGPIPE),
            handlers: None,
            until_exec: false,
            mask: Mask::Parent,
            announce: Vec::new(),
            failure: None,
            failure_code: 111,
            nul,
            _fds: PhantomData,
        }
    }

    /// Replaces argv[0].
    pub fn argv0(mut self, name: impl AsRef<OsStr>) -> Self {
        self.argv[0] = cstring(name.as_ref(), &mut self.nul);
        self
    }

    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Self {
        let a = cstring(a.as_ref(), &mut self.nul);
        self.argv.push(a);
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Self {
        for a in args {
            self = self.arg(a);
        }
        self
    }

    /// The whole environment, as `NAME=value` entries (execve). Without
    /// this call the child inherits the parent's.
    pub fn env<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, entries: I) -> Self {
        let mut env = Vec::new();
        for e in entries {
            env.push(cstring(e.as_ref(), &mut self.nul));
        }
        self.env = Some(env);
        self
    }

    /// Sets one variable, on top of the parent's environment or the one
    /// given to [`Spawn::env`].
    pub fn env_var(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        let mut entry = name.as_ref().as_bytes().to_vec();
        let prefix = entry.len() + 1;
        entry.push(b'=');
        entry.extend_from_slice(value.as_ref().as_bytes());
        let entry = cstring(OsStr::from_bytes(&entry), &mut self.nul);
        let env = self.env.get_or_insert_with(|| {
            std::env::vars_os()
                .map(|(k, v)| {
                    let mut b = k.into_vec();
                    b.push(b'=');
                    b.extend_from_slice(v.as_bytes());
                    CString::new(b).unwrap_or_default()
                })
                .collect()
        });
        env.retain(|e| e.as_bytes().get(..prefix) != entry.as_bytes().get(..prefix));
        env.push(entry);
        self
    }

    /// Looks the program up in $PATH (the parent's, "/bin:/usr/bin" when
    /// unset) as execvp does, unless its name holds a slash.
    pub fn search_path(mut self) -> Self {
        self.search_path = true;
        self
    }

    /// Makes `src` the child's descriptor `dst` (without close-on-exec),
    /// also when they are the same number. All moves act as one: each
    /// target gets what its source was in the parent, whatever the order.
    pub fn fd<F: AsFd + ?Sized>(mut self, src: &'a F, dst: RawFd) -> Self {
        self.moves.push((src.as_fd().as_raw_fd(), dst));
        self
    }

    /// The child's working directory, changed to after the moves.
    pub fn chdir(mut self, dir: impl AsRef<OsStr>) -> Self {
        self.dir = Some(Dir::Path(cstring(dir.as_ref(), &mut self.nul)));
        self
    }

    /// The child's working directory, as an open directory.
    pub fn fchdir<F: AsFd + ?Sized>(mut self, dir: &'a F) -> Self {
        self.dir = Some(Dir::Fd(dir.as_fd().as_raw_fd()));
        self
    }

    pub fn group(mut self, group: Group) -> Self {
        self.group = group;
        self
    }

    /// The child moves itself into a cgroup v2 first thing, by writing
    /// `0` to that cgroup's `cgroup.procs` (open for writing), so nothing
    /// it starts is ever outside it. A refusal is a failure to start.
    pub fn join_cgroup<F: AsFd + ?Sized>(mut self, procs: &'a F) -> Self {
        self.cgroup = Some(procs.as_fd().as_raw_fd());
        self
    }

    /// In the child, opens the terminal `path`, makes it the controlling
    /// terminal (TIOCSCTTY, which needs a session leader without one; a
    /// refusal is ignored, as runit ignores it) and moves it to `fd`. When
    /// it cannot be opened the child writes `warning`, runit's text for
    /// the error and a newline to standard error, and goes on.
    pub fn controlling_tty(
        mut self,
        path: impl AsRef<OsStr>,
        fd: RawFd,
        warning: impl Into<Vec<u8>>,
    ) -> Self {
        let path = cstring(path.as_ref(), &mut self.nul);
        self.tty = Some(Tty {
            path,
            fd,
            warning: warning.into(),
        });
        self
    }

    /// Leaves signal `sig`'s disposition as the parent has it (a handler
    /// is still reset by exec itself).
    pub fn keep_signal(mut self, sig: c_int) -> Self {
        self.keep |= sig_bit(sig);
        self
    }

    /// Sets signal `sig` back to the default also when it is ignored
    /// (SIGPIPE always is: Rust's start-up and ours ignore it).
    pub fn reset_signal(mut self, sig: c_int) -> Self {
        self.reset |= sig_bit(sig);
        self
    }

    /// The caller vouches that no signal outside `sigs` has a handler:
    /// the child then sets those (and the ones to reset) to the default
    /// without asking the kernel about each of the 64 (a system call each
    /// between fork and exec, on every start).
    pub fn handlers_only(mut self, sigs: &[c_int]) -> Self {
        self.handlers = Some(sigs.iter().fold(0, |m, &s| m | sig_bit(s)));
        self
    }

    /// [`Spawn::spawn`] returns only once the child has exec'd or exited:
    /// the child runs in the parent's memory, on a stack of its own, while
    /// the parent is suspended (clone with CLONE_VM and CLONE_VFORK, as
    /// posix_spawn does). No page tables are copied and neither side takes
    /// copy-on-write faults afterwards: a start is about 80 µs sooner on
    /// the 2-core test VM. For children whose steps before exec cannot
    /// block; one that opens a terminal is forked as usual.
    pub fn until_exec(mut self) -> Self {
        self.until_exec = true;
        self
    }

    pub fn mask(mut self, mask: Mask) -> Self {
        self.mask = mask;
        self
    }

    /// Bytes the child writes to standard error just before exec (runit's
    /// "enter stage" line).
    pub fn announce(mut self, text: impl Into<Vec<u8>>) -> Self {
        self.announce = text.into();
        self
    }

    /// What a child that cannot exec writes to standard error before
    /// runit's text for the error and a newline (none by default).
    pub fn failure_message(mut self, prefix: impl Into<Vec<u8>>) -> Self {
        self.failure = Some(prefix.into());
        self
    }

    /// The exit code of a child that cannot exec (runit's 111 by default).
    pub fn failure_code(mut self, code: i32) -> Self {
        self.failure_code = code;
        self
    }

    /// Forks a child that runs the program; returns its pid at once, or
    /// fork's error. A child that cannot exec reports that itself.
    pub fn spawn(&self) -> Result<u32, Errno> {
        let mut p = self.prepare(None)?;
        if self.until_exec && self.tty.is_none() {
            clone_child(&mut p)
        } else {
            fork_child(&mut p)
        }
    }

    /// As [`Spawn::spawn`], but waits until the child has exec'd and
    /// returns the error of the step that failed if it could not (the
    /// child then still prints its failure message and is reaped here).
    pub fn spawn_confirmed(&self) -> Result<u32, Failed> {
        let (r, w) =
            rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(Failed::Fork)?;
        // Above every target descriptor, so no move closes it.
        let high = rustix::io::fcntl_dupfd_cloexec(&w, self.lowest_free());
        drop(w);
        let w = high.map_err(Failed::Fork)?;
        let mut p = self.prepare(Some(w.as_raw_fd())).map_err(Failed::Fork)?;
        let pid = fork_child(&mut p).map_err(Failed::Fork)?;
        drop(w);
        let mut buf = [0u8; 4];
        let mut got = 0;
        while got < buf.len() {
            match rustix::io::read(&r, &mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(Errno::INTR) => {}
                Err(_) => break,
            }
        }
        if got < buf.len() {
            // End of file: exec closed the pipe.
            return Ok(pid);
        }
        let child = rustix::process::Pid::from_raw(pid as i32);
        while let Err(Errno::INTR) =
            rustix::process::waitpid(child, rustix::process::WaitOptions::empty())
        {}
        Err(Failed::Exec(Errno::from_raw_os_error(i32::from_ne_bytes(
            buf,
        ))))
    }

    /// Becomes the program in this process, after the same steps as a
    /// child (moves, directory, group, signals); returns only on failure,
    /// with the error of the step that failed.
    pub fn exec(&self) -> Errno {
        let mut p = match self.prepare(None) {
            Ok(p) => p,
            Err(e) => return e,
        };
        // SAFETY: the current mask is the one Mask::Parent keeps.
        unsafe { libc::sigprocmask(libc::SIG_SETMASK, std::ptr::null(), &mut p.parent_mask) };
        // SAFETY: `p` holds valid NUL-terminated arrays of C strings, and
        // the descriptors it names are borrowed from the caller.
        unsafe { enter(&mut p) }
    }

    /// The lowest descriptor number above every target.
    fn lowest_free(&self) -> RawFd {
        let tty = self.tty.as_ref().map_or(2, |t| t.fd);
        self.moves.iter().map(|m| m.1).fold(tty.max(2), RawFd::max) + 1
    }

    /// Everything the child needs, as plain data.
    fn prepare(&self, report: Option<RawFd>) -> Result<Prepared<'_>, Errno> {
        if self.nul {
            return Err(Errno::INVAL);
        }
        let argv = null_terminated(&self.argv);
        let envp = self.env.as_deref().map(null_terminated);
        let paths = if self.search_path && !self.program.as_bytes().contains(&b'/') {
            path_candidates(self.program.as_bytes())
        } else {
            vec![self.program.clone()]
        };
        let moves = self.moves.clone();
        // Moves overlap when a source is another move's target: then every
        // source is first parked above all targets.
        let overlap = moves
            .iter()
            .any(|&(src, _)| moves.iter().any(|&(s, d)| d == src && s != src));
        let park_at = overlap.then(|| self.lowest_free());
        let rtmax = libc::SIGRTMAX();
        Ok(Prepared {
            spawn: self,
            argv,
            envp,
            paths,
            moves,
            park_at,
            parent_mask: empty_set(),
            rtmax: rtmax.clamp(31, 127),
            report,
        })
    }
}

/// A [`Spawn`] turned into what the child uses.
struct Prepared<'s> {
    spawn: &'s Spawn<'s>,
    argv: Vec<*const c_char>,
    envp: Option<Vec<*const c_char>>,
    /// Paths to try exec on, in order.
    paths: Vec<CString>,
    /// (source, target); the child overwrites sources with parked copies.
    moves: Vec<(RawFd, RawFd)>,
    /// Park sources at or above this number before moving them.
    park_at: Option<RawFd>,
    parent_mask: libc::sigset_t,
    rtmax: c_int,
    /// Where the child writes its errno when it cannot exec.
    report: Option<RawFd>,
}

fn sig_bit(sig: c_int) -> u128 {
    if (1..128).contains(&sig) {
        1 << sig
    } else {
        0
    }
}

fn cstring(s: &OsStr, nul: &mut bool) -> CString {
    CString::new(s.as_bytes()).unwrap_or_else(|_| {
        *nul = true;
        CString::default()
    })
}

fn null_terminated(v: &[CString]) -> Vec<*const c_char> {
    v.iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// `DIR/name` for each directory of $PATH; an empty entry is ".".
fn path_candidates(name: &[u8]) -> Vec<CString> {
    let path = std::env::var_os("PATH");
    let path = path
        .as_deref()
        .map_or(&b"/bin:/usr/bin"[..], OsStr::as_bytes);
    path.split(|&b| b == b':')
        .map(|dir| {
            let dir = if dir.is_empty() { &b"."[..] } else { dir };
            let mut p = Vec::with_capacity(dir.len() + 1 + name.len());
            p.extend_from_slice(dir);
            p.push(b'/');
            p.extend_from_slice(name);
            CString::new(p).unwrap_or_default()
        })
        .collect()
}

/// Blocks every signal; returns the mask that was in force.
fn block_all() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data that sigfillset initialises; the
    // calls only read and write these two sets.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_SETMASK, &all, &mut old);
        old
    }
}

fn empty_set() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data that sigemptyset initialises.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        set
    }
}

fn set_mask(mask: &libc::sigset_t) {
    // SAFETY: `mask` is an initialised set.
    unsafe { libc::sigprocmask(libc::SIG_SETMASK, mask, std::ptr::null_mut()) };
}

/// errno, read without allocating (safe between fork and exec).
fn errno() -> Errno {
    Errno::from_io_error(&std::io::Error::last_os_error()).unwrap_or(Errno::IO)
}

/// Forks with every signal blocked; the child goes on in [`enter`].
fn fork_child(p: &mut Prepared) -> Result<u32, Errno> {
    blocked_start(p, |p| {
        // SAFETY: the callers are single-threaded, so the child is a
        // consistent copy; it only runs `child`, which makes system calls
        // on the data prepared above and ends in exec or _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: in the child, on `p` prepared before the fork.
            unsafe { child(p) }
        }
        pid
    })
}

/// Runs `start` (a fork or a clone: the child's pid, or -1 and errno)
/// with every signal blocked, so that none of the parent's handlers runs in the
/// child before it has reset them; the parent's mask is back on return.
fn blocked_start(
    p: &mut Prepared,
    start: impl FnOnce(&mut Prepared) -> libc::pid_t,
) -> Result<u32, Errno> {
    p.parent_mask = block_all();
    let pid = start(p);
    let err = (pid < 0).then(errno);
    set_mask(&p.parent_mask);
    match err {
        Some(e) => Err(e),
        None => Ok(pid as u32),
    }
}

/// The child's stack in [`clone_child`]: the steps need a few kB (a 4 kB
/// message buffer among them); one page below it is left inaccessible, so
/// an overflow faults instead of writing into the parent's memory.
const CHILD_STACK: usize = 64 * 1024;
const GUARD: usize = 4096;

/// Starts the child in this process's memory, on a fresh stack, with
/// every signal blocked; returns when it has exec'd or exited.
fn clone_child(p: &mut Prepared) -> Result<u32, Errno> {
    // SAFETY: a fresh private anonymous mapping, which only this function
    // and the child use, and which is unmapped before returning.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            GUARD + CHILD_STACK,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(errno());
    }
    // SAFETY: the upper part of the mapping just made.
    let usable = unsafe { base.cast::<u8>().add(GUARD) };
    let unmap = || {
        // SAFETY: the mapping made above, no longer in use.
        unsafe { libc::munmap(base, GUARD + CHILD_STACK) };
    };
    // SAFETY: as above.
    if unsafe {
        libc::mprotect(
            usable.cast(),
            CHILD_STACK,
            libc::PROT_READ | libc::PROT_WRITE,
        )
    } != 0
    {
        let e = errno();
        unmap();
        return Err(e);
    }
    extern "C" fn entry(arg: *mut std::ffi::c_void) -> c_int {
        // SAFETY: `arg` is the Prepared that clone_child lent, and the
        // parent is suspended until this child execs or exits.
        unsafe { child(&mut *arg.cast::<Prepared>()) }
    }
    let started = blocked_start(p, |p| {
        // SAFETY: the stack top is the end of the usable mapping (page
        // aligned); the callers are single-threaded and the parent waits,
        // so nothing else touches the memory the child shares; `entry`
        // ends in exec or _exit and never returns.
        unsafe {
            libc::clone(
                entry,
                usable.add(CHILD_STACK).cast(),
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                (p as *mut Prepared).cast(),
            )
        }
    });
    unmap();
    started
}

/// The child's side: the steps, then the failure report and _exit.
///
/// # Safety
/// Only in a child just forked (or cloned by [`clone_child`]) from a
/// single-threaded process, with every signal blocked. Never inlined:
/// its frames (a 4 kB message buffer) must not become part of the
/// parent's, whose stack probes would dirty those pages in every
/// long-lived runsv.
#[inline(never)]
#[cold]
unsafe fn child(p: &mut Prepared) -> ! {
    // SAFETY: as for `enter`.
    let e = unsafe { enter(p) };
    let s = p.spawn;
    if let Some(prefix) = &s.failure {
        say_error(prefix, e);
    }
    if let Some(fd) = p.report {
        let bytes = e.raw_os_error().to_ne_bytes();
        // SAFETY: a write from a live buffer to a descriptor we own.
        unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
    }
    // SAFETY: _exit ends the child without running the parent's exit
    // handlers or flushing its buffers.
    unsafe { libc::_exit(s.failure_code) }
}

/// Writes `prefix`, runit's text for `e` and a newline to standard error
/// in one write, from a stack buffer (long texts are cut).
#[inline(never)]
fn say_error(prefix: &[u8], e: Errno) {
    let mut buf = [0u8; 4096];
    let n = fill(
        &mut buf,
        &[prefix, raw_errno_str(e.raw_os_error()).as_bytes(), b"\n"],
    );
    let _ = rustix::io::write(rustix::stdio::stderr(), &buf[..n]);
}

/// Concatenates `parts` into `buf` (truncating); returns the length.
fn fill(buf: &mut [u8], parts: &[&[u8]]) -> usize {
    let mut n = 0;
    for p in parts {
        let take = p.len().min(buf.len() - n);
        buf[n..n + take].copy_from_slice(&p[..take]);
        n += take;
    }
    n
}

/// Cgroup, group, terminal, moves, directory, signals, announcement, exec, in
/// that order; returns the error of the step that failed.
///
/// # Safety
/// `p` is prepared from a live [`Spawn`] whose borrowed descriptors are
/// open. Between fork and exec only async-signal-safe calls are made and
/// nothing is allocated: rustix's calls on Linux are raw system calls.
unsafe fn enter(p: &mut Prepared) -> Errno {
    let s = p.spawn;
    if let Some(fd) = s.cgroup {
        // SAFETY: a write from a static buffer to a descriptor the caller
        // lent us.
        if unsafe { libc::write(fd, b"0".as_ptr().cast(), 1) } != 1 {
            return errno();
        }
    }
    // Neither can fail in a fresh child, which leads no group yet.
    match s.group {
        Group::Inherit => {}
        Group::NewGroup => {
            let _ = rustix::process::setpgid(None, None);
        }
        Group::NewSession => {
            let _ = rustix::process::setsid();
        }
    }
    if let Some(t) = &s.tty {
        open_tty(t);
    }
    if let Some(base) = p.park_at {
        for m in p.moves.iter_mut().filter(|m| m.0 != m.1) {
            // SAFETY: a descriptor call on a number the caller lent us.
            let parked = unsafe { libc::fcntl(m.0, libc::F_DUPFD_CLOEXEC, base) };
            if parked < 0 {
                return errno();
            }
            m.0 = parked;
        }
    }
    for &(src, dst) in p.moves.iter() {
        // SAFETY: descriptor calls on numbers the caller lent us; dup2
        // leaves the target without close-on-exec, and F_SETFD does the
        // same for a descriptor that stays where it is.
        let rc = unsafe {
            if src == dst {
                libc::fcntl(src, libc::F_SETFD, 0)
            } else {
                libc::dup2(src, dst)
            }
        };
        if rc < 0 {
            return errno();
        }
    }
    let moved = match &s.dir {
        None => Ok(()),
        Some(Dir::Path(d)) => rustix::process::chdir(d.as_c_str()),
        // SAFETY: the caller lent us this open directory.
        Some(Dir::Fd(fd)) => {
            rustix::process::fchdir(unsafe { rustix::fd::BorrowedFd::borrow_raw(*fd) })
        }
    };
    if let Err(e) = moved {
        return e;
    }
    reset_signals(p);
    if !s.announce.is_empty() {
        crate::fdio::eprint(&s.announce);
    }
    exec_paths(p)
}

/// Opens the terminal and makes it the controlling one, on its
/// descriptor; warns when it cannot be opened.
fn open_tty(t: &Tty) {
    match rustix::fs::open(t.path.as_c_str(), OFlags::RDWR, Mode::empty()) {
        Ok(fd) => {
            let _ = rustix::process::ioctl_tiocsctty(&fd);
            let raw = fd.as_raw_fd();
            if raw != t.fd {
                // SAFETY: dup2 onto the target number the caller chose.
                unsafe { libc::dup2(raw, t.fd) };
            }
            // runit leaves a terminal that landed on 0, 1 or 2 open there.
            if raw <= 2 || raw == t.fd {
                std::mem::forget::<OwnedFd>(fd);
            }
        }
        Err(e) => say_error(&t.warning, e),
    }
}

/// Handlers back to the default, and the ignores in `reset`, except the
/// kept signals; then the mask asked for.
fn reset_signals(p: &Prepared) {
    let s = p.spawn;
    for sig in 1..=p.rtmax {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: sigaction reads into a zeroed struct. Numbers the C
        // library keeps for itself fail with EINVAL and are left alone.
        let has_handler = || unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            libc::sigaction(sig, std::ptr::null(), &mut sa) == 0
                && sa.sa_sigaction != libc::SIG_DFL
                && sa.sa_sigaction != libc::SIG_IGN
        };
        if !to_default(sig, s.keep, s.reset, s.handlers, has_handler) {
            continue;
        }
        // SAFETY: a zeroed struct is SIG_DFL, no flags, empty mask.
        unsafe {
            let sa: libc::sigaction = std::mem::zeroed();
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
    match s.mask {
        Mask::Parent => set_mask(&p.parent_mask),
        Mask::Empty => set_mask(&empty_set()),
    }
}

/// Whether the child sets `sig` to the default: not when kept; when it is
/// to be reset; else when it has a handler, which `handlers` (the caller's
/// list) answers without `has_handler` (asking the kernel).
fn to_default(
    sig: c_int,
    keep: u128,
    reset: u128,
    handlers: Option<u128>,
    has_handler: impl FnOnce() -> bool,
) -> bool {
    let bit = sig_bit(sig);
    if keep & bit != 0 {
        return false;
    }
    if reset & bit != 0 {
        return true;
    }
    match handlers {
        Some(h) => h & bit != 0,
        None => has_handler(),
    }
}

/// Execs each candidate path in turn, with execvp's rules for which
/// errors move on to the next one; returns the error to report.
fn exec_paths(p: &Prepared) -> Errno {
    let mut denied = false;
    let mut last = Errno::NOENT;
    for path in &p.paths {
        // SAFETY: NUL-terminated arrays of pointers to C strings that
        // outlive the call; exec returns only on failure.
        unsafe {
            match &p.envp {
                Some(envp) => libc::execve(path.as_ptr(), p.argv.as_ptr(), envp.as_ptr()),
                None => libc::execv(path.as_ptr(), p.argv.as_ptr()),
            };
        }
        last = errno();
        match last {
            Errno::ACCESS => denied = true,
            Errno::NOENT | Errno::NOTDIR | Errno::STALE | Errno::NODEV | Errno::TIMEDOUT => {}
            _ => return last,
        }
    }
    if denied {
        Errno::ACCESS
    } else {
        last
    }
}

/// Forks a child that runs `f` in a copy of this process and _exits with
/// its result; returns the child's pid or fork's error. Signals stay
/// blocked across the fork; the child gets the parent's mask back and
/// keeps its dispositions (it goes on as the parent would).
///
/// # Safety
/// The process must be single-threaded: `f` may then do what the parent
/// could, since no other thread held a lock or half-changed state at the
/// fork. `f` must not unwind.
pub unsafe fn fork_run(f: impl FnOnce() -> i32) -> Result<u32, Errno> {
    let old = block_all();
    // SAFETY: the caller promises a single-threaded process.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        set_mask(&old);
        let code = f();
        // SAFETY: ends the child without the parent's exit handlers.
        unsafe { libc::_exit(code) }
    }
    let err = (pid < 0).then(errno);
    set_mask(&old);
    match err {
        Some(e) => Err(e),
        None => Ok(pid as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_without_overflow() {
        let mut b = [0u8; 8];
        assert_eq!(fill(&mut b, &[b"abc", b"defgh", b"ij"]), 8);
        assert_eq!(&b, b"abcdefgh");
        assert_eq!(fill(&mut b[8..], &[b"x"]), 0);
    }

    #[test]
    fn path_entries_become_candidates() {
        let c = path_candidates(b"runsv");
        assert!(c.iter().all(|p| p.as_bytes().ends_with(b"/runsv")));
    }

    #[test]
    fn env_var_replaces_one_entry() {
        let s = Spawn::new("x")
            .env(["A=1", "B=2"])
            .env_var("A", "3")
            .env_var("NOTIFY_SOCKET", "/run/n");
        let env: Vec<_> = s
            .env
            .unwrap()
            .iter()
            .map(|e| e.as_bytes().to_vec())
            .collect();
        assert_eq!(env, [&b"B=2"[..], b"A=3", b"NOTIFY_SOCKET=/run/n"]);
    }

    #[test]
    fn known_handlers_are_reset_without_asking() {
        let ask = || panic!("asked the kernel");
        let h = Some(sig_bit(libc::SIGTERM) | sig_bit(libc::SIGCHLD));
        let pipe = sig_bit(libc::SIGPIPE);
        assert!(to_default(libc::SIGTERM, 0, pipe, h, ask));
        assert!(to_default(libc::SIGPIPE, 0, pipe, h, ask));
        assert!(!to_default(libc::SIGHUP, 0, pipe, h, ask));
        assert!(!to_default(
            libc::SIGTERM,
            sig_bit(libc::SIGTERM),
            0,
            h,
            ask
        ));
        // Without the list, the kernel is asked.
        assert!(to_default(libc::SIGHUP, 0, pipe, None, || true));
        assert!(!to_default(libc::SIGHUP, 0, pipe, None, || false));
    }

    #[test]
    fn a_nul_byte_is_einval() {
        assert_eq!(Spawn::new("a\0b").spawn(), Err(Errno::INVAL));
        assert_eq!(Spawn::new("a").arg("\0").spawn(), Err(Errno::INVAL));
    }
}
