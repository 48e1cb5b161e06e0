//! runit as PID 1, booted inside a PID namespace made by the test
//! (`unshare --pid --fork --kill-child --mount-proc`), plus runit-init and
//! utmpset against the reference binaries.
//!
//! Killing a namespace's PID 1 kills everything in the namespace, and every
//! process inside carries the sandbox tag, so `assert_no_leaks` sees
//! whatever survived. Inside a non-initial PID namespace reboot(2) ends the
//! namespace's init as if by SIGHUP (reboot) or SIGINT (halt), so the
//! final step is real, not mocked: unshare reports 129 or 130.
//!
//! Our runit is pointed at a per-test root with the test-only
//! RUNIT_RS_TEST_ROOT override. The differential tests instead give both
//! implementations the compiled-in paths through a private mount namespace
//! (an overlay over /etc with /etc/runit bound in, a tmpfs /run, a FIFO
//! bound over /dev/console), because the reference's paths are fixed.
//!
//! Where the kernel refuses namespaces (or overlayfs), the tests skip,
//! with the refusal as the reason (see `runit_tests::skip`).

use std::ffi::OsStr;
use std::fs::File;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::Duration;

use runit_tests::*;

const LONG: Duration = Duration::from_secs(40);

/// Whether this kernel and user may make PID namespaces.
fn namespaces() -> Result<(), Skip> {
    static OK: OnceLock<Result<(), Skip>> = OnceLock::new();
    OK.get_or_init(|| {
        let mut c = Command::new("unshare");
        c.args(["--pid", "--fork", "--kill-child", "--mount-proc", "true"]);
        probe("make PID and mount namespaces (unshare --pid --fork --mount-proc; needs root or user namespaces)", c)
    })
    .clone()
}

macro_rules! need_namespaces {
    () => {
        if let Err(s) = namespaces() {
            s.record();
            return;
        }
    };
}

/// The exit status as a shell shows it.
fn code(s: ExitStatus) -> i32 {
    s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0))
}

/// A FIFO standing in for /dev/console, drained by a thread. The test
/// keeps a writer open itself so the reader never sees end-of-file while
/// runit closes and reopens the console.
struct Console {
    thread: Option<JoinHandle<String>>,
    writer: Option<File>,
}

impl Console {
    fn new(path: &Path) -> Console {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
        let reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags_nonblock()
            .open(path)
            .unwrap();
        let writer = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        set_blocking(&reader);
        let thread = std::thread::spawn(move || {
            let mut reader = reader;
            let mut out = Vec::new();
            let _ = reader.read_to_end(&mut out);
            String::from_utf8_lossy(&out).into_owned()
        });
        Console {
            thread: Some(thread),
            writer: Some(writer),
        }
    }

    /// Everything written to the console (call once the namespace is gone).
    fn finish(mut self) -> String {
        drop(self.writer.take());
        self.thread.take().unwrap().join().unwrap()
    }
}

trait NonBlock {
    fn custom_flags_nonblock(&mut self) -> &mut Self;
}
impl NonBlock for std::fs::OpenOptions {
    fn custom_flags_nonblock(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.custom_flags(libc::O_NONBLOCK)
    }
}

