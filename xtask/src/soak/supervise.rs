//! Supervision under abuse: a crash loop, a ./run that leaves children
//! behind, and random bytes in supervise/control. Each is run against our
//! runsv and runit's, side by side; the verdict judges ours.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rustix::fs::{Mode, OFlags};

use super::probe::{self, Reaper};
use super::Soak;
use crate::bench::common::{spawn_runsv, status, Scratch};

/// A small seeded PRNG (xorshift64*): the cases must repeat exactly.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn byte(&mut self) -> u8 {
        (self.next() >> 32) as u8
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

pub fn write_exec(p: &Path, text: &str) {
    std::fs::write(p, text).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn lines_in(p: &Path) -> u64 {
    std::fs::read(p)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count() as u64)
        .unwrap_or(0)
}

/// Readings of one runsv.
#[derive(Clone, Copy, Default)]
struct Reading {
    fds: usize,
    rss: u64,
}

fn read(pid: u32) -> Reading {
    Reading {
        fds: probe::fd_count(pid).unwrap_or(0),
        rss: probe::rss_kb(pid).unwrap_or(0),
    }
}

/// Zombies among `pid`'s descendants that are still there after a second
/// (one caught between its death and runsv's reap is not a leak).
fn lasting_zombies(pid: u32) -> usize {
    let first = probe::zombies(pid);
    if first.is_empty() {
        return 0;
    }
    let mut left = first.clone();
    probe::poll(Duration::from_secs(1), || {
        let now = probe::zombies(pid);
        left.retain(|z| now.contains(z));
        left.is_empty()
    });
    left.len()
}

/// N services looping at once for one implementation.
struct Loop {
    dirs: Vec<PathBuf>,
    pids: Vec<u32>,
    start: Vec<Reading>,
}

impl Loop {
    fn spawn(runsv: &Path, base: &Path, n: usize, reaper: &mut Reaper) -> Loop {
        let mut dirs = Vec::new();
        let mut pids = Vec::new();
        for i in 0..n {
            let d = base.join(format!("svc{i}"));
            std::fs::create_dir_all(&d).unwrap();
            write_exec(&d.join("run"), "#!/bin/sh\necho >> starts\nexit 1\n");
            pids.push(reaper.child(spawn_runsv(runsv, &d)));
            dirs.push(d);
        }
        Loop {
            dirs,
            pids,
            start: Vec::new(),
        }
    }
    fn starts(&self) -> u64 {
        self.dirs.iter().map(|d| lines_in(&d.join("starts"))).sum()
    }
    fn each_started(&self, k: u64) -> bool {
        self.dirs.iter().all(|d| lines_in(&d.join("starts")) >= k)
    }
    /// "fds a→b, rss +N kB, Z zombies, C children" over every runsv, and
    /// whether it stayed flat.
    fn report(&self, restarts: u64, secs: f64) -> (String, bool) {
        let mut fd_grew = 0usize;
        let mut rss_max = 0i64;
        let mut zombies = 0usize;
        let mut kids = 0usize;
        let mut dead = 0usize;
        let (mut fd0, mut fd1) = (0, 0);
        for (i, &pid) in self.pids.iter().enumerate() {
            if !probe::alive(pid) {
                dead += 1;
                continue;
            }
            let a = self.start[i];
            // A spawn in flight holds a descriptor for a moment: a leak is
            // one that stays.
            let mut b = read(pid);
            probe::poll(Duration::from_secs(1), || {
                b = read(pid);
                b.fds <= a.fds
            });
            fd0 = fd0.max(a.fds);
            fd1 = fd1.max(b.fds);
            fd_grew += usize::from(b.fds > a.fds);
            rss_max = rss_max.max(b.rss as i64 - a.rss as i64);
            zombies += lasting_zombies(pid);
            kids = kids.max(probe::children(pid).len());
        }
        let text = format!(
            "{restarts} restarts in {secs:.0} s by {} runsv; fds {fd0}→{fd1} ({fd_grew} grew), rss +{rss_max} kB max, {zombies} zombies, ≤{kids} child, {dead} dead",
            self.pids.len()
        );
        (
            text,
            fd_grew == 0 && rss_max <= 8 && zombies == 0 && dead == 0,
        )
    }
}

