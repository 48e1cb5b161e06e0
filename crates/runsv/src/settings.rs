//! Setting files in the service directory (`max-death-tally`,
//! `restart-limit`, ...), read at each start of ./run as s6-supervise reads
//! its own: without blocking, regular files only, bounded. A file that
//! cannot be used is a warning in runsv's words and the setting is left
//! out; the service starts anyway.

use rustix::fs::{stat, FileType};
use rustix::io::Errno;
use supervise_proto::svdir::{read_setting, SettingError};

use crate::msg::Messages;

/// The contents of setting file `name` (a path relative to the service
/// directory), `None` when it is absent or unusable (after a warning).
pub fn read(name: &str, max: usize, msg: &Messages) -> Option<Vec<u8>> {
    match read_setting(name, max) {
        Ok(b) => b,
        Err(SettingError::Io(e)) => {
            msg.warn(&format!("unable to read {name}"), e);
            None
        }
        Err(SettingError::NotRegular) => {
            not_regular(name, msg);
            None
        }
        Err(SettingError::TooLarge) => {
            msg.warnx(&format!("{name}: longer than {max} bytes, ignored"));
            None
        }
    }
}

/// Whether flag file `name` is present: its contents do not matter, but
/// it must be a regular file (anything else is a warning and no flag).
pub fn flag(name: &str, msg: &Messages) -> bool {
    match stat(name) {
        Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::RegularFile => true,
        Ok(_) => {
            not_regular(name, msg);
            false
        }
        Err(Errno::NOENT) => false,
        Err(e) => {
            msg.warn(&format!("unable to stat {name}"), e);
            false
        }
    }
}

/// The warning for a value that does not parse: `NAME: not WHAT, ignored`.
pub fn bad_value(name: &str, what: &str, msg: &Messages) {
    msg.warnx(&format!("{name}: not {what}, ignored"));
}

fn not_regular(name: &str, msg: &Messages) {
    msg.warnx(&format!("{name}: not a regular file, ignored"));
}

/// `name` for the service (`prefix` "") or its log (`prefix` "log/").
pub fn path(prefix: &str, name: &str) -> String {
    format!("{prefix}{name}")
}