fn set_blocking(f: &File) {
    use std::os::unix::io::AsRawFd;
    // SAFETY: plain fcntl on an open descriptor.
    unsafe {
        let fl = libc::fcntl(f.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(f.as_raw_fd(), libc::F_SETFL, fl & !libc::O_NONBLOCK);
    }
}

/// runit's own lines from a console transcript, with the boot line's id
/// and the test root taken out.
fn runit_lines(console: &str, root: &Path) -> Vec<String> {
    let root = root.display().to_string();
    console
        .lines()
        .filter(|l| l.starts_with("- runit: "))
        .map(|l| {
            let l = l.replace(&root, "");
            match (l.find("$Id:"), l.rfind(" $: booting.")) {
                (Some(a), Some(_)) => format!("{}$Id$: booting.", &l[..a]),
                _ => l,
            }
            .to_string()
        })
        .collect()
}

/// runit's "signals only work in stage 2." is printed by runit while the
/// next stage's child prints "enter stage", so their order is a race:
/// returns the other lines and how many of those warnings there were.
fn split_race(v: &[String]) -> (Vec<String>, usize) {
    let w = "- runit: warning: signals only work in stage 2.";
    (
        v.iter().filter(|l| *l != w).cloned().collect(),
        v.iter().filter(|l| *l == w).count(),
    )
}

fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A tool for the stages' PATH: ours when it is built and answers its
/// usage as the reference does (so a half-written one is not used), else
/// the reference's.
fn choose_tool(name: &str, probe: &[&str]) -> PathBuf {
    let ours = bin_dir().join(name);
    let Some(r) = reference() else {
        return ours;
    };
    let theirs = r.runit(name);
    if ours.exists() {
        let run = |p: &Path| {
            Command::new(p)
                .args(probe)
                .stdin(Stdio::null())
                .output()
                .map(|o| (o.status.code(), o.stdout, o.stderr.len()))
                .ok()
        };
        let (a, b) = (run(&ours), run(&theirs));
        if a.is_some() && a.as_ref().map(|x| (&x.0, x.2 > 0)) == b.as_ref().map(|x| (&x.0, x.2 > 0))
        {
            return ours;
        }
    }
    theirs
}

/// A directory of the supervision tools the stages use, printed once.
fn tools_dir(sb: &Sandbox) -> PathBuf {
    let d = sb.join("tools");
    std::fs::create_dir_all(&d).unwrap();
    let mut chosen = Vec::new();
    for (name, probe) in [
        ("runsvdir", &[][..]),
        ("runsv", &[][..]),
        ("sv", &[][..]),
        ("svlogd", &[][..]),
    ] {
        let p = choose_tool(name, probe);
        let who = if p.starts_with(bin_dir()) {
            "ours"
        } else {
            "reference"
        };
        chosen.push(format!("{name}={who}"));
        std::os::unix::fs::symlink(&p, d.join(name)).unwrap();
    }
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| eprintln!("runit_init: stage 2 tools: {}", chosen.join(" ")));
    d
}

fn path_env(tools: &Path) -> String {
    format!(
        "{}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        tools.display()
    )
}

/// A per-test root for our runit (RUNIT_RS_TEST_ROOT).
struct Root {
    dir: PathBuf,
}

impl Root {
    fn new(sb: &Sandbox) -> Root {
        let dir = sb.join("root");
        for d in ["etc/runit", "run", "sbin", "logs"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        std::fs::write(dir.join("log"), "").unwrap();
        Root { dir }
    }
    fn p(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
    /// Writes a script, with `R` replaced by the root and `RUNIT_INIT` by
    /// our runit-init.
    fn script(&self, rel: &str, body: &str) {
        let body = body
            .replace("RUNIT_INIT", bin("runit-init").to_str().unwrap())
            .replace("R/", &format!("{}/", self.dir.display()));
        write_script(self.p(rel), &format!("#!/bin/sh\n{body}"));
    }
    fn log(&self) -> String {
        read(self.p("log"))
    }
}

/// Starts `program` as PID 1 of a new PID namespace, tagged.
fn boot(sb: &mut Sandbox, root: &Root, tools: &Path, program: &[&OsStr]) -> u32 {
    let mut c = sb.command("unshare");
    c.args(["--pid", "--fork", "--kill-child", "--mount-proc"])
        .args(program)
        .env("RUNIT_RS_TEST_ROOT", &root.dir)
        .env("PATH", path_env(tools))
        .stdin(Stdio::null());
    sb.spawn(c)
}

/// The host pid of the namespace's PID 1 (unshare's child).
fn namespace_init(unshare: u32) -> u32 {
    wait_for("the namespace's init", WAIT, || {
        let kids = read(format!("/proc/{unshare}/task/{unshare}/children"));
        if let Some(p) = kids.split_whitespace().next().and_then(|p| p.parse().ok()) {
            return Some(p);
        }
        // Kernels without CONFIG_PROC_CHILDREN: look for the parent link.
        std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = read(format!("/proc/{pid}/stat"));
            let ppid: u32 = stat
                .rsplit(')')
                .next()?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (ppid == unshare).then_some(pid)
        })
    })
}

