//! runit-rs, the multicall build: one binary that is every program of the
//! suite, chosen by the base name of argv[0] (`ln -s runit-rs sv`), or by
//! its first argument when called by its own name (`runit-rs sv status x`).
//! Each program gets the same start-up as its own binary, SIGPIPE choice
//! included.

use std::ffi::{c_char, c_int, CStr, OsString};

use supervise_proto::start::SigPipe;

/// How a program starts: through supervise_proto::start::init with its
/// SIGPIPE choice, or (chpst) untouched, since chpst passes its state on
/// to the program it execs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Start {
    Init(SigPipe),
    Untouched,
}

/// One program: its name, its start-up, its out-of-memory message (empty:
/// Rust's abort) and its entry point (argv in, exit status out).
#[derive(Debug)]
pub struct Program {
    pub name: &'static str,
    pub start: Start,
    pub nomem: &'static [u8],
    pub run: fn(Vec<OsString>) -> i32,
}

const IGNORE: Start = Start::Init(SigPipe::Ignore);
const DEFAULT: Start = Start::Init(SigPipe::Default);

fn chpst(args: Vec<OsString>) -> i32 {
    let d = chpst::run(&args);
    chpst::die::write_stderr(&d.text);
    d.code
}

/// Every name the binary answers to. The start-up of each is the one its
/// own main.rs chooses.
pub const PROGRAMS: &[Program] = &[
    prog("runsv", IGNORE, |a| runsv::run(&a)),
    prog("runsvdir", IGNORE, |a| runsvdir::run(&a)),
    prog("sv", DEFAULT, |a| sv::run(&a)),
    Program {
        name: "svlogd",
        start: IGNORE,
        nomem: svlogd::NOMEM,
        run: svlogd::main_with,
    },
    prog("chpst", Start::Untouched, chpst),
    prog("envdir", Start::Untouched, chpst),
    prog("envuidgid", Start::Untouched, chpst),
    prog("pgrphack", Start::Untouched, chpst),
    prog("setlock", Start::Untouched, chpst),
    prog("setuidgid", Start::Untouched, chpst),
    prog("softlimit", Start::Untouched, chpst),
    prog("svok", DEFAULT, |a| svok::run(&a)),
    prog("svstat", DEFAULT, |a| svstat::run(&a)),
    prog("svc", DEFAULT, |a| svc::run(&a)),
    prog("tai64n", DEFAULT, |_| tai64n::stamp_main()),
    prog("tai64nlocal", DEFAULT, |_| tai64n::localize_main()),
    prog("runit", IGNORE, |_| runit::runit_main()),
    prog("runit-init", IGNORE, |a| runit::initctl::main(&a)),
    // The kernel starts /sbin/init; a system may link it to runit-rs.
    prog("init", IGNORE, |a| runit::initctl::main(&a)),
    prog("runsvchdir", DEFAULT, |a| runsvchdir::run(&a)),
    prog("utmpset", DEFAULT, |a| utmpset::run(&a)),
];

const fn prog(name: &'static str, start: Start, run: fn(Vec<OsString>) -> i32) -> Program {
    Program {
        name,
        start,
        nomem: b"",
        run,
    }
}

/// The program named by `arg0`'s base name.
pub fn lookup(arg0: &[u8]) -> Option<&'static Program> {
    PROGRAMS.iter().find(|p| p.name.as_bytes() == base(arg0))
}

/// Picks the program for a command line from its first two arguments
/// (borrowed, so that nothing is allocated before the program's
/// out-of-memory message is set), and says how many leading arguments
/// its argv drops. In order:
/// argv[0]'s base name; the base name of the path that was executed
/// (`execfn`, the kernel's AT_EXECFN: a caller may set any argv[0], as
/// runsvdir's tests and daemontools' users do, yet runs the program by its
/// link); the binary called by its own name, `runit-rs PROG args...`,
/// where PROG becomes the program's argv[0]. Any other name is sv's: sv
/// is the one program installed under names of its own (an
/// /etc/init.d/SERVICE link makes it an LSB init script).
pub fn choose(
    arg0: Option<&[u8]>,
    arg1: Option<&[u8]>,
    execfn: &[u8],
) -> Result<(&'static Program, usize), Vec<u8>> {
    if let Some(p) = arg0.and_then(lookup) {
        return Ok((p, 0));
    }
    if base(arg0.unwrap_or(b"")) != OWN_NAME {
        if let Some(p) = lookup(execfn) {
            return Ok((p, 0));
        }
        if base(execfn) != OWN_NAME && arg0.is_some() {
            return Ok((lookup(b"sv").expect("sv is in the table"), 0));
        }
    }
    if let Some(p) = arg1.and_then(lookup) {
        return Ok((p, 1));
    }
    let mut msg = b"usage: runit-rs program [args...]\nprograms:".to_vec();
    for p in PROGRAMS {
        msg.push(b' ');
        msg.extend_from_slice(p.name.as_bytes());
    }
    msg.push(b'\n');
    Err(msg)
}

