//! Account specifications: `user`, `user:group[:group...]` and the
//! numeric `:uid:gid[:gid...]`, resolved the way runit resolves them.
//!
//! The listed groups (at most 60) become the gid and the ONLY
//! supplementary groups; without a group the user's passwd gid is used.
//! runit calls no initgroups, so /etc/group memberships are not added.
//! Names are looked up through the C library (getpwnam_r/getgrnam_r), so
//! NSS sources such as LDAP work.

use std::ffi::CString;
use std::io;

/// At most this many groups are taken from a specification.
pub const MAX_GROUPS: usize = 60;

/// A uid and its groups (the first is the primary gid; never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids {
    pub uid: u32,
    pub gids: Vec<u32>,
}

/// Why a specification could not be resolved.
#[derive(Debug)]
pub enum IdError {
    /// A malformed numeric `:uid:gid` form.
    Invalid,
    /// No such user or group.
    Unknown,
    /// The user database itself failed.
    Lookup(io::Error),
}

/// The user database, abstracted so resolution can be unit-tested.
pub trait UserDb {
    /// (uid, gid) of a user.
    fn user(&self, name: &[u8]) -> Result<Option<(u32, u32)>, io::Error>;
    /// gid of a group.
    fn group(&self, name: &[u8]) -> Result<Option<u32>, io::Error>;
}

pub use supervise_proto::scan::scan_ulong;

/// The numeric form without its leading ':' -- `uid:gid[:gid...]`. Empty
/// numbers count as 0 (`::` is root:root), ids are truncated to 32 bits,
/// and more than 60 groups make the whole form invalid, as in runit.
pub fn parse_numeric(s: &[u8]) -> Option<Ids> {
    let (uid, n) = scan_ulong(s);
    if s.get(n) != Some(&b':') {
        return None;
    }
    let mut rest = &s[n + 1..];
    let mut gids = Vec::new();
    loop {
        if gids.len() == MAX_GROUPS {
            // runit stops after 60 groups; a trailing ':' is then
            // accepted, a 61st group is not.
            break;
        }
        let (g, n) = scan_ulong(rest);
        gids.push(g as u32);
        rest = &rest[n..];
        if rest.first() != Some(&b':') {
            break;
        }
        rest = &rest[1..];
    }
    rest.is_empty().then_some(Ids {
        uid: uid as u32,
        gids,
    })
}

/// `[:]user[:group[:group...]]` as chpst -u and -U take it.
pub fn resolve_ext(spec: &[u8], db: &impl UserDb) -> Result<Ids, IdError> {
    if let Some(numeric) = spec.strip_prefix(b":") {
        return parse_numeric(numeric).ok_or(IdError::Invalid);
    }
    let (user, groups) = match spec.iter().position(|&b| b == b':') {
        Some(i) => (&spec[..i], Some(&spec[i + 1..])),
        None => (spec, None),
    };
    let (uid, pw_gid) = db
        .user(user)
        .map_err(IdError::Lookup)?
        .ok_or(IdError::Unknown)?;
    let gids = match groups {
        None => vec![pw_gid],
        Some(list) => {
            let mut gids = Vec::new();
            // Groups beyond the 60th are ignored unread, as runit does.
            for name in list.split(|&b| b == b':').take(MAX_GROUPS) {
                let gid = db
                    .group(name)
                    .map_err(IdError::Lookup)?
                    .ok_or(IdError::Unknown)?;
                gids.push(gid);
            }
            gids
        }
    };
    Ok(Ids { uid, gids })
}

/// A plain account name, as setuidgid and envuidgid take it (no colon
/// syntax: `a:b` is looked up as a user name).
pub fn resolve_account(name: &[u8], db: &impl UserDb) -> Result<Ids, IdError> {
    let (uid, gid) = db
        .user(name)
        .map_err(IdError::Lookup)?
        .ok_or(IdError::Unknown)?;
    Ok(Ids {
        uid,
        gids: vec![gid],
    })
}

/// The C library's user database.
pub struct LibcDb;

/// errno values POSIX allows getpwnam_r to report for "no such entry".
fn not_found(code: i32) -> bool {
    matches!(
        code,
        0 | libc::ENOENT | libc::ESRCH | libc::EBADF | libc::EPERM
    )
}

/// Calls a getXXnam_r-style function with a buffer that grows on ERANGE.
fn with_buffer<T>(
    name: &[u8],
    mut call: impl FnMut(&CString, &mut Vec<libc::c_char>) -> (i32, Option<T>),
) -> Result<Option<T>, io::Error> {
    // A name with NUL cannot exist in the database.
    let Ok(cname) = CString::new(name) else {
        return Ok(None);
    };
    let mut buf: Vec<libc::c_char> = vec![0; 1024];
    loop {
        let (rc, found) = call(&cname, &mut buf);
        if rc == libc::ERANGE && buf.len() < (1 << 24) {
            let len = buf.len() * 4;
            buf.resize(len, 0);
            continue;
        }
        if rc != 0 && !not_found(rc) {
            return Err(io::Error::from_raw_os_error(rc));
        }
        return Ok(found);
    }
}

impl UserDb for LibcDb {
    fn user(&self, name: &[u8]) -> Result<Option<(u32, u32)>, io::Error> {
        with_buffer(name, |cname, buf| {
            // SAFETY: passwd is plain data; the buffer outlives the call and
            // we copy the two ids out before it is reused.
            unsafe {
                let mut pw: libc::passwd = std::mem::zeroed();
                let mut result: *mut libc::passwd = std::ptr::null_mut();
                let rc = libc::getpwnam_r(
                    cname.as_ptr(),
                    &mut pw,
                    buf.as_mut_ptr(),
                    buf.len(),
                    &mut result,
                );
                let found = (!result.is_null()).then_some((pw.pw_uid, pw.pw_gid));
                (rc, found)
            }
        })
    }

