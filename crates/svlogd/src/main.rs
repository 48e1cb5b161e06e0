// Entered from C's main: see supervise_proto::start for why and what
// that skips.
#![no_main]

// runit's message and exit code when memory runs out, not SIGABRT.
#[global_allocator]
static ALLOC: supervise_proto::start::NomemExit = supervise_proto::start::NomemExit(svlogd::NOMEM);

supervise_proto::c_main!(supervise_proto::start::SigPipe::Ignore, svlogd::main_with);
