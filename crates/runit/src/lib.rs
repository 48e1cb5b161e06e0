//! runit, the stage init, and runit-init, as drop-ins for runit 2.1.2's
//! (with upstream's later fixes and Debian's paths).
//!
//! `runit` runs /etc/runit/1, 2 and 3 as PID 1 ([`pid1`]); `runit-init`
//! becomes runit when the kernel starts it, and otherwise asks runit to
//! halt or reboot ([`initctl`]).

pub mod initctl;
pub mod msg;
pub mod namespace;
pub mod paths;
pub mod pid1;
pub mod stages;
pub mod sys;

use msg::{say, Line};

/// `runit`'s entry point; returns the exit code.
pub fn runit_main() -> i32 {
    if std::process::id() != 1 {
        say(&Line::Fatal("must be run as process no 1.".into()));
        return 111;
    }
    let paths = paths::Paths::for_this_process();
    pid1::Init::new(paths, namespace::is_container_init()).run()
}
