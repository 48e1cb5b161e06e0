//! svstat: one human-readable line per service directory, in daemontools'
//! words, for directories run by runsv or by daemontools' supervise.
//!
//! Every problem with one directory is reported on that directory's line;
//! svstat itself exits 0 unless it cannot find its way back to the
//! directory it started in.

mod inspect;
mod report;

use rustix::fs::{open, Mode, OFlags};
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use supervise_proto::errno_str;

/// The whole program: `args` is its argv, the result its exit status
/// (0; other statuses exit through std::process::exit on the spot).
pub fn run(args: &[OsString]) -> i32 {
    let start = match open(".", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()) {
        Ok(fd) => fd,
        Err(e) => fatal("unable to open current directory: ", e),
    };
    let mut out: Vec<u8> = Vec::with_capacity(8192);
    for dir in args.iter().skip(1) {
        let finding = inspect::inspect(dir);
        report::line(&mut out, dir.as_bytes(), &finding, report::now_tai());
        if let Err(e) = rustix::process::fchdir(&start) {
            fatal("unable to set directory: ", e);
        }
        // Write whole lines in chunks, as daemontools' 8 KiB buffer does;
        // an unwritable stdout is not svstat's failure.
        if out.len() >= 8192 {
            let _ = std::io::stdout().write_all(&out);
            out.clear();
        }
    }
    let _ = std::io::stdout().write_all(&out);
    let _ = std::io::stdout().flush();
    0
}

fn fatal(what: &str, e: rustix::io::Errno) -> ! {
    let msg = format!("svstat: fatal: {what}{}\n", errno_str(e));
    supervise_proto::fdio::eprint(msg.as_bytes());
    std::process::exit(111)
}
