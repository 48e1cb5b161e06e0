//! runsvchdir: switch the `current` services directory.

use std::ffi::OsString;

pub fn run(_argv: &[OsString]) -> i32 {
    111
}
