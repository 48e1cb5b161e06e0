//! Exercises `supervise_proto::start::NomemExit`, the allocator svlogd
//! uses, for tests/svlogd_limits.rs: `nomem-test [pause] BYTES` allocates
//! BYTES (after `nomem_pause` with `pause`) and prints "allocated BYTES".

use std::io::Write;

use supervise_proto::start::{nomem_pause, NomemExit};

#[global_allocator]
static ALLOC: NomemExit = NomemExit(b"nomem-test: fatal: out of memory.\n");

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(n) = args.last().and_then(|n| n.parse::<usize>().ok()) else {
        eprintln!("usage: nomem-test [pause] BYTES");
        std::process::exit(100);
    };
    if args.first().is_some_and(|a| a == "pause") {
        nomem_pause(b"nomem-test: pausing: out of memory.\n");
    }
    let v = vec![1u8; n];
    let _ = writeln!(std::io::stdout(), "allocated {}", v.len());
}
