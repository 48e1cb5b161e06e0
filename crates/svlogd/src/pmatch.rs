//! svlogd's pattern language (not a regular expression), as svlogd(8)
//! documents it and as runit 2.1.2 behaves:
//!
//! * a character other than `*` and `+` matches itself;
//! * `+c` matches one or more `c`;
//! * `*` before the end of the pattern matches any run of characters up to
//!   (not including) the first occurrence of the next pattern character,
//!   which must occur; a `*` at the end matches everything;
//! * the whole message must be consumed, except that a `+c` that runs into
//!   the end of the message succeeds there.
//!
//! There is no backtracking: `*pid*` does not match `tcpsvd: ... pid 7`
//! because the first `*` stops at the `p` of `tcpsvd`.
//!
//! Two corner cases follow runit's observable results: a pattern ending
//! in a lone `+` never matches (runit compares against the terminator),
//! and a `+c` at the end of the message fails (runit reads past the end
//! there; we take the safe answer).

/// Whether `pat` matches all of `text`.
pub fn pmatch(pat: &[u8], text: &[u8]) -> bool {
    let mut p = 0;
    let mut s = 0;
    loop {
        let Some(&c) = pat.get(p) else {
            return s == text.len();
        };
        p += 1;
        match c {
            b'*' => {
                let Some(&next) = pat.get(p) else {
                    return true;
                };
                // Skip to the first occurrence of the next pattern byte;
                // that byte is then matched by the following step.
                loop {
                    match text.get(s) {
                        None => return false,
                        Some(&t) if t == next => break,
                        Some(_) => s += 1,
                    }
                }
            }
            b'+' => {
                let Some(&rep) = pat.get(p) else {
                    return false;
                };
                p += 1;
                if text.get(s) != Some(&rep) {
                    return false;
                }
                loop {
                    match text.get(s) {
                        None => return true,
                        Some(&t) if t == rep => s += 1,
                        Some(_) => break,
                    }
                }
            }
            _ => {
                if text.get(s) != Some(&c) {
                    return false;
                }
                s += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::pmatch;

    fn m(p: &str, s: &str) -> bool {
        pmatch(p.as_bytes(), s.as_bytes())
    }

    #[test]
    fn literals_must_match_whole_text() {
        assert!(m("abc", "abc"));
        assert!(!m("abc", "abcd"));
        assert!(!m("abcd", "abc"));
        assert!(m("", ""));
        assert!(!m("", "x"));
    }

    #[test]
    fn star() {
        assert!(m("*", ""));
        assert!(m("*", "anything at all"));
        assert!(m("a*", "abc"));
        assert!(m("*c", "abc"));
        assert!(!m("*c", "abcd"));
        assert!(m("*: *: pid *", "tcpsvd: info: pid 1977 from 10.4.1.14"));
        // The man page's example of a non-match: the first star stops at
        // the first 'p'.
        assert!(!m("*pid*", "tcpsvd: info: pid 1977 from 10.4.1.14"));
        assert!(!m("*x", "abc"));
        // A star stops at the first occurrence, no backtracking.
        assert!(!m("*b", "abab"));
    }

    #[test]
    fn plus() {
        assert!(m("+a", "aaa"));
        assert!(m("+ab", "aaab"));
        assert!(!m("+ab", "b"));
        assert!(m("x+ay", "xay"));
        assert!(!m("x+ay", "xy"));
        // Running into the end of the text after a repetition succeeds,
        // even with pattern left over.
        assert!(m("+abc", "aa"));
        assert!(!m("a+", "a"));
        assert!(!m("a+", "ab"));
    }

    #[test]
    fn star_followed_by_operator_characters() {
        // "**": the first star searches for a literal '*'.
        assert!(m("**", "ab*cd"));
        assert!(!m("**", "abcd"));
    }
}