const ZOMBIE_CHECK: &str = r#"
zombies() {
  for f in /proc/[0-9]*/stat; do
    read -r l < "$f" 2>/dev/null || continue
    rest=${l##*) }
    set -- $rest
    [ "$1" = Z ] && [ "$2" = 1 ] && printf '%s ' "$f"
  done
}
i=0; while :; do z=$(zombies); [ -z "$z" ] && break; i=$((i+1)); [ $i -gt 200 ] && break; sleep 0.05; done
echo "orphan zombies: [$z]" >> R/log
"#;

#[test]
fn boots_runs_services_and_powers_off() {
    need_namespaces!();
    let mut sb = Sandbox::new();
    let tools = tools_dir(&sb);
    let root = Root::new(&sb);
    std::fs::write(root.p("etc/runit/nosync"), "").unwrap();
    root.script(
        "etc/runit/1",
        "echo 'stage 1' >> R/log\n\
         ign=$(grep '^SigIgn' /proc/$$/status | cut -f2)\n\
         [ $((0x$ign & 0x20000)) = 0 ] && echo 'SIGCONT not ignored' >> R/log\n\
         sh -c 'sleep 0.3 & echo $! > R/orphan1'\n",
    );
    root.script(
        "etc/runit/2",
        "echo 'stage 2' >> R/log\nexec runsvdir -P R/service\n",
    );
    root.script(
        "service/a/run",
        "exec 2>&1\n\
         trap 'echo \"a got TERM\"; exit 0' TERM\n\
         echo 'a started'\n\
         sh -c 'sleep 0.2 &'\n\
         while :; do sleep 0.1; done\n",
    );
    root.script("service/a/log/run", "exec svlogd R/logs/a\n");
    std::fs::create_dir_all(root.p("logs/a")).unwrap();
    root.script(
        "service/trigger/run",
        "while [ ! -e R/go ]; do sleep 0.05; done\n\
         echo 'trigger' >> R/log\n\
         RUNIT_INIT 0\n\
         exec sleep 1000\n",
    );
    root.script(
        "etc/runit/3",
        &format!(
            "echo 'stage 3' >> R/log\n\
             ls -l R/run | grep -o '^[-rwx]* .*runit.*' | awk '{{print $1, $NF}}' >> R/log\n\
             sv -w 15 force-stop R/service/a R/service/trigger >/dev/null 2>&1\n\
             i=0; while ! grep -q 'a got TERM' R/logs/a/current 2>/dev/null; do\n\
               i=$((i+1)); [ $i -gt 300 ] && break; sleep 0.05; done\n\
             grep -q 'a got TERM' R/logs/a/current && echo 'log has TERM' >> R/log\n\
             sv exit R/service/a R/service/trigger >/dev/null 2>&1\n\
             {ZOMBIE_CHECK}\n\
             echo 'stage 3 done' >> R/log\n"
        ),
    );
    let console = Console::new(&root.p("dev/console"));
    let pid = boot(&mut sb, &root, &tools, &[bin("runit").as_os_str()]);
    wait_until("service a to log", LONG, || {
        read(root.p("logs/a/current")).contains("a started")
    });
    std::fs::write(root.p("go"), "").unwrap();
    let status = sb.wait_exit(pid, LONG);
    let text = console.finish();
    let got = runit_lines(&text, &root.dir);
    assert_eq!(
        got,
        lines(&[
            "- runit: $Id$: booting.",
            "- runit: enter stage: /etc/runit/1",
            "- runit: leave stage: /etc/runit/1",
            "- runit: enter stage: /etc/runit/2",
            "- runit: leave stage: /etc/runit/2",
            "- runit: enter stage: /etc/runit/3",
            "- runit: leave stage: /etc/runit/3",
            "- runit: sending KILL signal to all processes...",
            "- runit: power off...",
        ]),
        "console:\n{text}\nlog:\n{}",
        root.log()
    );
    assert_eq!(code(status), 130, "halt ends the namespace as SIGINT");
    assert_eq!(
        root.log(),
        "stage 1\nSIGCONT not ignored\nstage 2\ntrigger\nstage 3\n\
         ---------- runit.stopit\nlog has TERM\norphan zombies: []\nstage 3 done\n",
        "console:\n{text}"
    );
    sb.assert_no_leaks();
}

#[test]
fn runit_init_as_pid1_crashed_stage1_and_reboot() {
    need_namespaces!();
    let mut sb = Sandbox::new();
    let tools = tools_dir(&sb);
    let root = Root::new(&sb);
    std::os::unix::fs::symlink(bin("runit"), root.p("sbin/runit")).unwrap();
    root.script("etc/runit/1", "echo 'stage 1' >> R/log\nkill -KILL $$\n");
    root.script("etc/runit/2", "echo 'stage 2' >> R/log\n");
    // runit-init 6 during stage 3: runit answers that signals only work in
    // stage 2 (unless stage 3 ends first), and the reboot flag decides.
    root.script(
        "etc/runit/3",
        "echo 'stage 3' >> R/log\nRUNIT_INIT 6\nls -l R/run | grep -o '^[-rwx]* .*runit.*' | awk '{print $1, $NF}' >> R/log\n",
    );
    let console = Console::new(&root.p("dev/console"));
    let pid = boot(&mut sb, &root, &tools, &[bin("runit-init").as_os_str()]);
    let status = sb.wait_exit(pid, LONG);
    let text = console.finish();
    let got = split_race(&runit_lines(&text, &root.dir)).0;
    assert_eq!(
        got,
        lines(&[
            "- runit: $Id$: booting.",
            "- runit: enter stage: /etc/runit/1",
            "- runit: warning: child crashed: /etc/runit/1",
            "- runit: leave stage: /etc/runit/1",
            "- runit: warning: skipping stage 2...",
            "- runit: enter stage: /etc/runit/3",
            "- runit: leave stage: /etc/runit/3",
            "- runit: sending KILL signal to all processes...",
            "- runit: system reboot.",
        ]),
        "console:\n{text}"
    );
    assert_eq!(code(status), 129, "reboot ends the namespace as SIGHUP");
    assert_eq!(
        root.log(),
        "stage 1\nstage 3\n---x------ runit.reboot\n---x------ runit.stopit\n"
    );
    sb.assert_no_leaks();
}

#[test]
fn crashed_stage2_is_restarted_with_its_process_group_killed() {
    need_namespaces!();
    let mut sb = Sandbox::new();
    let tools = tools_dir(&sb);
    let root = Root::new(&sb);
    std::fs::write(root.p("etc/runit/nosync"), "").unwrap();
    root.script("etc/runit/1", "exit 0\n");
    root.script(
        "etc/runit/2",
        "n=$(cat R/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > R/count\n\
         echo \"stage 2 run $n\" >> R/log\n\
         if [ $n = 1 ]; then sleep 1000 & echo $! > R/straggler; kill -KILL $$; fi\n\
         ign=$(grep '^SigIgn' /proc/$$/status | cut -f2)\n\
         [ $((0x$ign & 0x20000)) = 0 ] && echo 'SIGCONT not ignored' >> R/log\n\
         : > R/run/runit.stopit; chmod 100 R/run/runit.stopit; kill -CONT 1\n\
         exec sleep 1000\n",
    );
    root.script(
        "etc/runit/3",
        "if kill -0 $(cat R/straggler) 2>/dev/null; then echo straggler alive; else echo straggler gone; fi >> R/log\n",
    );
    let console = Console::new(&root.p("dev/console"));
    let pid = boot(&mut sb, &root, &tools, &[bin("runit").as_os_str()]);
    let status = sb.wait_exit(pid, LONG);
    let text = console.finish();
    assert_eq!(
        runit_lines(&text, &root.dir),
        lines(&[
            "- runit: $Id$: booting.",
            "- runit: enter stage: /etc/runit/1",
            "- runit: leave stage: /etc/runit/1",
            "- runit: enter stage: /etc/runit/2",
            "- runit: warning: child crashed: /etc/runit/2",
            "- runit: warning: killing all processes in stage 2...",
            "- runit: warning: restarting.",
            "- runit: enter stage: /etc/runit/2",
            "- runit: leave stage: /etc/runit/2",
            "- runit: enter stage: /etc/runit/3",
            "- runit: leave stage: /etc/runit/3",
            "- runit: sending KILL signal to all processes...",
            "- runit: power off...",
        ]),
        "console:\n{text}"
    );
    assert_eq!(code(status), 130);
    assert_eq!(
        root.log(),
        "stage 2 run 1\nstage 2 run 2\nSIGCONT not ignored\nstraggler gone\n"
    );
    sb.assert_no_leaks();
}

#[test]
fn sigint_runs_ctrlaltdel_and_sigcont_needs_stopit() {
    need_namespaces!();
    let mut sb = Sandbox::new();
    let tools = tools_dir(&sb);
    let root = Root::new(&sb);
    std::fs::write(root.p("etc/runit/nosync"), "").unwrap();
    root.script("etc/runit/1", "exit 0\n");
    root.script("etc/runit/2", "echo 'stage 2' >> R/log\nexec sleep 1000\n");
    root.script(
        "etc/runit/ctrlaltdel",
        "echo ctrlaltdel >> R/log\n: > R/run/runit.stopit; chmod 100 R/run/runit.stopit\n",
    );
    root.script("etc/runit/3", "echo 'stage 3' >> R/log\n");
    let console = Console::new(&root.p("dev/console"));
    let pid = boot(&mut sb, &root, &tools, &[bin("runit").as_os_str()]);
    let init = namespace_init(pid);
    wait_until("stage 2", LONG, || root.log().contains("stage 2"));
    // Without an executable stopit file, SIGCONT changes nothing.
    kill(init, rustix::process::Signal::CONT);
    kill(init, rustix::process::Signal::INT);
    let status = sb.wait_exit(pid, LONG);
    let text = console.finish();
    assert_eq!(
        runit_lines(&text, &root.dir),
        lines(&[
            "- runit: $Id$: booting.",
            "- runit: enter stage: /etc/runit/1",
            "- runit: leave stage: /etc/runit/1",
            "- runit: enter stage: /etc/runit/2",
            "- runit: ctrl-alt-del request...",
            "- runit: enter stage: /etc/runit/ctrlaltdel",
            "- runit: leave stage: /etc/runit/ctrlaltdel",
            "- runit: leave stage: /etc/runit/2",
            "- runit: enter stage: /etc/runit/3",
            "- runit: leave stage: /etc/runit/3",
            "- runit: sending KILL signal to all processes...",
            "- runit: power off...",
        ]),
        "console:\n{text}"
    );
    assert_eq!(code(status), 130);
    assert_eq!(root.log(), "stage 2\nctrlaltdel\nstage 3\n");
    sb.assert_no_leaks();
}

#[test]
fn container_sigterm_shuts_down_and_refused_reboot_exits() {
    need_namespaces!();
    if Command::new("setpriv").arg("--help").output().is_err() {
        skip("needs setpriv (util-linux)");
        return;
    }
    let mut sb = Sandbox::new();
    let tools = tools_dir(&sb);
    let root = Root::new(&sb);
    std::fs::write(root.p("etc/runit/nosync"), "").unwrap();
    root.script("etc/runit/1", "exit 0\n");
    root.script(
        "etc/runit/2",
        "echo 'stage 2' >> R/log\ntrap 'echo \"stage 2 got TERM\" >> R/log; exit 0' TERM\n\
         while :; do sleep 0.05; done\n",
    );
    root.script("etc/runit/3", "echo 'stage 3' >> R/log\n");
    let console = Console::new(&root.p("dev/console"));
    // Without CAP_SYS_BOOT (as in Docker) the kernel refuses reboot(2).
    let pid = boot(
        &mut sb,
        &root,
        &tools,
        &[
            OsStr::new("setpriv"),
            OsStr::new("--bounding-set=-sys_boot"),
            OsStr::new("--"),
            bin("runit").as_os_str(),
        ],
    );
    let init = namespace_init(pid);
    wait_until("stage 2", LONG, || root.log().contains("stage 2"));
    kill(init, rustix::process::Signal::TERM);
    let status = sb.wait_exit(pid, LONG);
    let text = console.finish();
    let got = runit_lines(&text, &root.dir);
    assert_eq!(
        split_race(&got),
        (
            lines(&[
                "- runit: $Id$: booting.",
                "- runit: enter stage: /etc/runit/1",
                "- runit: leave stage: /etc/runit/1",
                "- runit: enter stage: /etc/runit/2",
                "- runit: leave stage: /etc/runit/2",
                "- runit: enter stage: /etc/runit/3",
                "- runit: leave stage: /etc/runit/3",
                "- runit: sending KILL signal to all processes...",
                "- runit: power off...",
                "- runit: system halt.",
            ]),
            // Like Debian's SIGPWR, the request outlives stage 2.
            1
        ),
        "console:\n{text}"
    );
    assert_eq!(code(status), 130, "refused halt: runit exits 130 itself");
    assert_eq!(root.log(), "stage 2\nstage 2 got TERM\nstage 3\n");
    sb.assert_no_leaks();
}

// ---------------------------------------------------------------------
// Differential: the reference runit and ours, same stages, same paths.

/// Boots `runit` with the compiled-in paths made private to the
/// namespace; returns (exit code, runit's console lines, the stages' log),
/// or the skip when overlayfs is refused.
fn boot_compiled_paths(
    sb: &mut Sandbox,
    name: &str,
    runit: &Path,
    runit_init: &Path,
    stages: &[(&str, &str)],
) -> Result<(i32, Vec<String>, String), Skip> {
    let s = sb.join(name);
    for d in ["upper", "work", "etcrunit"] {
        std::fs::create_dir_all(s.join(d)).unwrap();
    }
    let log = s.join("log");
    std::fs::write(&log, "").unwrap();
    std::fs::write(s.join("etcrunit/nosync"), "").unwrap();
    for (file, body) in stages {
        let body = body
            .replace("LOG", log.to_str().unwrap())
            .replace("RUNIT_INIT", runit_init.to_str().unwrap());
        let path = s.join("etcrunit").join(file);
        write_script(&path, &format!("#!/bin/sh\n{body}"));
        if body.starts_with("#noexec") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    let console = Console::new(&s.join("console"));
    let d = s.display();
    write_script(
        s.join("boot"),
        &format!(
            "#!/bin/sh\n\
             mount -t overlay overlay -o lowerdir=/etc,upperdir={d}/upper,workdir={d}/work /etc || exit 97\n\
             mkdir -p /etc/runit && mount --bind {d}/etcrunit /etc/runit || exit 97\n\
             mount -t tmpfs tmpfs /run || exit 97\n\
             mount --bind {d}/console /dev/console || exit 97\n\
             exec {}\n",
            runit.display()
        ),
    );
    let mut c = sb.command("unshare");
    c.args(["--pid", "--fork", "--kill-child", "--mount-proc"])
        .arg(s.join("boot"))
        .env_remove("RUNIT_RS_TEST_ROOT")
        .stdin(Stdio::null());
    let pid = sb.spawn(c);
    let status = sb.wait_exit(pid, LONG);
    let text = console.finish();
    if code(status) == 97 {
        let what = "mount an overlay over /etc (and tmpfs, binds) in a PID namespace";
        return Err(Skip::refused(what, status, b"").unwrap());
    }
    Ok((
        code(status),
        runit_lines(&text, Path::new("/nonexistent")),
        read(&log),
    ))
}

/// Runs both; returns our console lines (None when skipped).
fn differential(stages: &[(&str, &str)], expect_code: i32) -> Option<Vec<String>> {
    if let Err(s) = namespaces() {
        s.record();
        return None;
    }
    let r = reference()?;
    let mut sb = Sandbox::new();
    let ref_init = r.dir.join("root/lib/runit/runit-init");
    let theirs = match boot_compiled_paths(&mut sb, "ref", &r.runit("runit"), &ref_init, stages) {
        Ok(t) => t,
        Err(s) => {
            s.record();
            sb.assert_no_leaks();
            return None;
        }
    };
    let ours = boot_compiled_paths(&mut sb, "ours", &bin("runit"), &bin("runit-init"), stages)
        .expect("overlay worked for the reference");
    // Where the parent's warning and the child's "enter stage" race, only
    // the order of the rest is compared.
    assert_eq!(
        split_race(&ours.1),
        split_race(&theirs.1),
        "ours {:#?}\ntheirs {:#?}",
        ours.1,
        theirs.1
    );
    assert_eq!(ours.2, theirs.2, "stage logs differ");
    assert_eq!((ours.0, theirs.0), (expect_code, expect_code));
    sb.assert_no_leaks();
    Some(ours.1)
}

#[test]
fn differential_stage1_100_skips_stage2_then_reboot() {
    differential(
        &[
            ("1", "echo 1 >> LOG\nexit 100\n"),
            ("2", "echo 2 >> LOG\n"),
            (
                "3",
                "echo 3 >> LOG\n: > /run/runit.reboot; chmod 100 /run/runit.reboot\n",
            ),
        ],
        129,
    );
}

#[test]
fn differential_runit_init_0_from_stage2() {
    differential(
        &[
            ("1", "echo 1 >> LOG\n"),
            (
                "2",
                "echo 2 >> LOG\nkill -CONT 1\n: > /run/runit.reboot; chmod 755 /run/runit.reboot\n\
                 RUNIT_INIT 0\nexec sleep 1000\n",
            ),
            (
                "3",
                "echo 3 >> LOG\nls -l /run | grep -o '^[-rwx]* .*runit.*' | awk '{print $1, $NF}' >> LOG\n",
            ),
        ],
        130,
    );
}

#[test]
fn differential_sigpwr_shuts_down_without_stopit() {
    differential(
        &[
            ("1", "echo 1 >> LOG\n"),
            ("2", "echo 2 >> LOG\nkill -PWR 1\nexec sleep 1000\n"),
            ("3", "echo 3 >> LOG\n"),
        ],
        130,
    );
}

#[test]
fn differential_stage2_ignoring_term_gets_killed() {
    // runit waits 5 seconds after SIGTERM, then sends SIGKILL.
    let got = differential(
        &[
            ("1", "echo 1 >> LOG\n"),
            (
                "2",
                "echo 2 >> LOG\ntrap '' TERM\nRUNIT_INIT 6\nexec sleep 1000\n",
            ),
            ("3", "echo 3 >> LOG\n"),
        ],
        129,
    );
    if let Some(got) = got {
        assert!(
            got.contains(&"- runit: warning: stage 2 not terminated, sending sigkill...".into())
        );
    }
}

#[test]
fn differential_unstartable_stage2_counts_as_done() {
    let got = differential(
        &[
            ("1", "echo 1 >> LOG\n"),
            ("2", "#noexec\n"),
            ("3", "echo 3 >> LOG\n"),
        ],
        130,
    );
    if let Some(got) = got {
        assert!(got.contains(
            &"- runit: fatal: unable to start child: /etc/runit/2: access denied".into()
        ));
    }
}

#[test]
fn differential_failed_stage2_goes_to_stage3() {
    differential(
        &[
            ("1", "exit 3\n"),
            ("2", "echo 2 >> LOG\nexit 7\n"),
            ("3", "echo 3 >> LOG\n"),
        ],
        130,
    );
}

// ---------------------------------------------------------------------
// runit and runit-init outside PID 1, and utmpset, against the reference.

#[test]
fn runit_not_pid1_matches_reference() {
    let Some(r) = reference() else { return };
    let sb = Sandbox::new();
    for p in [r.runit("runit"), bin("runit")] {
        let o = sb.run(sb.command(&p));
        assert_eq!(o.status.code(), Some(111));
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            "- runit: fatal: must be run as process no 1.\n"
        );
    }
}

#[test]
fn runit_init_usage_matches_reference() {
    let Some(r) = reference() else { return };
    let sb = Sandbox::new();
    let theirs = r.dir.join("root/lib/runit/runit-init");
    for args in [&[][..], &["x"][..], &["-0"][..], &["9", "0"][..]] {
        let run = |p: &Path| {
            let o = sb.run({
                let mut c = sb.command(p);
                c.args(args);
                c
            });
            (
                o.status.code(),
                String::from_utf8_lossy(&o.stderr).replace(p.to_str().unwrap(), "PROG"),
            )
        };
        assert_eq!(run(&bin("runit-init")), run(&theirs), "args {args:?}");
    }
}

/// Runs a shell script in a private mount namespace (tmpfs /run) with a
/// PID namespace, so runit-init's SIGCONT reaches a harmless PID 1.
fn in_namespace(sb: &Sandbox, script: &str) -> String {
    let o = sb.run({
        let mut c = sb.command("unshare");
        c.args([
            "--pid",
            "--fork",
            "--kill-child",
            "--mount-proc",
            "sh",
            "-c",
            script,
        ]);
        c
    });
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

#[test]
fn runit_init_flag_files_match_reference() {
    need_namespaces!();
    let Some(r) = reference() else { return };
    let sb = Sandbox::new();
    let script = |p: &Path| {
        format!(
            "mount -t tmpfs tmpfs /run || exit 1\n\
             show() {{ ls -l /run | grep -o '^[-rwxd]* .*runit.*' | awk '{{print $1, $NF}}'; }}\n\
             for a in 0 6 06 60; do rm -rf /run/runit.*; {p} $a; echo \"[$a] rc=$?\"; show; done\n\
             rm -rf /run/runit.*; : > /run/runit.reboot; chmod 755 /run/runit.reboot; {p} 0; echo rc=$?; show\n\
             rm -rf /run/runit.*; mkdir /run/runit.reboot; {p} 0; echo rc=$?; show\n",
            p = p.display()
        )
    };
    let theirs = in_namespace(&sb, &script(&r.dir.join("root/lib/runit/runit-init")));
    let ours = in_namespace(&sb, &script(&bin("runit-init")));
    assert!(
        theirs.contains("[6] rc=0\n---x------ runit.reboot\n---x------ runit.stopit\n"),
        "{theirs}"
    );
    assert_eq!(ours, theirs);
}

#[test]
fn runit_init_reports_the_real_error() {
    // Deliberate difference: runit 2.1.2 says "file descriptor not open"
    // for any failure to create the stopit file (it closes the -1 it got).
    need_namespaces!();
    let sb = Sandbox::new();
    let out = in_namespace(
        &sb,
        &format!(
            "mount -t tmpfs -o ro tmpfs /run || exit 1\n{} 0; echo rc=$?\n",
            bin("runit-init").display()
        ),
    );
    assert_eq!(
        out,
        "rc=111\ninit: fatal: unable to create /run/runit.stopit: read-only file system\n"
    );
}

fn utmp_record(kind: i16, pid: i32, line: &str, user: &str, host: &str) -> Vec<u8> {
    // x86_64 glibc layout: type, pid, line[32], id[4], user[32], host[256],
    // exit, session, tv (2 x i32), addr_v6[4], unused[20] = 384 bytes.
    let mut b = vec![0u8; 384];
    b[0..2].copy_from_slice(&kind.to_le_bytes());
    b[4..8].copy_from_slice(&pid.to_le_bytes());
    b[8..8 + line.len()].copy_from_slice(line.as_bytes());
    b[40..40 + line.len().min(4)].copy_from_slice(&line.as_bytes()[..line.len().min(4)]);
    b[44..44 + user.len()].copy_from_slice(user.as_bytes());
    b[76..76 + host.len()].copy_from_slice(host.as_bytes());
    b[340..344].copy_from_slice(&1000i32.to_le_bytes());
    b[344..348].copy_from_slice(&5i32.to_le_bytes());
    b
}

#[test]
#[cfg(all(target_arch = "x86_64", target_env = "gnu"))]
fn utmpset_matches_reference() {
    need_namespaces!();
    let Some(r) = reference() else { return };
    let sb = Sandbox::new();
    let mut utmp = Vec::new();
    utmp.extend(utmp_record(2, 0, "~", "reboot", "6.1"));
    utmp.extend(utmp_record(7, 100, "tty1", "root", "host1"));
    utmp.extend(utmp_record(7, 101, "pts/0", "alice", "remote"));
    utmp.extend(utmp_record(6, 102, "tty2", "", ""));
    utmp.extend(utmp_record(7, 103, "tty1", "bob", "h2"));
    std::fs::write(sb.join("utmp0"), &utmp).unwrap();
    let run = |name: &str, prog: &Path| -> (String, Vec<u8>, Vec<u8>) {
        let d = sb.join(name);
        std::fs::create_dir_all(d.join("log")).unwrap();
        let script = format!(
            "mount -t tmpfs tmpfs /run && cp {s}/utmp0 /run/utmp && mount --bind {d}/log /var/log || exit 1\n\
             run() {{ \"$@\" > {d}/out 2>&1; rc=$?; sed 's#{p}#PROG#' {d}/out; echo \"rc=$rc\"; }}\n\
             U={p}\n\
             run $U; run $U -x; run $U -w; run $U tty1; run $U -w tty1; run $U -w tty1; run $U -w pts/0\n\
             run $U tty2; run $U -w tty9; run $U {l32}; run $U -- tty1\n\
             chmod 644 /run/utmp; run setpriv --reuid=65534 $U tty1\n\
             cp /run/utmp {d}/utmp.after\n\
             rm /run/utmp; run $U tty1; mkdir /run/utmp; run $U tty1\n\
             rmdir /run/utmp; cp {s}/utmp0 /run/utmp; mv /var/log/wtmp {d}/wtmp.after; mkdir /var/log/wtmp; run $U -w tty1\n\
             stat -c '%a %s' {d}/wtmp.after\n",
            s = sb.path().display(),
            d = d.display(),
            p = prog.display(),
            l32 = "x".repeat(32),
        );
        let out = in_namespace(&sb, &script);
        let mut u = std::fs::read(d.join("utmp.after")).unwrap_or_default();
        let mut w = std::fs::read(d.join("wtmp.after")).unwrap_or_default();
        // Mask the seconds (bytes 340..344 of each record).
        for buf in [&mut u, &mut w] {
            for rec in buf.chunks_mut(384) {
                if rec.len() == 384 {
                    rec[340..344].fill(0);
                }
            }
        }
        (out, u, w)
    };
    let theirs = run("ref", &r.runit("utmpset"));
    let ours = run("ours", &bin("utmpset"));
    assert!(theirs.0.contains("rc=0"), "{}", theirs.0);
    assert_eq!(ours.0, theirs.0);
    assert_eq!(ours.1, theirs.1, "utmp bytes differ");
    assert_eq!(ours.2, theirs.2, "wtmp bytes differ");
    assert_eq!(theirs.2.len(), 2 * 384);
}
