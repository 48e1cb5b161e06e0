//! runit-init: `init` for runit systems; `runit-init 0|6` halts or reboots.
//! See runit-init(8).

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    std::process::exit(runit::initctl::main(&args));
}
