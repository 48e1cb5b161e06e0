//! The named fields of the machine-readable status, one table shared by
//! the JSON form, the `-o FIELD,...` form and the Prometheus form, so the
//! three cannot drift apart. The names are a stable interface (sv(8)).

use std::borrow::Cow;

use supervise_proto::exits::Ending;
use supervise_proto::Tai64n;

use super::view::{Known, Part};

/// One field's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Not known, or not applicable (a down service's pid).
    Null,
    Bool(bool),
    Int(i64),
    Str(Cow<'static, str>),
}

/// What the getters need besides the part itself.
pub struct Ctx {
    pub now: Tai64n,
}

type Getter = fn(&Known, &Ctx) -> Value;

fn int(n: impl TryInto<i64>) -> Value {
    n.try_into().map_or(Value::Null, Value::Int)
}

fn opt_int<T: TryInto<i64>>(n: Option<T>) -> Value {
    n.map_or(Value::Null, int)
}

fn unix(t: Option<Tai64n>) -> Value {
    opt_int(t.map(|t| t.unix_secs()))
}

fn tai(t: Option<Tai64n>) -> Value {
    t.map_or(Value::Null, |t| Value::Str(t.to_string().into()))
}

fn last_ending(k: &Known) -> Option<Ending> {
    k.exits.as_ref()?.last().map(|r| r.ending())
}

/// The fields after `service` and `state`, in output order. `state` is
/// not here: it is known even when nothing else is.
pub const FIELDS: &[(&str, Getter)] = &[
    ("up", |k, _| Value::Bool(k.running())),
    ("want", |k, _| match k.status.want {
        b'u' => Value::Str("up".into()),
        b'd' => Value::Str("down".into()),
        _ => Value::Null,
    }),
    ("normally_up", |k, _| {
        k.normally_up.map_or(Value::Null, Value::Bool)
    }),
    ("paused", |k, _| {
        Value::Bool(k.status.pid != 0 && k.status.paused)
    }),
    ("got_term", |k, _| {
        Value::Bool(k.status.pid != 0 && k.status.got_term)
    }),
    ("pid", |k, _| {
        opt_int((k.status.pid != 0).then_some(k.status.pid))
    }),
    ("pgid", |k, _| opt_int(k.pgid)),
    ("since", |k, _| unix(Some(k.status.stamp))),
    ("since_tai64n", |k, _| tai(Some(k.status.stamp))),
    ("seconds", |k, c| {
        int(c.now.unix_secs().saturating_sub(k.status.stamp.unix_secs()))
    }),
    ("notify", |k, _| Value::Bool(k.x.notify)),
    ("ready", |k, _| Value::Bool(k.ready())),
    ("ready_since", |k, _| unix(k.ready_since())),
    ("ready_since_tai64n", |k, _| tai(k.ready_since())),
    ("failed_since", |k, _| unix(k.failed_since())),
    ("restart_at", |k, _| unix(k.restart_at())),
    ("restart_delay_ms", |k, _| opt_int(k.x.restart_delay_ms)),
    ("last_exit_code", |k, _| match last_ending(k) {
        Some(Ending::Exited(c)) => int(c),
        _ => Value::Null,
    }),
    ("last_signal", |k, _| match last_ending(k) {
        Some(Ending::Signaled(s)) => int(s),
        _ => Value::Null,
    }),
    ("last_ended", |k, _| {
        unix(k.exits.as_ref().and_then(|e| e.last()).map(|r| r.ended))
    }),
    ("last_ran_ms", |k, _| {
        let ran = k
            .exits
            .as_ref()
            .and_then(|e| e.last())
            .map(|r| r.ran_secs());
        opt_int(ran.map(|s| (s * 1000.0).round() as u64))
    }),
    ("deaths_minute", |k, c| {
        opt_int(k.exits.as_ref().map(|e| e.deaths_within(c.now, 60)))
    }),
    ("deaths_total", |k, _| {
        opt_int(k.exits.as_ref().map(|e| e.total))
    }),
    ("kill_at", |k, _| unix(k.kill_at())),
    ("kill_at_tai64n", |k, _| tai(k.kill_at())),
    ("finish_kill_at", |k, _| unix(k.finish_kill_at())),
    ("cgroup", |k, _| {
        k.x.cgroup
            .clone()
            .map_or(Value::Null, |c| Value::Str(c.into()))
    }),
    ("settings", |k, _| {
        if k.x.settings.is_empty() {
            return Value::Null;
        }
        let pairs: Vec<String> =
            k.x.settings
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
        Value::Str(pairs.join(" ").into())
    }),
];

