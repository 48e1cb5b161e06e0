//! tai64nlocal: turns TAI64N stamps at line starts into local time.
#![cfg_attr(not(test), no_main)]

// Entered from C's main (see supervise_proto::start): SIGPIPE keeps its
// default, so like daemontools' filter it just ends when its reader goes.
supervise_proto::c_main!(supervise_proto::start::SigPipe::Default, |_| {
    tai64n::localize_main()
});
