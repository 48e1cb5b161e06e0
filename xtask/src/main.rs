//! Repository chores: `cargo run -p xtask -- bench [NAME...]` and
//! `cargo run -p xtask -- soak [--short] [--bins DIR] [--write FILE] [CASE...]`.

mod bench;
mod soak;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        Some("bench") => bench::run(&args[1..]),
        Some("soak") => soak::run(&args[1..]),
        _ => {
            eprintln!(
                "usage: xtask bench [NAME...]   (names: {})\n       xtask soak [--short] [--bins DIR] [--write FILE] [CASE...]   (cases: {})",
                bench::names().join(" "),
                soak::names().join(" ")
            );
            2
        }
    };
    std::process::exit(code);
}
