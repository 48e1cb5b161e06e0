//! tai64n: puts a TAI64N stamp in front of every line of its input.

use rustix::stdio::{stdin, stdout};
use supervise_proto::Tai64n;
use tai64n::filter;
use tai64n::stamper::Stamper;

fn main() {
    filter::default_sigpipe();
    let mut stamper = Stamper::new(Tai64n::now);
    std::process::exit(filter::run(&mut stamper, stdin(), stdout()));
}
