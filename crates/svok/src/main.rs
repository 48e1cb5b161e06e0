//! svok: does a supervisor run in this service directory?
//!
//! Silent by design, like daemontools' svok: the answer is the exit
//! status (0 running, 100 not, 111 when the question cannot be asked).
#![cfg_attr(not(test), no_main)]

mod probe;

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

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
    let Some(dir) = args.get(1) else {
        die(100, b"svok: usage: svok dir\n");
    };
    match probe::check(dir) {
        probe::Verdict::Running => std::process::exit(0),
        probe::Verdict::NotRunning => std::process::exit(100),
        probe::Verdict::Failed(why) => die(111, &why.message(dir.as_bytes())),
    }
}

/// Writes one message to stderr in a single write and exits.
fn die(code: i32, msg: &[u8]) -> ! {
    supervise_proto::fdio::eprint(msg);
    std::process::exit(code)
}
