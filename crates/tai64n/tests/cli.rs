//! tai64n and tai64nlocal as filters: output shape, known conversions,
//! exit statuses.

use assert_cmd::Command;

fn tool(name: &str) -> Command {
    Command::cargo_bin(name).unwrap()
}

#[test]
fn tai64n_stamps_every_line() {
    let out = tool("tai64n")
        .write_stdin("a\n\nlast")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    assert_eq!(lines.len(), 3);
    for (line, body) in lines.iter().zip(["a\n", "\n", "last"]) {
        assert_eq!(&line[..2], "@4");
        assert!(line[1..25]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(&line[25..26], " ");
        assert_eq!(&line[26..], body);
    }
}

#[test]
fn tai64nlocal_known_stamps() {
    tool("tai64nlocal")
        .env("TZ", "UTC")
        .write_stdin("@4000000037c219bf2ef02e94 mark\nplain\n@400000000000000a00000000x\n")
        .assert()
        .code(0)
        .stdout("1999-08-24 04:04:05.787492500 mark\nplain\n1970-01-01 00:00:00.000000000x\n");
}

#[test]
fn tai64nlocal_uses_tz() {
    tool("tai64nlocal")
        .env("TZ", "UTC+5")
        .write_stdin("@4000000037c219bf2ef02e94 mark\n")
        .assert()
        .stdout("1999-08-23 23:04:05.787492500 mark\n");
}

#[test]
fn tai64nlocal_passes_unconvertible_stamps() {
    tool("tai64nlocal")
        .env("TZ", "UTC")
        .write_stdin("@\n@4000 short\n")
        .assert()
        .code(0)
        .stdout("@\n@4000 short\n");
}

#[test]
fn write_trouble_is_111_without_a_message() {
    for name in ["tai64n", "tai64nlocal"] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin(name));
        c.stdout(full)
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        {
            use std::io::Write;
            let mut i = child.stdin.take().unwrap();
            let _ = i.write_all(b"x\n");
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(111), "{name}");
        assert!(out.stderr.is_empty());
    }
}
