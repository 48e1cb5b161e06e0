//! svok: does a supervisor run in this service directory?
//!
//! Silent by design, like daemontools' svok: the answer is the exit
//! status (0 running, 100 not, 111 when the question cannot be asked).

mod probe;

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

/// The whole program: `args` is its argv, the result its exit status
/// (0; other statuses exit through std::process::exit on the spot).
pub fn run(args: &[OsString]) -> i32 {
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
