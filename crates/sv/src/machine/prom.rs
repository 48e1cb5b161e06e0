//! The Prometheus text exposition form, for node_exporter's textfile
//! collector: `# HELP` and `# TYPE` once per metric, then one sample per
//! service and per log service, labelled `service="NAME"` and `log="0"` /
//! `log="1"`. Values come from the same field table as the JSON form.

use std::io::Write;
use std::path::Path;

use rustix::fs::{open, rename, unlink, Mode, OFlags};
use rustix::io::Errno;

use super::fields::{self, Ctx, Value};
use super::view::{Part, State};

/// How a field's value becomes a sample value.
#[derive(Clone, Copy)]
enum Conv {
    /// Numbers as they are, booleans as 1 and 0.
    Number,
    /// 1 when the string is "up" (for `want`).
    IsUp,
    /// Milliseconds written as seconds.
    Millis,
}

struct Metric {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    field: &'static str,
    conv: Conv,
}

const fn m(
    name: &'static str,
    kind: &'static str,
    field: &'static str,
    conv: Conv,
    help: &'static str,
) -> Metric {
    Metric {
        name,
        kind,
        help,
        field,
        conv,
    }
}

/// The metrics after `runit_service_state`, in output order. A sample is
/// left out where its field has no value (no exit recorded yet, no
/// restart pending, status not readable).
const METRICS: &[Metric] = &[
    m(
        "runit_service_up",
        "gauge",
        "up",
        Conv::Number,
        "1 when ./run is running.",
    ),
    m(
        "runit_service_ready",
        "gauge",
        "ready",
        Conv::Number,
        "1 when the service is up and, if it uses readiness notification, has said it is ready.",
    ),
    m(
        "runit_service_want_up",
        "gauge",
        "want",
        Conv::IsUp,
        "1 when the service is wanted up.",
    ),
    m(
        "runit_service_normally_up",
        "gauge",
        "normally_up",
        Conv::Number,
        "1 when the service has no down file.",
    ),
    m(
        "runit_service_paused",
        "gauge",
        "paused",
        Conv::Number,
        "1 when the process is paused (STOP).",
    ),
    m(
        "runit_service_since_seconds",
        "gauge",
        "since",
        Conv::Number,
        "Unix time of the last change of state (start of ./run, or when it went down).",
    ),
    m(
        "runit_service_ready_since_seconds",
        "gauge",
        "ready_since",
        Conv::Number,
        "Unix time the service became ready.",
    ),
    m(
        "runit_service_restart_at_seconds",
        "gauge",
        "restart_at",
        Conv::Number,
        "Unix time of a delayed restart that is pending.",
    ),
    m(
        "runit_service_deaths_total",
        "counter",
        "deaths_total",
        Conv::Number,
        "Ends of ./run since this runsv started.",
    ),
    m(
        "runit_service_deaths_last_minute",
        "gauge",
        "deaths_minute",
        Conv::Number,
        "Ends of ./run in the last 60 seconds.",
    ),
    m(
        "runit_service_last_exit_code",
        "gauge",
        "last_exit_code",
        Conv::Number,
        "Exit code of the last end of ./run, when it exited.",
    ),
    m(
        "runit_service_last_exit_signal",
        "gauge",
        "last_signal",
        Conv::Number,
        "Signal that ended ./run the last time, when a signal did.",
    ),
    m(
        "runit_service_last_exit_seconds",
        "gauge",
        "last_ended",
        Conv::Number,
        "Unix time of the last end of ./run.",
    ),
    m(
        "runit_service_last_runtime_seconds",
        "gauge",
        "last_ran_ms",
        Conv::Millis,
        "How long ./run ran the last time it ended.",
    ),
];

/// One service for the exposition: its label and parts.
pub struct Entry<'a> {
    pub label: &'a str,
    pub main: &'a Part,
    pub log: Option<&'a Part>,
}

fn label_value(out: &mut Vec<u8>, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.extend_from_slice(b"\\\\"),
            '"' => out.extend_from_slice(b"\\\""),
            '\n' => out.extend_from_slice(b"\\n"),
            c => {
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
}

fn sample(out: &mut Vec<u8>, name: &str, label: &str, log: bool, extra: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"{service=\"");
    label_value(out, label);
    out.extend_from_slice(if log {
        b"\",log=\"1\""
    } else {
        b"\",log=\"0\""
    });
    out.extend_from_slice(extra.as_bytes());
    out.extend_from_slice(b"} ");
    out.extend_from_slice(value.as_bytes());
    out.push(b'\n');
}

fn header(out: &mut Vec<u8>, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn convert(v: Value, conv: Conv) -> Option<String> {
    match (v, conv) {
        (Value::Null, _) => None,
        (Value::Bool(b), _) => Some(if b { "1" } else { "0" }.into()),
        (Value::Int(n), Conv::Millis) => Some(format!("{}.{:03}", n / 1000, n % 1000)),
        (Value::Int(n), _) => Some(n.to_string()),
        (Value::Str(s), Conv::IsUp) => Some(if s == "up" { "1" } else { "0" }.into()),
        (Value::Str(_), _) => None,
    }
}

/// The whole exposition for `entries`.
pub fn render(entries: &[Entry], ctx: &Ctx) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024 + entries.len() * 2048);
    let parts = || {
        entries.iter().flat_map(|e| {
            std::iter::once((e.label, false, e.main)).chain(e.log.map(|l| (e.label, true, l)))
        })
    };
    header(
        &mut out,
        "runit_service_state",
        "gauge",
        "1 for the state the service is in (run, finish, down, failed, unsupervised, missing, unknown), 0 for the others.",
    );
    for (label, log, part) in parts() {
        for s in State::ALL {
            let extra = format!(",state=\"{}\"", s.name());
            sample(
                &mut out,
                "runit_service_state",
                label,
                log,
                &extra,
                if part.state == s { "1" } else { "0" },
            );
        }
    }
    for metric in METRICS {
        let Some(i) = fields::index(metric.field) else {
            continue;
        };
        header(&mut out, metric.name, metric.kind, metric.help);
        for (label, log, part) in parts() {
            if let Some(v) = convert(fields::get(part, i, ctx), metric.conv) {
                sample(&mut out, metric.name, label, log, "", &v);
            }
        }
    }
    out
}

/// Writes `data` to `path` atomically: a temporary file beside it (a name
/// node_exporter does not read: it does not end in `.prom`), then rename.
/// No fsync: the file is rewritten every few seconds, and one lost to a
/// crash is simply written again.
pub fn write_atomically(path: &Path, data: &[u8]) -> Result<(), Errno> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let fd = open(
        tmp.as_os_str(),
        OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::from_raw_mode(0o644),
    )?;
    let r = supervise_proto::fdio::write_all(&fd, data).and_then(|_| rename(tmp.as_os_str(), path));
    drop(fd);
    if r.is_err() {
        let _ = unlink(tmp.as_os_str());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_names_a_field() {
        for m in METRICS {
            assert!(fields::index(m.field).is_some(), "{}", m.name);
        }
    }

    #[test]
    fn labels_are_escaped() {
        let mut o = Vec::new();
        label_value(&mut o, "a\"b\\c\nd");
        assert_eq!(o, b"a\\\"b\\\\c\\nd");
    }

    #[test]
    fn millis_as_seconds() {
        assert_eq!(convert(Value::Int(1234), Conv::Millis).unwrap(), "1.234");
        assert_eq!(convert(Value::Int(5), Conv::Millis).unwrap(), "0.005");
    }
}
