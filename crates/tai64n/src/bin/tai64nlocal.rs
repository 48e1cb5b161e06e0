//! tai64nlocal: turns TAI64N stamps at line starts into local time.

use rustix::stdio::{stdin, stdout};
use tai64n::filter;
use tai64n::localtime::{Localizer, SystemZone};

fn main() {
    filter::default_sigpipe();
    let mut localizer = Localizer::new(SystemZone::new());
    std::process::exit(filter::run(&mut localizer, stdin(), stdout()));
}
