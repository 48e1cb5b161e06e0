//! See build-support: link the unwinder statically.

fn main() {
    build_support::link_unwinder_statically();
}
