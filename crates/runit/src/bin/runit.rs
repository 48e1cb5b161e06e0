//! runit: stage init, to be run as process 1. See runit(8).
//!
//! Entered from C's main (see supervise_proto::start): as process 1 it
//! lives as long as the machine, so std's start-up pages are not kept.
#![no_main]

supervise_proto::c_main!(supervise_proto::start::SigPipe::Ignore, |_| {
    runit::runit_main()
});
