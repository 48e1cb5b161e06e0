//! runit-rs, the multicall build: one binary that is every program of the
//! suite, chosen by the base name of argv[0] (`ln -s runit-rs sv`), or by
//! its first argument when called by its own name (`runit-rs sv status x`).
//! Each program gets the same start-up as its own binary, SIGPIPE choice
//! included.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use supervise_proto::start::SigPipe;

/// How a program starts: through supervise_proto::start::init with its
/// SIGPIPE choice, or (chpst) untouched, since chpst passes its state on
/// to the program it execs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Start {
    Init(SigPipe),
    Untouched,
}

/// One program: its name, its start-up and its entry point (argv in,
/// exit status out).
#[derive(Debug)]
pub struct Program {
    pub name: &'static str,
    pub start: Start,
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
    prog("svlogd", IGNORE, |a| {
        supervise_proto::start::nomem_message(svlogd::NOMEM);
        svlogd::main_with(a)
    }),
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
    Program { name, start, run }
}

/// The program named by `arg0`'s base name.
pub fn lookup(arg0: &[u8]) -> Option<&'static Program> {
    PROGRAMS.iter().find(|p| p.name.as_bytes() == base(arg0))
}

/// Picks the program for a command line and the argv it gets. In order:
/// argv[0]'s base name; the base name of the path that was executed
/// (`execfn`, the kernel's AT_EXECFN: a caller may set any argv[0], as
/// runsvdir's tests and daemontools' users do, yet runs the program by its
/// link); the binary called by its own name, `runit-rs PROG args...`,
/// where PROG becomes the program's argv[0]. Any other name is sv's: sv
/// is the one program installed under names of its own (an
/// /etc/init.d/SERVICE link makes it an LSB init script).
pub fn choose(
    mut args: Vec<OsString>,
    execfn: &[u8],
) -> Result<(&'static Program, Vec<OsString>), Vec<u8>> {
    if let Some(p) = args.first().and_then(|a0| lookup(a0.as_bytes())) {
        return Ok((p, args));
    }
    let arg0 = args.first().map(|a| a.as_bytes()).unwrap_or(b"");
    if base(arg0) != OWN_NAME {
        if let Some(p) = lookup(execfn) {
            return Ok((p, args));
        }
        if base(execfn) != OWN_NAME && !args.is_empty() {
            return Ok((lookup(b"sv").expect("sv is in the table"), args));
        }
    }
    if let Some(p) = args.get(1).and_then(|a1| lookup(a1.as_bytes())) {
        args.remove(0);
        return Ok((p, args));
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
pub fn main(args: Vec<OsString>) -> i32 {
    let execfn = rustix::param::linux_execfn().to_bytes();
    match choose(args, execfn) {
        Ok((p, args)) => {
            if let Start::Init(sigpipe) = p.start {
                supervise_proto::start::init(sigpipe);
            }
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

    fn argv(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn argv0_base_name_chooses() {
        let (p, a) = choose(argv(&["/usr/bin/sv", "status", "x"]), b"/bin/runit-rs").unwrap();
        assert_eq!(p.name, "sv");
        assert_eq!(a, argv(&["/usr/bin/sv", "status", "x"]));
    }

    #[test]
    fn own_name_takes_the_program_from_argv1() {
        let (p, a) = choose(argv(&["./runit-rs", "envdir", "d", "true"]), b"./runit-rs").unwrap();
        assert_eq!(p.name, "envdir");
        assert_eq!(p.start, Start::Untouched);
        assert_eq!(a, argv(&["envdir", "d", "true"]));
    }

    #[test]
    fn unknown_names_get_the_usage() {
        let e = choose(argv(&["runit-rs", "nosuch"]), b"/bin/runit-rs").unwrap_err();
        assert!(e.starts_with(b"usage: runit-rs program"));
        assert!(choose(vec![], b"/bin/runit-rs").is_err());
    }

    #[test]
    fn a_chosen_argv0_runs_the_link_that_was_executed() {
        let (p, a) = choose(argv(&["mysvc", "-z"]), b"/usr/bin/svc").unwrap();
        assert_eq!(p.name, "svc");
        assert_eq!(a, argv(&["mysvc", "-z"]));
    }

    #[test]
    fn any_other_name_is_an_sv_init_script() {
        let (p, a) = choose(argv(&["/etc/init.d/web", "status"]), b"/etc/init.d/web").unwrap();
        assert_eq!(p.name, "sv");
        assert_eq!(a, argv(&["/etc/init.d/web", "status"]));
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
