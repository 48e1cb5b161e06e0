//! `make demo` must work on a fresh machine: run the demo script against
//! the built binaries and check it shows what it promises and leaves no
//! process behind.

use runit_tests::*;

#[test]
fn demo_runs_and_cleans_up() {
    let mut sb = Sandbox::new();
    let mut c = sb.command("sh");
    c.arg(workspace_root().join("examples/demo.sh"))
        .arg(bin_dir())
        .env("TMPDIR", sb.path());
    let out = sb.run(c);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "ok: run: hello: (pid ",
        "hello: tick 1",
        "hello: finished (exit -1, signal 15)",
        "worker: uid 65534, GREETING=hello from ./env",
        "oneshot: done",
        "ok: down: oneshot: ",
        "ok: run: ticker: (pid ",
        "fail: hello: runsv not running",
        "done: every process the demo started has exited",
    ] {
        assert!(text.contains(want), "demo output lacks {want:?}:\n{text}");
    }
    // The demo removes its copy of the tree.
    let left: Vec<_> = std::fs::read_dir(sb.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "demo left {left:?}");
    sb.assert_no_leaks();
}
