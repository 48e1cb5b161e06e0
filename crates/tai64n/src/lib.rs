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
