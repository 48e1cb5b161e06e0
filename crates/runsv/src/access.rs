//! Who besides the owner may read a service's status and control it.
//!
//! runit leaves supervise/ 0700 and its FIFOs 0600, so only root can run
//! `sv status`. Two optional files in the service directory name a group
//! each (a name from /etc/group, or a number):
//!
//! - `status-group`: its members may read the status (`sv status`,
//!   `sv -o …`): supervise/ gets that group with g=rx, supervise/ok g=w
//!   (the "is runsv there?" probe opens it for writing; runsv never reads
//!   what is written there).
//! - `control-group`: its members may also send control bytes
//!   (`sv up/down/…`): supervise/control gets that group with g=w. sv reads
//!   the status before it writes a control byte, so when there is no
//!   `status-group` the control group reads the status too; when there is
//!   one, a controller must belong to both.
//!
//! The log service reads `log/status-group` and `log/control-group`, and
//! without them shares the service's groups (its status is part of the
//! service's `sv status` line). Only the group and the group bits change:
//! owners and other bits stay as they are, so an owner set by a
//! configuration tool (Chef chowns the FIFOs) keeps working, and without
//! the files nothing changes at all. Names are looked up in /etc/group
//! itself, not through NSS: runsv is linked statically. The files are read
//! once, when runsv starts.

use std::path::Path;

use rustix::fs::Gid;
use supervise_proto::fdio::read_small_file;

use crate::msg::Messages;

pub const STATUS_GROUP: &str = "status-group";
pub const CONTROL_GROUP: &str = "control-group";
const GROUP_DB: &str = "/etc/group";
/// Longer than any group name or number needs.
const MAX_SETTING: usize = 256;

/// The groups granted access to one supervise directory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    pub status: Option<Gid>,
    pub control: Option<Gid>,
}

impl Access {
    /// The group that owns supervise/ and ok: the status readers, or else
    /// the controllers (who need to read the status too).
    pub fn readers(&self) -> Option<Gid> {
        self.status.or(self.control)
    }

    /// Reads the settings in directory `base` ("" or "log/"). A setting
    /// absent there is taken from `inherit` (the service's, for its log).
    pub fn read(base: &str, inherit: Option<&Access>, msg: &Messages) -> Access {
        let status = setting(base, STATUS_GROUP, msg);
        let control = setting(base, CONTROL_GROUP, msg);
        match (status, control, inherit) {
            (Setting::Absent, Setting::Absent, Some(parent)) => *parent,
            (s, c, _) => Access {
                status: s.gid(),
                control: c.gid(),
            },
        }
    }
}

enum Setting {
    Absent,
    /// Present but unusable (warned about).
    Ignored,
    Group(Gid),
}

impl Setting {
    fn gid(&self) -> Option<Gid> {
        match self {
            Setting::Group(g) => Some(*g),
            _ => None,
        }
    }
}

fn setting(base: &str, name: &str, msg: &Messages) -> Setting {
    let path = format!("{base}{name}");
    let text = match read_small_file(Path::new(&path), MAX_SETTING) {
        Ok(None) => return Setting::Absent,
        Ok(Some(t)) => t,
        Err(e) => {
            msg.warn(&format!("unable to read {path}"), e);
            return Setting::Ignored;
        }
    };
    let value = String::from_utf8_lossy(&text);
    let value = value.trim();
    match lookup_group(value, GROUP_DB) {
        Some(g) => Setting::Group(g),
        None => {
            msg.warnx(&format!("{path}: no such group: {value}"));
            Setting::Ignored
        }
    }
}

/// A group number, or a name looked up in the group file `db`.
fn lookup_group(value: &str, db: &str) -> Option<Gid> {
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().ok().map(Gid::from_raw);
    }
    let text = std::fs::read(db).ok()?;
    String::from_utf8_lossy(&text).lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        let gid = f.nth(1)?;
        (name == value).then(|| gid.parse().ok().map(Gid::from_raw))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names() {
        let t = tempfile::tempdir().unwrap();
        let db = t.path().join("group");
        std::fs::write(&db, "root:x:0:\nmon:x:1234:alice,bob\nbroken\nops:x:zz:\n").unwrap();
        let db = db.to_str().unwrap();
        assert_eq!(lookup_group("77", db), Some(Gid::from_raw(77)));
        assert_eq!(lookup_group("mon", db), Some(Gid::from_raw(1234)));
        assert_eq!(lookup_group("root", db), Some(Gid::from_raw(0)));
        assert_eq!(lookup_group("ops", db), None);
        assert_eq!(lookup_group("nobody-here", db), None);
        assert_eq!(lookup_group("", db), None);
        assert_eq!(lookup_group("99999999999", db), None);
    }

    #[test]
    fn readers_are_the_status_group_or_else_the_controllers() {
        let g = |n| Some(Gid::from_raw(n));
        let a = Access {
            status: None,
            control: g(5),
        };
        assert_eq!(a.readers(), g(5));
        let a = Access {
            status: g(4),
            control: g(5),
        };
        assert_eq!(a.readers(), g(4));
        assert_eq!(Access::default().readers(), None);
    }
}