/// Case 1: ./run exits at once, over and over. runsv starts a service at most
/// once a second (runit's rule, kept by ours), so many restarts need many
/// services: both sets loop at once, for the same wall time, until ours
/// has the target count.
pub fn crash_loop(s: &mut Soak) {
    let target = s.count(10_000, 200);
    let n = s.count(200, 40) as usize;
    let scratch = Scratch::new("soak-crashloop");
    let mut reaper = Reaper::new();
    let mut ours = Loop::spawn(
        &s.ctx.ours("runsv"),
        &scratch.0.join("ours"),
        n,
        &mut reaper,
    );
    let mut theirs = Loop::spawn(
        &s.ctx.theirs("runsv"),
        &scratch.0.join("theirs"),
        n,
        &mut reaper,
    );
    // The start readings come after two starts each (first allocations
    // done), the counts from then on.
    let warm = probe::poll(Duration::from_secs(30), || {
        ours.each_started(2) && theirs.each_started(2)
    });
    ours.start = ours.pids.iter().map(|&p| read(p)).collect();
    theirs.start = theirs.pids.iter().map(|&p| read(p)).collect();
    let (o0, t0) = (ours.starts(), theirs.starts());
    let t = Instant::now();
    let limit = Duration::from_secs(s.count(300, 30));
    probe::poll(limit, || ours.starts() - o0 >= target);
    let secs = t.elapsed().as_secs_f64();
    let (o1, t1) = (ours.starts() - o0, theirs.starts() - t0);
    let (rt, _) = theirs.report(t1, secs);
    let (ro, flat) = ours.report(o1, secs);
    s.check(
        "crash loop: ./run exits at once",
        rt,
        ro,
        warm && flat && o1 >= target,
        "a leak, a dead runsv or too few restarts",
    );
}

