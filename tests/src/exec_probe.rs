//! Telling "the kernel could not load the program" from "the program
//! crashed", for runs under a tight RLIMIT_AS.
//!
//! When execve(2) runs out of address space after its point of no return
//! (mapping a static program's segments or its stack), the kernel kills the
//! process with SIGSEGV; no instruction of the program ever ran. A program
//! that starts and then crashes also dies of SIGSEGV. The exit status
//! cannot tell them apart, so the child is traced from fork: a tracee stops
//! with SIGTRAP once execve has loaded the new image, and a kernel-forced
//! exec failure shows before that stop.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

/// How an execve under a limit ended.
pub enum Exec {
    /// execve returned an error (nothing was replaced).
    Refused(io::Error),
    /// The kernel killed the process while loading the image.
    NotLoaded,
    /// The program was loaded and now runs (untraced).
    Loaded(Child),
}

/// Spawns `cmd` (whose own `pre_exec` steps, such as a setrlimit, are
/// registered already) and reports whether its image was loaded.
pub fn spawn_seeing_exec(mut cmd: Command) -> Exec {
    // SAFETY: ptrace(PTRACE_TRACEME) is a plain system call, safe between
    // fork and exec; it runs after the caller's pre_exec steps.
    unsafe {
        cmd.pre_exec(|| {
            if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Exec::Refused(e),
    };
    let pid = child.id() as libc::pid_t;
    let mut st = 0;
    loop {
        // SAFETY: waiting for our own child; st is a valid out pointer.
        let r = unsafe { libc::waitpid(pid, &mut st, 0) };
        if r == pid {
            break;
        }
        let e = io::Error::last_os_error();
        assert_eq!(e.kind(), io::ErrorKind::Interrupted, "waitpid {pid}: {e}");
    }
    if libc::WIFSTOPPED(st) && libc::WSTOPSIG(st) == libc::SIGTRAP {
        // SAFETY: pid is our stopped tracee; detaching lets it run on
        // with no signal.
        let r = unsafe { libc::ptrace(libc::PTRACE_DETACH, pid, 0, 0) };
        assert_eq!(r, 0, "PTRACE_DETACH {pid}: {}", io::Error::last_os_error());
        return Exec::Loaded(child);
    }
    // The first thing the tracer sees is the kernel's SIGSEGV (kernels
    // differ: a signal stop, or the death itself). Reaped here, so the
    // Child must not be waited for or killed again.
    if libc::WIFSTOPPED(st) {
        // SAFETY: pid is our stopped tracee, not yet reaped.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        // SAFETY: as above.
        while unsafe { libc::waitpid(pid, &mut st, 0) } != pid {}
    }
    assert!(
        libc::WIFSIGNALED(st),
        "pid {pid}: unexpected wait status {st:#x}"
    );
    Exec::NotLoaded
}