    fn group(&self, name: &[u8]) -> Result<Option<u32>, io::Error> {
        with_buffer(name, |cname, buf| {
            // SAFETY: as above, for struct group.
            unsafe {
                let mut gr: libc::group = std::mem::zeroed();
                let mut result: *mut libc::group = std::ptr::null_mut();
                let rc = libc::getgrnam_r(
                    cname.as_ptr(),
                    &mut gr,
                    buf.as_mut_ptr(),
                    buf.len(),
                    &mut result,
                );
                let found = (!result.is_null()).then_some(gr.gr_gid);
                (rc, found)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;
    impl UserDb for Fake {
        fn user(&self, name: &[u8]) -> Result<Option<(u32, u32)>, io::Error> {
            Ok(match name {
                b"nobody" => Some((65534, 65534)),
                b"root" => Some((0, 0)),
                b"broken" => return Err(io::Error::from_raw_os_error(libc::EIO)),
                _ => None,
            })
        }
        fn group(&self, name: &[u8]) -> Result<Option<u32>, io::Error> {
            Ok(match name {
                b"root" => Some(0),
                b"daemon" => Some(1),
                b"nogroup" => Some(65534),
                _ => None,
            })
        }
    }

    fn ids(uid: u32, gids: &[u32]) -> Ids {
        Ids {
            uid,
            gids: gids.to_vec(),
        }
    }

    #[test]
    fn numeric_forms_as_runit() {
        // Each observed with runit 2.1.2's chpst -u.
        assert_eq!(
            parse_numeric(b"1000:1001:1002"),
            Some(ids(1000, &[1001, 1002]))
        );
        assert_eq!(parse_numeric(b"1000:"), Some(ids(1000, &[0])));
        assert_eq!(parse_numeric(b"1000::3"), Some(ids(1000, &[0, 3])));
        assert_eq!(parse_numeric(b"1000:1:"), Some(ids(1000, &[1, 0])));
        assert_eq!(parse_numeric(b":"), Some(ids(0, &[0])));
        assert_eq!(parse_numeric(b"99999999999:1"), Some(ids(1215752191, &[1])));
        assert_eq!(parse_numeric(b""), None);
        assert_eq!(parse_numeric(b"12"), None);
        assert_eq!(parse_numeric(b"12:x"), None);
        assert_eq!(parse_numeric(b"a:1"), None);
    }

    #[test]
    fn numeric_group_limit() {
        let list = |n: u32| {
            let g: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
            format!("1000:{}", g.join(":")).into_bytes()
        };
        assert_eq!(parse_numeric(&list(60)).unwrap().gids.len(), 60);
        assert_eq!(parse_numeric(&list(61)), None);
        let mut trailing = list(60);
        trailing.push(b':');
        assert_eq!(parse_numeric(&trailing).unwrap().gids.len(), 60);
    }

    #[test]
    fn names() {
        assert_eq!(resolve_ext(b"nobody", &Fake).unwrap(), ids(65534, &[65534]));
        assert_eq!(
            resolve_ext(b"nobody:root", &Fake).unwrap(),
            ids(65534, &[0])
        );
        assert_eq!(
            resolve_ext(b"nobody:root:daemon:nogroup", &Fake).unwrap(),
            ids(65534, &[0, 1, 65534])
        );
        assert_eq!(resolve_ext(b":5:6:7", &Fake).unwrap(), ids(5, &[6, 7]));
        for bad in [
            &b"nosuch"[..],
            b"nobody:nosuch",
            b"root:",
            b"nobody::",
            b"nobody:0",
        ] {
            assert!(
                matches!(resolve_ext(bad, &Fake), Err(IdError::Unknown)),
                "{bad:?}"
            );
        }
        assert!(matches!(resolve_ext(b":12", &Fake), Err(IdError::Invalid)));
        assert!(matches!(
            resolve_ext(b"broken", &Fake),
            Err(IdError::Lookup(_))
        ));
    }

    #[test]
    fn groups_past_sixty_are_ignored() {
        let mut spec = b"nobody".to_vec();
        for _ in 0..60 {
            spec.extend_from_slice(b":daemon");
        }
        spec.extend_from_slice(b":nosuch:");
        let r = resolve_ext(&spec, &Fake).unwrap();
        assert_eq!(r.gids, vec![1; 60]);
    }

    #[test]
    fn accounts_take_no_colon_syntax() {
        assert_eq!(
            resolve_account(b"nobody", &Fake).unwrap(),
            ids(65534, &[65534])
        );
        assert!(matches!(
            resolve_account(b"nobody:nogroup", &Fake),
            Err(IdError::Unknown)
        ));
    }

    #[test]
    fn libc_lookup_works() {
        assert_eq!(LibcDb.user(b"root").unwrap(), Some((0, 0)));
        assert_eq!(LibcDb.group(b"root").unwrap(), Some(0));
        assert_eq!(LibcDb.user(b"no-such-user-runit-rs").unwrap(), None);
        assert_eq!(LibcDb.user(b"a\0b").unwrap(), None);
    }

    #[test]
    fn scanner_wraps() {
        assert_eq!(scan_ulong(b"18446744073709551616"), (0, 20));
        assert_eq!(scan_ulong(b"12x"), (12, 2));
        assert_eq!(scan_ulong(b""), (0, 0));
    }
}
