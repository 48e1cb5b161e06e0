//! Repository chores: `cargo run -p xtask -- bench [NAME...]`.

mod bench;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        Some("bench") => bench::run(&args[1..]),
        _ => {
            eprintln!(
                "usage: xtask bench [NAME...]   (names: {})",
                bench::names().join(" ")
            );
            2
        }
    };
    std::process::exit(code);
}
