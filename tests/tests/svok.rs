//! svok against daemontools 0.76's: the same directories (supervised,
//! not, not there, not directories), the same exit codes and messages.

use runit_tests::*;

#[test]
fn svok_exit_codes_match_daemontools() {
    let Some((ours, theirs)) = daemontools_pair("svok") else {
        return;
    };
    let sb = Sandbox::new();
    let mut held = Vec::new();
    let d = sb.path();
    std::fs::create_dir(d.join("empty")).unwrap();
    std::fs::create_dir_all(d.join("okdir/supervise/ok")).unwrap();
    std::fs::create_dir(d.join("supfile")).unwrap();
    std::fs::write(d.join("supfile/supervise"), "").unwrap();
    std::fs::write(d.join("plainfile"), "").unwrap();
    fake_service(&d.join("running"), None, true, &mut held);
    fake_service(&d.join("stopped"), None, false, &mut held);
    let cases: &[&[&str]] = &[
        &[],
        &["/nonexistent/dir"],
        &["empty"],
        &["okdir"],
        &["supfile"],
        &["plainfile"],
        &["running"],
        &["stopped"],
        &["running", "stopped"],
        &["-x"],
        &["."],
        &[""],
    ];
    let mut codes = Vec::new();
    for args in cases {
        let a = run_tool(&sb, &ours, args, d);
        let b = run_tool(&sb, &theirs, args, d);
        assert_eq!(a, b, "svok {args:?}");
        codes.push(a.code.unwrap());
    }
    assert_eq!(
        codes,
        [100, 111, 100, 111, 111, 111, 0, 100, 0, 111, 100, 111]
    );
    drop(held);
}
