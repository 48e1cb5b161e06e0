//! What runit's programs share, in two parts kept in separate modules.
//!
//! The contract: what runsv writes and sv, svstat, svok and svc read, and
//! what every program must spell alike: the status record (`status`),
//! TAI64N (`tai64`), the control bytes (`control`), the service directory
//! layout and its handshakes (`svdir`), the extension files (`xstatus`,
//! `exits`), runit's error texts (`errstr`), its option scanner
//! (`getopt`) and number scanner (`scan`). These make no system calls
//! beyond opening, reading and renaming the files they describe.
//!
//! The runtime: the few process-level pieces every program needs the same
//! way: entering at C's main (`start`), the signal self-pipe
//! (`selfpipe`), starting processes (`spawn`, the only fork/exec in the
//! workspace), wait statuses (`wait`) and whole writes (`fdio`). They sit
//! here rather than in a second crate because each is small and every
//! binary already links this one; docs/design.md says more.

pub mod control;
pub mod errstr;
pub mod exits;
pub mod fdio;
pub mod getopt;
pub mod notify;
pub mod scan;
pub mod selfpipe;
pub mod spawn;
pub mod start;
pub mod status;
pub mod svdir;
pub mod tai64;
pub mod wait;
pub mod xstatus;

pub use control::Control;
pub use errstr::{errno_str, io_error_str};
pub use status::{RunState, Status, Want};
pub use tai64::Tai64n;

/// The directory `sv` looks services up in when a name is given without a
/// path. A build-time setting (`RUNIT_SVDIR`): upstream runit uses
/// `/service`, Debian `/etc/service`, Void `/var/service`.
pub const DEFAULT_SVDIR: &str = match option_env!("RUNIT_SVDIR") {
    Some(d) => d,
    None => "/etc/service",
};

/// What every program prints for `-V`, in the shape of runit's `$Id: … $`
/// line (scripts and runit's own check suite match `$Id: `).
pub const VERSION_ID: &str = concat!("$Id: runit-rs ", env!("CARGO_PKG_VERSION"), " $");
