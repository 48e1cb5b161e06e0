//! tai64n and tai64nlocal, the two filters over lines.

use supervise_proto::Tai64n;
use tai64n::filter::Transform;
use tai64n::localtime::{Localizer, SystemZone};
use tai64n::stamper::Stamper;

use crate::{chunks, Input};

fn run(t: &mut impl Transform, pieces: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in pieces {
        t.feed(p, &mut out);
    }
    t.finish(&mut out);
    out
}

fn count_nl(b: &[u8]) -> usize {
    b.iter().filter(|&&c| c == b'\n').count()
}

/// tai64nlocal: however the input is cut into reads the output is the
/// same; lines stay lines; every stamp becomes at most a date's length.
pub fn tai64nlocal(data: &[u8]) {
    let mut inp = Input::new(data);
    let sizes = inp.piece(8).to_vec();
    let input = inp.rest();
    let whole = run(&mut Localizer::new(SystemZone::new()), &[input]);
    let cut = run(
        &mut Localizer::new(SystemZone::new()),
        &chunks(input, &sizes),
    );
    assert_eq!(whole, cut);
    assert_eq!(count_nl(&whole), count_nl(input));
    // A date is at most 50 bytes (a 20-digit year, 10 nanosecond digits);
    // it replaces at least the `@` of its stamp.
    let stamps = input.iter().filter(|&&c| c == b'@').count();
    assert!(whole.len() <= input.len() + 50 * stamps);
    // Lines that do not start with `@` pass unchanged.
    if !input.contains(&b'@') {
        assert_eq!(whole, input);
    }
}

/// tai64n: the output is the input with `@`, a label and a space before
/// every line, wherever the reads end (the clock is fixed here).
pub fn tai64n_stamper(data: &[u8]) {
    let mut inp = Input::new(data);
    let sizes = inp.piece(8).to_vec();
    let input = inp.rest();
    let t = Tai64n::from_unix(1_700_000_000, 123_456_500);
    let clock = || t;
    let out = run(&mut Stamper::new(clock), &chunks(input, &sizes));
    let mut want = Vec::new();
    for line in input.split_inclusive(|&b| b == b'\n') {
        want.extend_from_slice(format!("{t} ").as_bytes());
        want.extend_from_slice(line);
    }
    assert_eq!(out, want);
}
