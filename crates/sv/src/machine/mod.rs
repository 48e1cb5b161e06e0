//! `sv -o FORMAT status SERVICE...`: the status in forms a program reads,
//! new syntax that runit's sv rejects (its options are `-w`, `-v`, `-V`),
//! so no runit command line changes meaning.
//!
//! - `-o json`: one JSON object per service per line;
//! - `-o FIELD,FIELD,...`: the values asked for, space-separated, one
//!   line per service (s6-svstat's `-o` style);
//! - `-o prom` / `-o prom:FILE`: the Prometheus text exposition, on
//!   stdout or written atomically to FILE (node_exporter's textfile
//!   collector).
//!
//! [`view`] reads the files, [`fields`] names what is read, [`prom`]
//! words it as metrics. Exit codes: see [`view::State::exit_code`].

mod fields;
mod prom;
mod view;

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use supervise_proto::{errno_str, Tai64n};

use fields::{Column, Ctx};
use view::Part;

/// Exit code when the exposition file cannot be written.
const WRITE_FAILED: i32 = 111;

/// What `-o` asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Columns(Vec<Column>),
    /// The exposition, to this file or (`None`) to stdout.
    Prom(Option<PathBuf>),
}

impl Format {
    /// Parses `-o`'s argument; the error is the message to print.
    pub fn parse(arg: &[u8]) -> Result<Format, String> {
        if arg == b"json" {
            return Ok(Format::Json);
        }
        if arg == b"prom" {
            return Ok(Format::Prom(None));
        }
        if let Some(path) = arg.strip_prefix(b"prom:") {
            if path.is_empty() {
                return Err("-o prom: needs a file name".into());
            }
            return Ok(Format::Prom(Some(PathBuf::from(OsStr::from_bytes(path)))));
        }
        let text = String::from_utf8_lossy(arg);
        text.split(',')
            .map(|name| Column::parse(name).ok_or_else(|| format!("unknown field: {name}")))
            .collect::<Result<Vec<_>, _>>()
            .map(Format::Columns)
    }
}

/// One service as read.
struct Read {
    name: String,
    main: Part,
    log: Option<Part>,
}

/// Runs the status in `format` for `services`; returns the exit code.
pub fn run(prog: &str, format: &Format, svdir: &OsStr, services: &[OsString]) -> i32 {
    let ctx = Ctx { now: Tai64n::now() };
    let read: Vec<Read> = services
        .iter()
        .map(|name| {
            let (main, log) = view::read_service(&view::service_dir(svdir, name));
            Read {
                name: String::from_utf8_lossy(name.as_bytes()).into_owned(),
                main,
                log,
            }
        })
        .collect();
    let mut out = Vec::with_capacity(512 * read.len());
    match format {
        Format::Json => {
            for r in &read {
                fields::json_line(&mut out, &r.name, &r.main, r.log.as_ref(), &ctx);
            }
        }
        Format::Columns(cols) => {
            for r in &read {
                fields::columns_line(&mut out, cols, &r.name, &r.main, r.log.as_ref(), &ctx);
            }
        }
        Format::Prom(dest) => {
            let labels = labels(&read);
            let entries: Vec<prom::Entry> = read
                .iter()
                .zip(&labels)
                .map(|(r, label)| prom::Entry {
                    label,
                    main: &r.main,
                    log: r.log.as_ref(),
                })
                .collect();
            let text = prom::render(&entries, &ctx);
            let Some(path) = dest else {
                let _ = std::io::stdout().write_all(&text);
                return 0;
            };
            return match prom::write_atomically(path, &text) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!(
                        "{prog}: fatal: unable to write {}: {}",
                        path.display(),
                        errno_str(e)
                    );
                    WRITE_FAILED
                }
            };
        }
    }
    let _ = std::io::stdout().write_all(&out);
    read.iter()
        .map(|r| r.main.state.exit_code())
        .max()
        .unwrap_or(0)
}

/// The `service` label of each: the last component of its name (what a
/// fleet names the service by, wherever its directory is), or the whole
/// name when an earlier service already has that label.
fn labels(read: &[Read]) -> Vec<String> {
    let mut seen = HashSet::new();
    read.iter()
        .map(|r| {
            let base = r
                .name
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .filter(|b| !b.is_empty())
                .unwrap_or(&r.name);
            if seen.insert(base.to_string()) {
                base.to_string()
            } else {
                r.name.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(Format::parse(b"json"), Ok(Format::Json));
        assert_eq!(Format::parse(b"prom"), Ok(Format::Prom(None)));
        assert_eq!(
            Format::parse(b"prom:/x/y.prom"),
            Ok(Format::Prom(Some("/x/y.prom".into())))
        );
        assert!(Format::parse(b"prom:").is_err());
        assert_eq!(
            Format::parse(b"state,pid,log.state"),
            Ok(Format::Columns(vec![
                Column::State { log: false },
                Column::parse("pid").unwrap(),
                Column::State { log: true },
            ]))
        );
        assert_eq!(
            Format::parse(b"state,bogus"),
            Err("unknown field: bogus".into())
        );
        assert!(Format::parse(b"").is_err());
    }

    #[test]
    fn labels_are_last_components_unless_taken() {
        let r = |n: &str| Read {
            name: n.into(),
            main: Part {
                state: view::State::Missing,
                error: None,
                known: None,
            },
            log: None,
        };
        let read = [r("/etc/service/web/"), r("db"), r("/other/web"), r("/")];
        assert_eq!(labels(&read), ["web", "db", "/other/web", "/"]);
    }
}
