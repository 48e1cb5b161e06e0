//! docs/compatibility.md keeps up with what `make install` installs: a
//! section for every program (taken from the Makefile's BIN_PROGS,
//! SBIN_PROGS and PERSONALITIES, so a new program without a section fails
//! here), and every table compares the same four suites. Reads two files;
//! runs nothing.

use std::path::Path;

use runit_tests::workspace_root;

/// The four columns every table of docs/compatibility.md has, in order.
const SUITES: [&str; 4] = ["runit 2.1.2", "daemontools 0.76", "busybox", "this suite"];

/// The words of a Makefile variable assigned with `NAME = ...` on one line.
fn makefile_words(makefile: &str, var: &str) -> Vec<String> {
    let line = makefile
        .lines()
        .find(|l| {
            l.strip_prefix(var)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .unwrap_or_else(|| panic!("Makefile has no `{var} =` line"));
    let value = line.split_once('=').unwrap().1;
    value.split_whitespace().map(String::from).collect()
}

fn installed_programs(root: &Path) -> Vec<String> {
    let makefile = std::fs::read_to_string(root.join("Makefile")).expect("Makefile");
    let mut progs = Vec::new();
    for var in ["BIN_PROGS", "SBIN_PROGS", "PERSONALITIES"] {
        progs.extend(makefile_words(&makefile, var));
    }
    progs
}

/// The cells of a Markdown table row, trimmed.
fn cells(line: &str) -> Vec<&str> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(str::trim).collect()
}

#[test]
fn compatibility_table_has_a_section_per_installed_program() {
    let root = workspace_root();
    let doc = std::fs::read_to_string(root.join("docs/compatibility.md")).expect("doc");
    let progs = installed_programs(&root);
    assert!(
        progs.len() >= 20,
        "Makefile program lists look wrong: {progs:?}"
    );
    let headings: Vec<&str> = doc.lines().filter(|l| l.starts_with('#')).collect();
    let missing: Vec<&String> = progs
        .iter()
        .filter(|p| {
            let name = format!("`{p}`");
            !headings.iter().any(|h| h.contains(&name))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "docs/compatibility.md has no section (a heading naming `PROG`) for {missing:?}"
    );
}

#[test]
fn every_compatibility_table_compares_the_four_suites() {
    let doc = std::fs::read_to_string(workspace_root().join("docs/compatibility.md")).unwrap();
    let lines: Vec<&str> = doc.lines().collect();
    // A table header is the row above a |---| separator row.
    let headers: Vec<Vec<&str>> = lines
        .windows(2)
        .filter(|w| w[1].starts_with("|---"))
        .map(|w| cells(w[0]))
        .collect();
    assert!(!headers.is_empty(), "docs/compatibility.md has no table");
    for h in &headers {
        assert_eq!(
            h.get(1..5),
            Some(&SUITES[..]),
            "table header {h:?} must have the columns {SUITES:?} after the first"
        );
    }
    // Each row has as many cells as its header (an unescaped `|` in a cell
    // would shift the columns).
    let mut width = 0;
    for w in lines.windows(2) {
        if w[1].starts_with("|---") {
            width = cells(w[0]).len();
        } else if w[0].starts_with('|') && !w[0].starts_with("|---") && width > 0 {
            let n = cells(w[0]).len();
            // Escaped pipes (`\|`) inside a cell split too; count them back.
            let escaped = w[0].matches("\\|").count();
            assert_eq!(
                n - escaped,
                width,
                "row with the wrong number of cells: {}",
                w[0]
            );
        }
    }
}
