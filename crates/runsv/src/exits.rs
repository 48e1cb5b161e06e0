//! `supervise/exits` (and `log/supervise/exits`): how each recent run of
//! ./run ended, for every service (the format is in
//! [`supervise_proto::exits`]).
//!
//! The list lives in memory and the file is replaced by rename once per
//! death of ./run, never otherwise, so a crash loop costs one small write
//! per death and an idle service none. When a ./finish runs, the death is
//! written once ./finish has exited, so that the record can say whether it
//! exited 125; the record's times are still those of ./run.

use supervise_proto::exits::{
    parse_tally, ExitLog, ExitRecord, DEFAULT_TALLY, LOG_EXITS, LOG_EXITS_NEW, MAIN_EXITS,
    MAIN_EXITS_NEW,
};
use supervise_proto::status::replace;
use supervise_proto::Tai64n;

use crate::msg::Messages;
use crate::settings;

/// s6's file: how many records to keep.
pub const MAX_DEATH_TALLY: &str = "max-death-tally";
const TALLY_FILE_MAX: usize = 64;

pub struct Exits {
    path: &'static str,
    tmp: &'static str,
    /// `max-death-tally` of the service or `log/max-death-tally`.
    tally_file: String,
    list: ExitLog,
    /// Records kept, from the tally file read at the last start.
    keep: usize,
    /// A death whose ./finish is still running.
    pending: Option<ExitRecord>,
    /// The list changed and the file is still to be replaced.
    dirty: bool,
}

impl Exits {
    pub fn new(is_log: bool) -> Exits {
        let (path, tmp, prefix) = if is_log {
            (LOG_EXITS, LOG_EXITS_NEW, "log/")
        } else {
            (MAIN_EXITS, MAIN_EXITS_NEW, "")
        };
        Exits {
            path,
            tmp,
            tally_file: settings::path(prefix, MAX_DEATH_TALLY),
            list: ExitLog::default(),
            keep: DEFAULT_TALLY,
            pending: None,
            dirty: false,
        }
    }

    /// The empty list, when runsv starts: written at the first flush
    /// (with the first status), the file exists for every service from
    /// then on and counts deaths since this runsv started.
    pub fn create(&mut self) {
        self.dirty = true;
    }

    /// At each start of ./run: the number of records to keep (s6's
    /// `max-death-tally`: default 100, at most 4096; 0 keeps the last
    /// one, which is what status readers show).
    pub fn read_tally(&mut self, msg: &Messages) {
        self.keep = match settings::read(&self.tally_file, TALLY_FILE_MAX, msg) {
            None => DEFAULT_TALLY,
            Some(b) => parse_tally(&b).unwrap_or_else(|| {
                settings::bad_value(&self.tally_file, "a number", msg);
                DEFAULT_TALLY
            }),
        };
    }

    /// ./run ended; `finishing` tells whether ./finish runs now (the
    /// record is then written by [`Exits::settle`] when it is done).
    pub fn died(
        &mut self,
        started: Tai64n,
        ended: Tai64n,
        wstatus: i32,
        flags: u8,
        finishing: bool,
    ) {
        self.pending = Some(ExitRecord {
            ended,
            started,
            wstatus,
            flags,
        });
        if !finishing {
            self.settle(0);
        }
    }

    /// The death is over (./finish has exited, if there was one): adds its
    /// record with `flags`; the file is replaced at the next
    /// [`Exits::flush`] (after the restart's fork, before the status files).
    pub fn settle(&mut self, flags: u8) {
        if self.add_pending(flags) {
            self.dirty = true;
        }
    }

    /// Replaces the file if the list changed.
    pub fn flush(&mut self, msg: &Messages) {
        if std::mem::take(&mut self.dirty) {
            self.write(msg);
        }
    }

    /// Moves the pending death into the list; false when there is none.
    fn add_pending(&mut self, flags: u8) -> bool {
        let Some(mut r) = self.pending.take() else {
            return false;
        };
        r.flags |= flags;
        self.list.push(r, self.keep);
        true
    }

    fn write(&self, msg: &Messages) {
        if let Err(e) = replace(self.tmp, self.path, &self.list.encode()) {
            msg.write_failed(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use supervise_proto::exits::FLAG_FINISH_125;

    fn death(e: &mut Exits, at: u64, wstatus: i32) {
        e.pending = Some(ExitRecord {
            ended: Tai64n::from_unix(at + 3, 0),
            started: Tai64n::from_unix(at, 0),
            wstatus,
            flags: 0,
        });
    }

    // Writing the file is covered end to end (tests/tests/crashloop.rs);
    // here the list: bounded, oldest dropped, one entry per death.
    #[test]
    fn one_record_per_death_bounded() {
        let mut e = Exits::new(false);
        e.keep = 2;
        for i in 0..5 {
            death(&mut e, 1000 + 10 * i as u64, i << 8);
            assert!(e.add_pending(0));
        }
        assert_eq!(e.list.total, 5);
        assert_eq!(e.list.records.len(), 2);
        assert_eq!(e.list.records[0].wstatus, 3 << 8);
        assert_eq!(e.list.records[1].ended, Tai64n::from_unix(1043, 0));
        death(&mut e, 2000, 9);
        assert!(e.add_pending(FLAG_FINISH_125));
        assert_eq!(e.list.last().unwrap().flags, FLAG_FINISH_125);
        // Nothing pending: nothing added (so nothing written).
        assert!(!e.add_pending(0));
        assert_eq!(e.list.total, 6);
        assert_eq!(Exits::new(true).path, LOG_EXITS);
    }
}
