//! Where a finding could still be forming at the end of a streamed text. The stream scanner
//! releases everything before that point at once (so prose streams word by word) and holds
//! the rest back until more text decides it, never longer than its window.
//!
//! Every PII and secret pattern is either free of whitespace (API keys, JWTs, e-mail, IP
//! addresses, SSNs, IBANs written without spaces) or belongs to one of a few shapes that
//! contain spaces. So the open candidates at the end of the text are:
//!
//! - the **trailing token**: the text after the last whitespace character (any match without
//!   whitespace that is not finished yet lies inside it, and so does a moderation word);
//! - a **number run**: digits with single separators (` `, `.`, `-`) and `+ ( )`, reaching
//!   the end of the text: a card, phone number or SSN that may go on;
//! - an **IBAN run**: upper-case letters and digits with single spaces, from a country code
//!   and check digits (`DE89 3704 0044 ...`);
//! - an **unclosed PEM header**: `-----BEGIN` with no closing `-----` and no line break yet;
//! - a **moderation phrase**: the trailing words that begin a multi-word term.
//!
//! Each rule looks only at `text[from..]`, the text not yet released, which is at most the
//! window plus the new delta: the cost per push stays bounded.

use crate::guardrails::moderation::ModerationMatcher;

/// The earliest position at or after `from` where a finding could still be forming.
/// `pii` enables the PII and secret rules; `moderation` the phrase rule.
pub(crate) fn hold_from(
    text: &str,
    from: usize,
    pii: bool,
    moderation: Option<&ModerationMatcher>,
) -> usize {
    let Some(tail) = text.get(from..) else {
        return text.len();
    };
    let mut hold = trailing_token(tail);
    if pii {
        for at in [number_run(tail), iban_run(tail), open_pem(tail)]
            .into_iter()
            .flatten()
        {
            hold = hold.min(at);
        }
    }
    if let Some(at) = moderation.and_then(|m| m.open_phrase(tail)) {
        hold = hold.min(at);
    }
    from + hold
}

/// Start of the text after the last whitespace character.
fn trailing_token(tail: &str) -> usize {
    tail.char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(i, c)| i + c.len_utf8())
}

/// Start of a run of digits, single separators and `+ ( )` that reaches the end of `tail`
/// and contains a digit; it starts at its first digit, `+` or `(`.
fn number_run(tail: &str) -> Option<usize> {
    let b = tail.as_bytes();
    let sep = |c: u8| matches!(c, b' ' | b'.' | b'-');
    let (mut i, mut start, mut digit) = (b.len(), None, false);
    while let Some(&c) = i.checked_sub(1).and_then(|j| b.get(j)) {
        if sep(c) {
            if i >= 2 && b.get(i - 2).copied().is_some_and(sep) {
                break; // two separators in a row: no pattern continues across them
            }
        } else if c.is_ascii_digit() || c == b'+' || c == b'(' {
            digit |= c.is_ascii_digit();
            start = Some(i - 1);
        } else if c != b')' {
            break;
        }
        i -= 1;
    }
    start.filter(|_| digit)
}

/// Start of `[A-Z]{2}[0-9]{2}` (on a word start) inside a run of upper-case letters, digits
/// and single spaces that reaches the end of `tail`.
fn iban_run(tail: &str) -> Option<usize> {
    let b = tail.as_bytes();
    let mut i = b.len();
    while let Some(&c) = i.checked_sub(1).and_then(|j| b.get(j)) {
        let space_run = c == b' ' && i >= 2 && b.get(i - 2) == Some(&b' ');
        if !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == b' ') || space_run {
            break;
        }
        i -= 1;
    }
    let run_start = i;
    (run_start..b.len()).find(|&j| {
        let at_word_start = j == run_start || b.get(j - 1) == Some(&b' ');
        let code = b.get(j..j + 4).is_some_and(|w| {
            w[..2].iter().all(u8::is_ascii_uppercase) && w[2..].iter().all(u8::is_ascii_digit)
        });
        at_word_start && code
    })
}

/// Start of the last `-----BEGIN` whose header line is not closed yet.
fn open_pem(tail: &str) -> Option<usize> {
    const BEGIN: &str = "-----BEGIN";
    let at = tail.rfind(BEGIN)?;
    let rest = tail.get(at + BEGIN.len()..)?;
    (!rest.contains("-----") && !rest.contains('\n')).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(text: &str) -> &str {
        &text[hold_from(text, 0, true, None)..]
    }

    #[test]
    fn prose_holds_only_the_word_being_written() {
        assert_eq!(held("Hello! You said"), "said");
        assert_eq!(held("Hello! You said: "), "");
        assert_eq!(held("In 2023 we had 5 cats"), "cats");
        assert_eq!(held("I am 25. "), "");
        assert_eq!(held("Grüße aus Köln"), "Köln");
    }

    #[test]
    fn numbers_that_may_go_on_are_held() {
        assert_eq!(held("card 4111 1111 "), "4111 1111 ");
        assert_eq!(held("call +1 (415) 555-"), "+1 (415) 555-");
        assert_eq!(held("call (415) 555 2671"), "(415) 555 2671");
        assert_eq!(held("ssn 123-45-"), "123-45-");
        assert_eq!(held("it was 25.  Then 4"), "4");
    }

    #[test]
    fn ibans_and_pem_headers_are_held() {
        assert_eq!(held("to DE89 3704 0044 05"), "DE89 3704 0044 05");
        assert_eq!(held("to GB82 WEST 1234"), "GB82 WEST 1234");
        assert_eq!(held("I AM OK "), "");
        assert_eq!(held("key: -----BEGIN RSA PRIV"), "-----BEGIN RSA PRIV");
        assert_eq!(held("-----BEGIN CERTIFICATE----- ok "), "");
        assert_eq!(held("-----BEGIN or not\nso "), "");
    }

    #[test]
    fn only_the_unreleased_part_is_looked_at() {
        let text = "card 4111 1111 1111";
        assert_eq!(hold_from(text, 10, true, None), 10);
        assert_eq!(hold_from(text, text.len(), true, None), text.len());
        assert_eq!(hold_from("a b c", 0, false, None), 4);
    }
}
