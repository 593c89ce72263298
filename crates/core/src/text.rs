//! Text for people to read: untrusted or long values cut to a length.

/// `s` cut to `cap` characters, with `…` when cut.
pub fn clip(s: &str, cap: usize) -> String {
    match s.char_indices().nth(cap) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn clips_on_characters_and_says_so() {
        assert_eq!(super::clip("abcdef", 3), "abc…");
        assert_eq!(super::clip("äöü", 3), "äöü");
        assert_eq!(super::clip("äöüß", 2), "äö…");
    }
}
