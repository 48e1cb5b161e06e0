//! Becoming another user: supplementary groups, then gid, then uid (the
//! only order in which each step is still permitted), each checked, and
//! the result verified before anything else runs. A failed or partial
//! change never falls through to exec.
//!
//! libc's setgroups/setgid/setuid are used because they change the whole
//! process; the raw system calls would change only the calling thread.

use std::io;

use crate::die::Die;
use crate::ids::Ids;

/// What the kernel says the process now is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// real, effective, saved uid
    pub uids: [u32; 3],
    /// real, effective, saved gid
    pub gids: [u32; 3],
    pub groups: Vec<u32>,
}

/// Reads the process's current ids. rustix has no getresuid/getresgid
/// (the saved ids are what a partial change would leave behind).
pub fn observe() -> io::Result<Observed> {
    let (mut ru, mut eu, mut su) = (0, 0, 0);
    let (mut rg, mut eg, mut sg) = (0, 0, 0);
    // SAFETY: each call writes three ids through pointers to locals.
    let failed = unsafe {
        libc::getresuid(&mut ru, &mut eu, &mut su) == -1
            || libc::getresgid(&mut rg, &mut eg, &mut sg) == -1
    };
    if failed {
        return Err(io::Error::last_os_error());
    }
    let groups = rustix::process::getgroups()?
        .into_iter()
        .map(|g| g.as_raw())
        .collect();
    Ok(Observed {
        uids: [ru, eu, su],
        gids: [rg, eg, sg],
        groups,
    })
}

/// Whether `seen` is exactly what `want` asked for (groups compared as
/// sets: the kernel keeps them sorted).
pub fn verified(want: &Ids, seen: &Observed) -> bool {
    let mut a = want.gids.clone();
    a.sort_unstable();
    a.dedup();
    let mut b = seen.groups.clone();
    b.sort_unstable();
    b.dedup();
    seen.uids.iter().all(|&u| u == want.uid)
        && seen.gids.iter().all(|&g| g == want.gids[0])
        && a == b
}

/// setgroups, setgid, setuid -- then check. Messages are runit's.
pub fn become_user(ids: &Ids) -> Result<(), Die> {
    // SAFETY: setgroups reads `ids.gids` with its true length; setgid and
    // setuid take plain ids. The C library applies each change to every
    // thread of the process (chpst has one), unlike the raw system calls.
    unsafe {
        if libc::setgroups(ids.gids.len(), ids.gids.as_ptr()) == -1 {
            return Err(Die::sys("unable to setgroups", &io::Error::last_os_error()));
        }
        if libc::setgid(ids.gids[0]) == -1 {
            return Err(Die::sys("unable to setgid", &io::Error::last_os_error()));
        }
        if libc::setuid(ids.uid) == -1 {
            return Err(Die::sys("unable to setuid", &io::Error::last_os_error()));
        }
    }
    match observe() {
        Ok(seen) if verified(ids, &seen) => Ok(()),
        Ok(_) => Err(Die::fail(
            b"chpst: fatal: unable to setuid: ids not changed as requested\n".to_vec(),
        )),
        Err(e) => Err(Die::sys("unable to setuid", &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification() {
        let want = Ids {
            uid: 5,
            gids: vec![7, 3],
        };
        let good = Observed {
            uids: [5, 5, 5],
            gids: [7, 7, 7],
            groups: vec![3, 7],
        };
        assert!(verified(&want, &good));
        let mut saved_root = good.clone();
        saved_root.uids[2] = 0;
        assert!(!verified(&want, &saved_root));
        let mut egid = good.clone();
        egid.gids[1] = 0;
        assert!(!verified(&want, &egid));
        let mut extra = good.clone();
        extra.groups.push(0);
        assert!(!verified(&want, &extra));
    }

    #[test]
    fn observes_self() {
        let o = observe().unwrap();
        assert_eq!(o.uids[0], rustix::process::getuid().as_raw());
        assert_eq!(o.gids[1], rustix::process::getegid().as_raw());
    }
}