/// The index of a field in [`FIELDS`].
pub fn index(name: &str) -> Option<usize> {
    FIELDS.iter().position(|(n, _)| *n == name)
}

/// A field's value for a part (`Null` when its status is not known).
pub fn get(part: &Part, i: usize, ctx: &Ctx) -> Value {
    part.known
        .as_ref()
        .map_or(Value::Null, |k| (FIELDS[i].1)(k, ctx))
}

/// Appends `s` as a JSON string, quoted and escaped.
pub fn json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
    out.push(b'"');
}

fn json_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::Str(s) => json_string(out, s),
    }
}

/// The members of one part's object: `"state":…,` every field, `"error":…`.
fn json_part(out: &mut Vec<u8>, part: &Part, ctx: &Ctx) {
    out.extend_from_slice(b"\"state\":");
    json_string(out, part.state.name());
    for (i, (name, _)) in FIELDS.iter().enumerate() {
        out.push(b',');
        json_string(out, name);
        out.push(b':');
        json_value(out, &get(part, i, ctx));
    }
    out.extend_from_slice(b",\"error\":");
    match &part.error {
        Some(e) => json_string(out, e),
        None => out.extend_from_slice(b"null"),
    }
}

/// One service as one line of JSON: its fields, then `log` (an object
/// with the same fields, or null).
pub fn json_line(out: &mut Vec<u8>, name: &str, main: &Part, log: Option<&Part>, ctx: &Ctx) {
    out.extend_from_slice(b"{\"service\":");
    json_string(out, name);
    out.push(b',');
    json_part(out, main, ctx);
    out.extend_from_slice(b",\"log\":");
    match log {
        Some(l) => {
            out.push(b'{');
            json_part(out, l, ctx);
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b"}\n");
}

/// A column of the `-o FIELD,...` form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Service,
    State { log: bool },
    Field { log: bool, index: usize },
}

impl Column {
    /// `service`, `state`, a field name, or either of the last two with
    /// `log.` before it.
    pub fn parse(name: &str) -> Option<Column> {
        if name == "service" {
            return Some(Column::Service);
        }
        let (log, bare) = match name.strip_prefix("log.") {
            Some(rest) => (true, rest),
            None => (false, name),
        };
        if bare == "state" {
            return Some(Column::State { log });
        }
        index(bare).map(|index| Column::Field { log, index })
    }
}

/// One line of the `-o FIELD,...` form: the values in the order asked,
/// separated by spaces; `-` for a value that is not known or does not
/// apply (and for every `log.` column of a service without a log).
pub fn columns_line(
    out: &mut Vec<u8>,
    cols: &[Column],
    name: &str,
    main: &Part,
    log: Option<&Part>,
    ctx: &Ctx,
) {
    for (n, col) in cols.iter().enumerate() {
        if n > 0 {
            out.push(b' ');
        }
        let part = |l: bool| if l { log } else { Some(main) };
        let v = match *col {
            Column::Service => Value::Str(name.to_string().into()),
            Column::State { log } => {
                part(log).map_or(Value::Null, |p| Value::Str(p.state.name().into()))
            }
            Column::Field { log, index } => part(log).map_or(Value::Null, |p| get(p, index, ctx)),
        };
        match v {
            Value::Null => out.push(b'-'),
            Value::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
            Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
            Value::Str(s) => out.extend_from_slice(s.as_bytes()),
        }
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes() {
        let mut o = Vec::new();
        json_string(&mut o, "a\"b\\c\nd\u{1}é");
        assert_eq!(String::from_utf8(o).unwrap(), r#""a\"b\\c\nd\u0001é""#);
    }

    #[test]
    fn column_names() {
        assert_eq!(Column::parse("service"), Some(Column::Service));
        assert_eq!(
            Column::parse("log.state"),
            Some(Column::State { log: true })
        );
        assert_eq!(
            Column::parse("log.pid"),
            Some(Column::Field {
                log: true,
                index: index("pid").unwrap()
            })
        );
        assert_eq!(Column::parse("log.service"), None);
        assert_eq!(Column::parse("error"), None);
        assert_eq!(Column::parse("nope"), None);
        // Names are unique.
        for (i, (n, _)) in FIELDS.iter().enumerate() {
            assert_eq!(index(n), Some(i));
        }
    }
}
