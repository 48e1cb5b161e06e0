//! The contract between runit's programs: what runsv writes and what sv,
//! svstat, svok and svc read. Formats only; no process logic lives here.

pub mod control;
pub mod errstr;
pub mod exits;
pub mod fdio;
pub mod getopt;
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
