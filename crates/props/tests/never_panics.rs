//! Every parser of outside bytes on generated input (proptest; 256 cases
//! each): no panic, and the properties of `runit_props` hold. The same
//! functions are the libFuzzer targets in fuzz/; here inputs are either
//! arbitrary bytes or drawn from the bytes each parser cares about, so
//! the interesting paths come up in few cases.

use proptest::prelude::*;
use runit_props::{chpst_props, proto, svlogd_props, tai64n_props};

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..256)
}

/// Bytes drawn from `alphabet`.
fn from(alphabet: &'static [u8], max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(proptest::sample::select(alphabet), 0..max)
}

/// Either kind of input, half and half.
fn input(alphabet: &'static [u8], max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![bytes(), from(alphabet, max)]
}

/// A status record's length: runit's, daemontools', or near them.
fn status_bytes() -> impl Strategy<Value = Vec<u8>> {
    (16usize..=22).prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n))
}

proptest! {
    #[test]
    fn status(b in prop_oneof![bytes(), status_bytes()]) {
        proto::status(&b);
    }

    #[test]
    fn tai64n_text(b in input(b"@0123456789abcdefABCDEF x", 40)) {
        proto::tai64n_text(&b);
    }

    #[test]
    fn tai64nlocal(b in input(b"\x02\x07@@0123456789abcdef \n", 120)) {
        tai64n_props::tai64nlocal(&b);
    }

    #[test]
    fn tai64n_stamper(b in input(b"\x03ab\n\n", 80)) {
        tai64n_props::tai64n_stamper(&b);
    }

    #[test]
    fn xstatus(b in input(b"=\n\rstarted=@4000notify=1pgid=7setting.x=\xff", 200)) {
        proto::xstatus(&b);
    }

    #[test]
    fn exits(b in prop_oneof![bytes(), (0usize..4).prop_flat_map(|n| {
        proptest::collection::vec(any::<u8>(), 24 + 32 * n)
            .prop_map(|mut v| { v[..8].copy_from_slice(b"RSVX\x01\x20\0\0"); v })
    })]) {
        proto::exit_log(&b);
    }

    #[test]
    fn getopt(b in input(b"\x00\x01\x02\x03\x04\x05\x06\x07--:-wvVoRrlbtnNxXacdfmpsu", 60)) {
        proto::getopt(&b);
    }

    #[test]
    fn runsv_control(b in input(b"\x00\x01\x02\x03udoxtkpchaiq12", 64)) {
        proto::control_stream(&b);
    }

    #[test]
    fn notify(b in input(b"\x00\x04READY=1STATUS=MAINPID=0123456789\n\n \xff", 80)) {
        proto::notify(&b);
    }

    #[test]
    fn runsv_settings(b in input(b"0123456789 /.SIGquitQUIT-sessiongroup\n", 24)) {
        proto::runsv_settings(&b);
    }

    #[test]
    fn svlogd_config(b in input(b"sSnNtTuUpP!+-eE#*0123456789.:kmh \n\n\n\0\xff", 80)) {
        svlogd_props::config_file(&b);
    }

    #[test]
    fn svlogd_lines(b in input(b"\x01\x03\x05ab_\t\n\n\x7f\xff", 200)) {
        svlogd_props::lines(&b);
    }

    #[test]
    fn svlogd_pattern(b in input(b"\x03\x05ab*+*+", 30)) {
        svlogd_props::pattern(&b);
    }

    #[test]
    fn svlogd_args(b in input(b"\0\0-lbrRtv0123456789_d", 40)) {
        svlogd_props::command_line(&b);
    }

    #[test]
    fn envdir_value(b in input(b"ab \t\0\n", 20)) {
        chpst_props::envdir_value(&b);
    }

    #[test]
    fn envdir_tree(b in input(b"\x00\x01\x02\x03\x04.=a b\n\0\t", 120)) {
        chpst_props::envdir_tree(&b);
    }

    #[test]
    fn chpst_account(b in input(b"::0123456789abc", 30)) {
        chpst_props::account(&b);
    }

    #[test]
    fn chpst_limit(b in input(b"0123456789=", 24)) {
        chpst_props::limit(&b);
    }

    #[test]
    fn chpst_args(b in input(b"\0\0-uUbemdofcrt/CnlLvP012V=0123456789a", 60)) {
        chpst_props::command_line(&b);
    }
}

/// Inputs the generators found once, kept so that every run tries them.
#[test]
fn found_inputs() {
    // A cgroup file holding the root of the hierarchy.
    for b in [&b"/"[..], b"//", b"/a/", b"/\n"] {
        proto::runsv_settings(b);
    }
}
