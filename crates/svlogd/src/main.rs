fn main() {
    std::process::exit(svlogd::main_with(std::env::args_os().collect()));
}
