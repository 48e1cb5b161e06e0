//! tai64n and tai64nlocal, as daemontools defines them: the first puts a
//! TAI64N stamp (`@` and 24 hex digits, then a space) in front of every
//! line; the second turns such stamps at line starts into local time,
//! `YYYY-MM-DD HH:MM:SS.nnnnnnnnn`.
//!
//! Both are filters over bytes, not text: lines may hold any bytes. Each
//! writes out what it has before it waits for more input, so they work on
//! live pipes. Read or write trouble ends them with status 111 and no
//! message; end of input with 0.

pub mod filter;
pub mod localtime;
pub mod stamper;

/// tai64n's whole run: stamps standard input onto standard output.
pub fn stamp_main() -> i32 {
    let mut stamper = stamper::Stamper::new(supervise_proto::Tai64n::now);
    filter::run(
        &mut stamper,
        rustix::stdio::stdin(),
        rustix::stdio::stdout(),
    )
}

/// tai64nlocal's whole run: localizes standard input onto standard output.
pub fn localize_main() -> i32 {
    let mut localizer = localtime::Localizer::new(localtime::SystemZone::new());
    filter::run(
        &mut localizer,
        rustix::stdio::stdin(),
        rustix::stdio::stdout(),
    )
}
