//! runit: stage init, to be run as process 1. See runit(8).

fn main() {
    std::process::exit(runit::runit_main());
}
