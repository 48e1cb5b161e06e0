//! The environment the program gets.
//!
//! chpst never edits its own environment: it records changes ("NAME=value"
//! to set, "NAME" to unset) and merges them into a copy of the inherited
//! environment just before exec, the way runit does. The merge order is
//! observable (`env` prints it), so it is reproduced exactly: a change
//! removes the first entry with that name by moving the last entry into
//! its place, then appends the new entry.

/// The first value of `name` in `env` (as getenv finds it).
pub fn lookup<'a>(env: &'a [Vec<u8>], name: &[u8]) -> Option<&'a [u8]> {
    env.iter().find_map(|e| {
        (e.len() > name.len() && e.starts_with(name) && e[name.len()] == b'=')
            .then(|| &e[name.len() + 1..])
    })
}

/// Pending changes to the environment.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes(Vec<Vec<u8>>);

impl Changes {
    /// Sets `name` to `value`, or unsets it when `value` is None.
    pub fn set(&mut self, name: &[u8], value: Option<&[u8]>) {
        let mut e = name.to_vec();
        if let Some(v) = value {
            e.push(b'=');
            e.extend_from_slice(v);
        }
        self.0.push(e);
    }

    /// `base` with the changes applied, in runit's order.
    pub fn apply(&self, mut base: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        for change in &self.0 {
            // The name is everything before the first '=' (a name that
            // itself contains '=' is split there, as runit does).
            let split = change
                .iter()
                .position(|&b| b == b'=')
                .unwrap_or(change.len());
            let name = &change[..split];
            if let Some(t) = base
                .iter()
                .position(|e| e.len() > split && e.starts_with(name) && e[split] == b'=')
            {
                base.swap_remove(t);
            }
            if split < change.len() {
                base.push(change.clone());
            }
        }
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<Vec<u8>> {
        s.iter().map(|x| x.as_bytes().to_vec()).collect()
    }

    #[test]
    fn merge_order_matches_runit() {
        // Observed with runit 2.1.2: env -i FOO=1 HOME=/h PATH=/usr/bin:/bin
        // chpst -e DIR env, DIR holding (readdir order) HOME (empty),
        // X=Y, EMPTY, B, A, PATH.
        let mut c = Changes::default();
        c.set(b"HOME", None);
        c.set(b"X=Y", Some(b"q"));
        c.set(b"EMPTY", Some(b""));
        c.set(b"B", Some(b"x\ny"));
        c.set(b"A", Some(b"a b"));
        c.set(b"PATH", Some(b"/tmp/chx/bin"));
        let out = c.apply(v(&["FOO=1", "HOME=/h", "PATH=/usr/bin:/bin"]));
        assert_eq!(
            out,
            v(&[
                "FOO=1",
                "A=a b",
                "X=Y=q",
                "EMPTY=",
                "B=x\ny",
                "PATH=/tmp/chx/bin"
            ])
        );
    }

    #[test]
    fn only_first_duplicate_removed_and_prefixes_kept() {
        let mut c = Changes::default();
        c.set(b"A", Some(b"3"));
        let out = c.apply(v(&["AB=0", "A=1", "A=2", "Z=9"]));
        assert_eq!(out, v(&["AB=0", "Z=9", "A=2", "A=3"]));
        assert_eq!(lookup(&out, b"A"), Some(&b"2"[..]));
        assert_eq!(lookup(&out, b"Q"), None);
    }
}
