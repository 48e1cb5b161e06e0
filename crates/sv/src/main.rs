// Entered from C's main: see supervise_proto::start for why and what
// that skips.
#![no_main]

supervise_proto::c_main!(supervise_proto::start::SigPipe::Default, |args| sv::run(
    &args
));
