//! The floor of `sv status`: what reading the status of many services
//! costs with no more than the file system's work. A small C program,
//! built here with the system's C compiler (none: no floor row), that for
//! each directory checks supervise/ok (runsv running) and reads the 20
//! bytes of supervise/status: five system calls a service, with output
//! through buffered stdio. It prints what sv prints for a service without
//! a log, so the output it writes is the same size.
//!
//! Built with RUNIT_CHECKS it also does what runit's line needs beyond
//! that, the way runit does it: into the directory, a stat of `down`
//! ("normally up/down") and a look for `log/`: eight system calls a
//! service, the least a compatible `sv status` can do.

use std::path::{Path, PathBuf};
use std::process::Command;

const SOURCE: &str = r#"
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char path[4096];
    unsigned char b[20];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    for (int i = 2; i < argc; i++) { /* argv[1] is "status", as for sv */
#ifdef RUNIT_CHECKS
        if (chdir(argv[i]) < 0) {
            printf("fail: %s: unable to change to service directory\n", argv[i]);
            continue;
        }
        const char *dir = ".";
#else
        const char *dir = argv[i];
#endif
        snprintf(path, sizeof path, "%s/supervise/ok", dir);
        int fd = open(path, O_WRONLY | O_NONBLOCK);
        if (fd < 0) {
            printf("warning: %s: runsv not running\n", argv[i]);
            continue;
        }
        close(fd);
        snprintf(path, sizeof path, "%s/supervise/status", dir);
        fd = open(path, O_RDONLY | O_NONBLOCK); /* as sv opens it */
        if (fd < 0 || read(fd, b, 20) != 20) {
            printf("warning: %s: unable to read status\n", argv[i]);
            if (fd >= 0) close(fd);
            continue;
        }
        close(fd);
        unsigned long long tai = 0;
        for (int k = 0; k < 8; k++) tai = tai << 8 | b[k];
        long long age = (long long)(now.tv_sec + 4611686018427387914ULL - tai);
        if (age < 0) age = 0;
        unsigned pid = b[12] | b[13] << 8 | b[14] << 16 | (unsigned)b[15] << 24;
        const char *normally = "";
#ifdef RUNIT_CHECKS
        struct stat st;
        int down = stat("down", &st) == 0;
        normally = pid && down ? ", normally down" : !pid && !down ? ", normally up" : "";
        if (chdir("log") == 0)
            printf("warning: %s: the floor does not read logs\n", argv[i]);
#endif
        if (pid)
            printf("run: %s: (pid %u) %llds%s\n", argv[i], pid, age, normally);
        else
            printf("down: %s: %llds%s\n", argv[i], age, normally);
    }
    return 0;
}
"#;

/// Builds the floor program in `dir` (with runit's checks or without);
/// None (said on stderr) without a C compiler.
pub fn sv_status(dir: &Path, runit_checks: bool) -> Option<PathBuf> {
    if runit_checks {
        build_c(
            dir,
            "status-floor-runit",
            SOURCE,
            &["-DRUNIT_CHECKS"],
            "the sv status floor with runit's checks",
        )
    } else {
        build_c(dir, "status-floor", SOURCE, &[], "the sv status floor")
    }
}

/// Compiles `source` into `dir/name` with $CC (static where the C
/// library allows it: no dynamic linking, as the musl builds have none).
fn build_c(dir: &Path, name: &str, source: &str, flags: &[&str], what: &str) -> Option<PathBuf> {
    let src = dir.join(format!("{name}.c"));
    let bin = dir.join(name);
    std::fs::write(&src, source).ok()?;
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let build = |extra: &[&str]| {
        Command::new(&cc)
            .args(["-O2"])
            .args(flags)
            .args(extra)
            .arg("-o")
            .arg(&bin)
            .arg(&src)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !(build(&["-static"]) || build(&[])) {
        eprintln!("bench: SKIPPED {what}: `{cc}` could not build it (set CC)");
        return None;
    }
    Some(bin)
}

/// The least a supervisor in a process of its own does to restart a
/// service: SIGCHLD blocked and waited for with sigwaitinfo, the child
/// reaped, ./run started with vfork+exec, then (after the start, as runsv
/// does) its pid written to supervise/status in runit's format so the
/// harness finds it. No control FIFO, no finish, no log: it measures what
/// a separate supervisor cannot avoid (its own wake-up), which the
/// harness floor, reaping its own child, does not pay.
const RESTARTER: &str = r#"
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) < 0) return 111;
    mkdir("supervise", 0700);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, 0);
    for (;;) {
        pid_t pid = vfork();
        if (pid == 0) {
            sigprocmask(SIG_UNBLOCK, &chld, 0);
            execl("./run", "./run", (char *)0);
            _exit(111);
        }
        if (pid < 0) {
            sleep(1);
            continue;
        }
        unsigned char b[20] = {0};
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        uint64_t tai = 4611686018427387914ULL + (uint64_t)now.tv_sec;
        for (int k = 0; k < 8; k++) b[k] = (unsigned char)(tai >> (56 - 8 * k));
        for (int k = 0; k < 4; k++) b[12 + k] = (unsigned char)((unsigned)pid >> (8 * k));
        b[17] = 'u';
        b[19] = 1;
        int fd = open("supervise/status.new", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            if (write(fd, b, 20) == 20) rename("supervise/status.new", "supervise/status");
            close(fd);
        }
        siginfo_t si;
        sigwaitinfo(&chld, &si);
        int s;
        while (waitpid(-1, &s, WNOHANG) > 0) {}
    }
}
"#;

/// Builds the least restarter (above) in `dir`; None (said on stderr)
/// without a C compiler.
pub fn restarter(dir: &Path) -> Option<PathBuf> {
    build_c(dir, "restarter", RESTARTER, &[], "the restarter floor")
}