/// The binary's own name, under which it takes the program from argv[1].
const OWN_NAME: &[u8] = b"runit-rs";

fn base(path: &[u8]) -> &[u8] {
    path.rsplit(|&b| b == b'/').next().unwrap_or(path)
}

/// Runs the program the command line names, with its own start-up.
///
/// # Safety
/// `argv` must hold `argc` valid NUL-terminated strings, as C's `main`
/// receives them.
pub unsafe fn main(argc: c_int, argv: *const *const c_char) -> i32 {
    // SAFETY: the caller's promise; nothing past argc is read.
    let arg = |i: c_int| (i < argc).then(|| unsafe { *argv.add(i as usize) });
    let borrowed = |i| {
        arg(i)
            .filter(|p| !p.is_null())
            .map(|p| unsafe { CStr::from_ptr(p) }.to_bytes())
    };
    let execfn = rustix::param::linux_execfn().to_bytes();
    match choose(borrowed(0), borrowed(1), execfn) {
        Ok((p, skip)) => {
            if !p.nomem.is_empty() {
                supervise_proto::start::nomem_message(p.nomem);
            }
            if let Start::Init(sigpipe) = p.start {
                supervise_proto::start::init(sigpipe);
            }
            // SAFETY: the caller's promise.
            let mut args = unsafe { supervise_proto::start::args(argc, argv) };
            args.drain(..skip.min(args.len()));
            (p.run)(args)
        }
        Err(usage) => {
            supervise_proto::fdio::eprint(&usage);
            100
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(v: &[&str], execfn: &[u8]) -> Result<(&'static str, usize), Vec<u8>> {
        let a = |i: usize| v.get(i).map(|s| s.as_bytes());
        choose(a(0), a(1), execfn).map(|(p, skip)| (p.name, skip))
    }

    #[test]
    fn argv0_base_name_chooses() {
        assert_eq!(
            pick(&["/usr/bin/sv", "status", "x"], b"/bin/runit-rs"),
            Ok(("sv", 0))
        );
    }

    #[test]
    fn own_name_takes_the_program_from_argv1() {
        assert_eq!(
            pick(&["./runit-rs", "envdir", "d", "true"], b"./runit-rs"),
            Ok(("envdir", 1))
        );
        assert_eq!(lookup(b"envdir").unwrap().start, Start::Untouched);
    }

    #[test]
    fn unknown_names_get_the_usage() {
        let e = pick(&["runit-rs", "nosuch"], b"/bin/runit-rs").unwrap_err();
        assert!(e.starts_with(b"usage: runit-rs program"));
        assert!(pick(&[], b"/bin/runit-rs").is_err());
    }

    #[test]
    fn a_chosen_argv0_runs_the_link_that_was_executed() {
        assert_eq!(pick(&["mysvc", "-z"], b"/usr/bin/svc"), Ok(("svc", 0)));
    }

    #[test]
    fn any_other_name_is_an_sv_init_script() {
        assert_eq!(
            pick(&["/etc/init.d/web", "status"], b"/etc/init.d/web"),
            Ok(("sv", 0))
        );
    }

    #[test]
    fn only_svlogd_sets_an_out_of_memory_message() {
        for p in PROGRAMS {
            assert_eq!(p.nomem.is_empty(), p.name != "svlogd", "{}", p.name);
        }
        assert_eq!(lookup(b"svlogd").unwrap().nomem, svlogd::NOMEM);
    }

    #[test]
    fn sigpipe_choices_match_the_separate_binaries() {
        let ignore = ["runsv", "runsvdir", "svlogd", "runit", "runit-init", "init"];
        for p in PROGRAMS {
            let want = if ignore.contains(&p.name) {
                IGNORE
            } else {
                DEFAULT
            };
            if p.start != Start::Untouched {
                assert_eq!(p.start, want, "{}", p.name);
            }
        }
    }
}
