//! svc: sends daemontools' control commands to the supervisor (runsv or
//! daemontools' supervise) of each service directory named.
//!
//! Problems with one directory are warnings and do not change the exit
//! status (0); only a bad option (100) or losing the way back to the
//! starting directory (111) do.
#![cfg_attr(not(test), no_main)]

mod commands;
mod deliver;

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

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
    let prog = commands::program_name(args.first().map(|a| a.as_bytes()).unwrap_or(b"svc"));
    let (bytes, dirs) = match commands::parse(&args[args.len().min(1)..]) {
        Ok(parsed) => parsed,
        Err(bad) => {
            let msg = format!("{}\n{}\n", bad.message(&prog), commands::USAGE);
            supervise_proto::fdio::eprint(msg.as_bytes());
            std::process::exit(100);
        }
    };
    let mut session = match deliver::Session::start() {
        Ok(s) => s,
        Err(e) => fatal("unable to open current directory: ", e),
    };
    for dir in dirs {
        if let Err(w) = session.send(dir.as_bytes(), &bytes) {
            supervise_proto::fdio::eprint(&w.message(dir.as_bytes()));
        }
        if let Err(e) = session.return_home() {
            fatal("unable to set directory: ", e);
        }
    }
}

fn fatal(what: &str, e: rustix::io::Errno) -> ! {
    let msg = format!("svc: fatal: {what}{}\n", errno_str(e));
    supervise_proto::fdio::eprint(msg.as_bytes());
    std::process::exit(111)
}
