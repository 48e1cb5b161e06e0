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
        fd = open(path, O_RDONLY);
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
    let src = dir.join("status-floor.c");
    let bin = dir.join(if runit_checks {
        "status-floor-runit"
    } else {
        "status-floor"
    });
    std::fs::write(&src, SOURCE).ok()?;
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    // Static where the C library allows it: no dynamic linking, as sv
    // (musl) has none.
    let build = |extra: &[&str]| {
        Command::new(&cc)
            .args(["-O2"])
            .args(runit_checks.then_some("-DRUNIT_CHECKS"))
            .args(extra)
            .arg("-o")
            .arg(&bin)
            .arg(&src)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let built = build(&["-static"]) || build(&[]);
    if !built {
        eprintln!("bench: SKIPPED the sv status floor: `{cc}` could not build it (set CC)");
        return None;
    }
    Some(bin)
}