/// Case 2: ./run forks children, some done before it exits and some outliving
/// it, then exits. Whatever becomes a child of runsv must be reaped: no
/// zombie whose parent is runsv lasts, over several cycles. (Orphans that
/// outlive ./run go to the nearest subreaper; where they went is shown.)
pub fn orphans(s: &mut Soak) {
    let cycles = s.count(20, 3);
    let mut cells = Vec::new();
    let mut good = true;
    for (tag, runsv) in [
        ("theirs", s.ctx.theirs("runsv")),
        ("ours", s.ctx.ours("runsv")),
    ] {
        let scratch = Scratch::new(&format!("soak-orphans-{tag}"));
        let d = scratch.0.join("svc");
        std::fs::create_dir_all(&d).unwrap();
        write_exec(
            &d.join("run"),
            "#!/bin/sh\necho >> starts\nsleep 0.05 &\nsleep 0.1 &\n(sleep 0.05 &)\nsleep 3 &\n(sleep 3 &)\nexec sleep 0.2\n",
        );
        let mut reaper = Reaper::new();
        let pid = reaper.child(spawn_runsv(&runsv, &d));
        let mut stuck = 0usize;
        let mut seen: Vec<(u32, Instant)> = Vec::new();
        let mut strays = 0usize;
        let mut parents = std::collections::BTreeSet::new();
        let t = Instant::now();
        let limit = Duration::from_secs(cycles * 2 + 10);
        while lines_in(&d.join("starts")) < cycles + 1 && t.elapsed() < limit {
            let kids = probe::children(pid);
            let run = status(&d).map(|st| st.pid).unwrap_or(0);
            strays = strays.max(kids.iter().filter(|&&k| k != run).count());
            let now = Instant::now();
            let z: Vec<u32> = kids
                .into_iter()
                .filter(|&k| probe::state(k) == Some('Z'))
                .collect();
            seen.retain(|(p, _)| z.contains(p));
            for p in z {
                match seen.iter().find(|(q, _)| *q == p) {
                    Some((_, since)) if now.duration_since(*since) > Duration::from_millis(500) => {
                        stuck += 1;
                        seen.retain(|(q, _)| *q != p);
                    }
                    Some(_) => {}
                    None => seen.push((p, now)),
                }
            }
            // Where the long sleeps of earlier runs went.
            for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                    continue;
                };
                if let Ok(cmd) = std::fs::read(format!("/proc/{p}/cmdline")) {
                    if cmd == b"sleep\x003\x00" {
                        if let Some(pp) = probe::ppid(p) {
                            let who = if pp == pid {
                                "runsv".to_string()
                            } else if pp == 1 {
                                "pid 1".to_string()
                            } else {
                                "other".to_string()
                            };
                            parents.insert(who);
                            reaper.pid(p);
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let done = lines_in(&d.join("starts")).saturating_sub(1);
        let alive = probe::alive(pid);
        let text = format!(
            "{done} cycles, {stuck} lasting zombies of runsv, ≤{strays} stray children; orphans to {}{}",
            parents.into_iter().collect::<Vec<_>>().join("+"),
            if alive { "" } else { "; runsv DIED" }
        );
        if tag == "ours" {
            good = stuck == 0 && alive && done >= cycles;
        }
        cells.push(text);
        // The orphaned sleeps are not descendants of runsv any more; they
        // were registered by PID above and are killed here.
        reaper.kill_all();
    }
    s.check(
        "orphans: ./run leaves children",
        cells[0].clone(),
        cells[1].clone(),
        good,
        "a zombie of runsv lasted, or runsv died",
    );
}

fn sv(sv: &Path, args: &[&str], dir: &Path) -> (i32, String) {
    let out = Command::new(sv)
        .args(args)
        .arg(dir)
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(o) => (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).trim().to_string(),
        ),
        Err(e) => (-1, e.to_string()),
    }
}

/// The want a control stream leaves behind: the last of `u` (up), `d`
/// and `o` (down) decides it; a stream without any leaves it up.
fn asked_want(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .rev()
        .find_map(|&b| match b {
            b'u' => Some(b'u'),
            b'd' | b'o' => Some(b'd'),
            _ => None,
        })
        .unwrap_or(b'u')
}

/// What one runsv made of one control stream.
struct Storm {
    sent: usize,
    /// Bytes runsv read: those sent less those still in the FIFO when
    /// the time was up (this process took them back out).
    taken: usize,
    secs: f64,
    alive: bool,
    /// The settled status after the stream: want, paused, something running.
    want: u8,
    paused: bool,
    up: bool,
    /// The want the bytes taken ask for.
    asked: u8,
    fds: (usize, usize),
    rss: (u64, u64),
    /// `sv cont`, `sv down`, `sv up` afterwards, each with -w 15.
    obeyed: [bool; 3],
}

impl Storm {
    fn text(&self) -> String {
        if !self.alive {
            return format!(
                "{} of {} bytes taken in {:.1} s; runsv EXITED",
                self.taken, self.sent, self.secs
            );
        }
        let ok = |b: bool| if b { "ok" } else { "FAILED" };
        format!(
            "{} of {} bytes taken, settled in {:.1} s; then want {} (bytes ask {}), {}{}; sv cont/down/up: {}/{}/{}; fds {}→{}, rss {}→{} kB",
            self.taken,
            self.sent,
            self.secs,
            self.want as char,
            self.asked as char,
            if self.up { "running" } else { "down" },
            if self.paused { ", paused" } else { "" },
            ok(self.obeyed[0]),
            ok(self.obeyed[1]),
            ok(self.obeyed[2]),
            self.fds.0,
            self.fds.1,
            self.rss.0,
            self.rss.1,
        )
    }

    /// Alive, everything taken, the want the bytes asked for, obeying
    /// afterwards, no descriptor kept and at most `rss_slack` kB more.
    fn good(&self, rss_slack: u64) -> bool {
        self.alive
            && self.taken == self.sent
            && self.want == self.asked
            && self.obeyed.iter().all(|&b| b)
            && self.fds.1 == self.fds.0
            && self.rss.1 <= self.rss.0 + rss_slack
    }
}

/// Writes `data` into supervise/control of a running `exec sleep` service
/// as fast as the FIFO takes it, for at most `limit`; then takes back
/// what runsv has not read, lets the service settle, reads its state and
/// checks that `sv cont`, `sv down` and `sv up` still work.
fn storm(runsv: &Path, svbin: &Path, tag: &str, data: &[u8], limit: Duration) -> Storm {
    let scratch = Scratch::new(&format!("soak-control-{tag}"));
    let d = scratch.0.join("svc");
    std::fs::create_dir_all(&d).unwrap();
    write_exec(&d.join("run"), "#!/bin/sh\nexec sleep 1000\n");
    let mut reaper = Reaper::new();
    let pid = reaper.child(spawn_runsv(runsv, &d));
    probe::poll(Duration::from_secs(10), || {
        status(&d).is_some_and(|st| st.pid != 0)
    });
    let start = read(pid);
    let t = Instant::now();
    let mut sent = 0usize;
    let mut left = 0usize;
    let fifo = d.join("supervise/control");
    if let Ok(w) = rustix::fs::open(
        &fifo,
        OFlags::WRONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        while sent < data.len() && t.elapsed() < limit && probe::alive(pid) {
            match rustix::io::write(&w, &data[sent..(sent + 4096).min(data.len())]) {
                Ok(n) => sent += n,
                Err(rustix::io::Errno::AGAIN) | Err(rustix::io::Errno::INTR) => {
                    std::thread::sleep(Duration::from_micros(500))
                }
                Err(_) => break,
            }
        }
        // What is still in the FIFO when the time is up is taken back
        // (one read empties a pipe), so runsv has read exactly the first
        // `sent - left` bytes: the settled state can be held against them.
        let rest = limit.saturating_sub(t.elapsed());
        probe::poll(rest, || {
            rustix::io::ioctl_fionread(&w).map_or(true, |n| n == 0) || !probe::alive(pid)
        });
        if let Ok(r) = rustix::fs::open(
            &fifo,
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            let mut buf = vec![0u8; 1 << 20];
            while let Ok(n @ 1..) = rustix::io::read(&r, &mut buf) {
                left += n;
            }
        }
    }
    let taken = sent - left;
    // Settled: the status unchanged for 1.5 s (runsv holds a restart up
    // to a second after the last start). runsv may still be working
    // through commands it has read; until it is done the status shows a
    // passing state, and `sv` would act on that (it writes nothing when
    // the status already shows the want it is asked for).
    let mut last = supervise_proto::svdir::read_status_bytes(&d).ok();
    let mut since = Instant::now();
    probe::poll(
        limit.saturating_sub(t.elapsed()) + Duration::from_secs(15),
        || {
            std::thread::sleep(Duration::from_millis(50));
            let now = supervise_proto::svdir::read_status_bytes(&d).ok();
            if now != last {
                last = now;
                since = Instant::now();
            }
            since.elapsed() >= Duration::from_millis(1500)
        },
    );
    let secs = since.duration_since(t).as_secs_f64();
    let st = status(&d);
    let alive = probe::alive(pid);
    let end = read(pid);
    // `sv cont` first: a stream that ended on `p` leaves the service
    // paused, and that is obeying it. `sv -w` is satisfied at once by a
    // service that is down, before runsv has read the byte: the status
    // each command must lead to is polled for after it.
    let obey = |args: &[&str], want: &dyn Fn(&supervise_proto::Status) -> bool| {
        let (rc, _) = sv(svbin, args, &d);
        rc == 0
            && probe::poll(Duration::from_secs(5), || {
                status(&d).is_some_and(|s| want(&s))
            })
    };
    let cont_ok = obey(&["-w", "15", "cont"], &|s| !s.paused);
    let down_ok = obey(&["-w", "15", "down"], &|s| s.pid == 0 && s.want == b'd');
    let up_ok = obey(&["-w", "15", "up"], &|s| s.pid != 0 && s.want == b'u');
    Storm {
        sent,
        taken,
        secs,
        alive: alive && probe::alive(pid),
        want: st.as_ref().map_or(b'?', |s| s.want),
        paused: st.as_ref().is_some_and(|s| s.paused),
        up: st.as_ref().is_some_and(|s| s.pid != 0),
        asked: asked_want(&data[..taken]),
        fds: (start.fds, end.fds),
        rss: (start.rss, end.rss),
        obeyed: [cont_ok, down_ok, up_ok],
    }
}

/// Case 3: random bytes into supervise/control of a running service.
///
/// The stream (seeded, so every run sends the same bytes) has every `x`
/// taken out: `x` means "exit once down", and a runsv that exits on it
/// obeys, which would leave nothing to check afterwards. Every other byte
/// stays: the commands among them (d u o t k p c h a i q 1 2) are obeyed
/// as they come, the rest ignored, so the service ends in whatever state
/// the last ones asked for (paused after a late `p`, down after a late
/// `d` or `o`). That is why `sv up` alone cannot be the test.
///
/// runit's runsv reads one byte a round and sleeps through its one-second
/// restart pause, so it gets through a few hundred bytes in the time
/// allowed. Row 1 gives ours exactly the bytes runit's read and compares
/// the outcome; row 2 gives ours the whole stream.
pub fn control_garbage(s: &mut Soak) {
    let size = s.count(1 << 20, 64 << 10) as usize;
    let mut rng = Rng::new(0x5eed_c0de);
    let data: Vec<u8> = std::iter::repeat_with(|| rng.byte())
        .filter(|&b| b != b'x')
        .take(size)
        .collect();
    let (their_runsv, their_sv) = (s.ctx.theirs("runsv"), s.ctx.theirs("sv"));
    let (our_runsv, our_sv) = (s.ctx.ours("runsv"), s.ctx.ours("sv"));
    let theirs = storm(
        &their_runsv,
        &their_sv,
        "theirs",
        &data,
        Duration::from_secs(s.count(20, 4)),
    );
    let same = storm(
        &our_runsv,
        &our_sv,
        "ours-same",
        &data[..theirs.taken],
        Duration::from_secs(30),
    );
    s.check(
        &format!(
            "control: the {} random bytes runit's runsv read",
            theirs.taken
        ),
        theirs.text(),
        same.text(),
        same.good(64) && same.want == theirs.want,
        "runsv died, ended in another want than runit's, stopped obeying or leaked",
    );
    let all = storm(
        &our_runsv,
        &our_sv,
        "ours",
        &data,
        // A debug build, busy machine: ~1 ms a command, ~57,000 commands a MB.
        Duration::from_secs(s.count(300, 30)),
    );
    s.check(
        &format!("control: {} kB of random bytes (no x)", size / 1024),
        format!(
            "{} bytes taken in {:.0} s (one a round)",
            theirs.taken, theirs.secs
        ),
        all.text(),
        all.good(64),
        "runsv died, fell behind, ended in another want than the bytes ask, stopped obeying or leaked",
    );
}
