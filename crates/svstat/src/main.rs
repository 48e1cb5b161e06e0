//! svstat: one human-readable line per service directory, in daemontools'
//! words, for directories run by runsv or by daemontools' supervise.
//!
//! Every problem with one directory is reported on that directory's line;
//! svstat itself exits 0 unless it cannot find its way back to the
//! directory it started in.
#![cfg_attr(not(test), no_main)]

mod inspect;
mod report;

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{open, Mode, OFlags};
use supervise_proto::errno_str;

// Entered from C's main: std's start-up work (a signal stack, SIGPIPE
// ignored) is skipped, so the tool starts sooner and dies quietly of
// SIGPIPE like daemontools' (see supervise_proto::start).
// The command line is the argv c_main! hands over: std::env::args_os()
// is empty in a no_main program under musl.
supervise_proto::c_main!(supervise_proto::start::SigPipe::Default, |args| {
    run(&args);
    0
});

#[cfg_attr(test, allow(dead_code))]
fn run(args: &[OsString]) {
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
}

fn fatal(what: &str, e: rustix::io::Errno) -> ! {
    let msg = format!("svstat: fatal: {what}{}\n", errno_str(e));
    supervise_proto::fdio::eprint(msg.as_bytes());
    std::process::exit(111)
}
