// Entered from C's main: std's start-up work (a signal stack, SIGPIPE
// ignored) is skipped, so the tool starts sooner and dies quietly of
// SIGPIPE like daemontools' (see supervise_proto::start).
// The command line is the argv c_main! hands over: std::env::args_os()
// is empty in a no_main program under musl.
#![cfg_attr(not(test), no_main)]

supervise_proto::c_main!(
    supervise_proto::start::SigPipe::Default,
    |args| svstat::run(&args)
);
