//! tai64n: puts a TAI64N stamp in front of every line of its input.
#![cfg_attr(not(test), no_main)]

// Entered from C's main (see supervise_proto::start): SIGPIPE keeps its
// default, so like daemontools' filter it just ends when its reader goes.
supervise_proto::c_main!(supervise_proto::start::SigPipe::Default, |_| {
    tai64n::stamp_main()
});
