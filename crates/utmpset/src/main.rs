// Entered from C's main like every program of the suite (see
// supervise_proto::start); the unsafe argv read is inside the macro.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_main)]

supervise_proto::c_main!(supervise_proto::start::SigPipe::Default, |args| {
    utmpset::run(&args)
});
