//! Content moderation by configurable term lists. Terms and text are normalised the same way
//! ([`crate::guardrails::normalize`], without leetspeak folding) and matched on whole words:
//! a term matches a run of words whose normalised forms are exactly its words, so `"kill"`
//! matches `"KILL"` and `"ｋｉｌｌ"` but not `"skill"`, and `"white power"` matches across any
//! whitespace or punctuation between the two words. One Aho-Corasick automaton holds every
//! term of every category; it is built once per configuration.

use std::collections::HashSet;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::error::Error;
use crate::guardrails::config::ModerationConfig;
use crate::guardrails::finding::{Action, Finding};
use crate::guardrails::normalize::{Fold, Normalized, normalize_into, with_normalized};

#[derive(Debug)]
struct Pattern {
    category: usize,
    term: usize,
    /// Squashed offsets (relative to the match start) where the term's inner words end.
    inner_ends: Vec<usize>,
}

/// Term matcher for all moderation categories of one configuration.
#[derive(Debug)]
pub struct ModerationMatcher {
    ac: AhoCorasick,
    patterns: Vec<Pattern>,
    categories: Vec<(String, Action)>,
    /// The proper word prefixes of multi-word terms (normalised words joined by one space),
    /// so a stream scanner can hold back `"pipe"` until it knows whether `"bomb"` follows.
    prefixes: HashSet<String>,
    /// Words in the longest term.
    max_words: usize,
}

impl ModerationMatcher {
    /// Builds the matcher; `None` when no category lists a term.
    pub fn new(cfg: &ModerationConfig) -> Result<Option<Self>, Error> {
        let mut strings = Vec::new();
        let mut patterns = Vec::new();
        let mut categories = Vec::new();
        let mut prefixes = HashSet::new();
        let mut max_words = 0;
        let mut n = Normalized::default();
        for (name, cat) in &cfg.categories {
            let category = categories.len();
            categories.push((name.clone(), cat.action));
            for (term, text) in cat.terms.iter().enumerate() {
                normalize_into(text, Fold::Words, &mut n);
                let Some(last) = n.tokens().last() else {
                    continue;
                };
                let inner_ends = n
                    .tokens()
                    .iter()
                    .map(|t| t.norm_end)
                    .filter(|&e| e != last.norm_end)
                    .collect();
                max_words = max_words.max(n.tokens().len());
                let words: Vec<&str> = n.tokens().iter().map(|t| n.token_text(t)).collect();
                for k in 1..words.len() {
                    prefixes.insert(words.get(..k).unwrap_or_default().join(" "));
                }
                strings.push(n.squashed().to_owned());
                patterns.push(Pattern {
                    category,
                    term,
                    inner_ends,
                });
            }
        }
        if strings.is_empty() {
            return Ok(None);
        }
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&strings)
            .map_err(|e| Error::Matcher(e.to_string()))?;
        Ok(Some(ModerationMatcher {
            ac,
            patterns,
            categories,
            prefixes,
            max_words,
        }))
    }

    /// Where a multi-word term could still be forming at the end of `tail`: the start of the
    /// longest run of complete trailing words that is a proper prefix of some term. A word
    /// still being written (no separator after it yet) is left to the caller.
    pub(crate) fn open_phrase(&self, tail: &str) -> Option<usize> {
        if self.max_words < 2 {
            return None;
        }
        with_normalized(tail, Fold::Words, |n| {
            let tokens = n.tokens();
            let complete = match tokens.last() {
                Some(t) if t.end == tail.len() => tokens.len() - 1,
                _ => tokens.len(),
            };
            let mut key = String::new();
            for k in (1..self.max_words.min(complete + 1)).rev() {
                let words = tokens.get(complete - k..complete)?;
                key.clear();
                for (i, t) in words.iter().enumerate() {
                    if i > 0 {
                        key.push(' ');
                    }
                    key.push_str(n.token_text(t));
                }
                if self.prefixes.contains(&key) {
                    return words.first().map(|t| t.start);
                }
            }
            None
        })
    }

    /// Appends a finding per term occurrence; `rule` is `term:<index in the category's list>`.
    pub fn scan(&self, text: &str, out: &mut Vec<Finding>) {
        with_normalized(text, Fold::Words, |n| {
            for m in self.ac.find_overlapping_iter(n.squashed()) {
                let Some(p) = self.patterns.get(m.pattern().as_usize()) else {
                    continue;
                };
                let Some(span) = word_aligned(n, m.start(), m.end(), &p.inner_ends) else {
                    continue;
                };
                let Some((name, action)) = self.categories.get(p.category) else {
                    continue;
                };
                if *action == Action::Allow {
                    continue;
                }
                let f = Finding {
                    guardrail: "moderation",
                    category: name.clone(),
                    rule: format!("term:{}", p.term),
                    score: 1.0,
                    start: span.0,
                    end: span.1,
                    action: *action,
                };
                if !out.iter().any(|o| {
                    o.guardrail == f.guardrail
                        && o.category == f.category
                        && o.start == f.start
                        && o.end == f.end
                }) {
                    out.push(f);
                }
            }
        });
    }
}

/// The original span of a squashed match that starts and ends on word boundaries and whose
/// inner word boundaries are exactly the term's.
fn word_aligned(
    n: &Normalized,
    start: usize,
    end: usize,
    inner_ends: &[usize],
) -> Option<(usize, usize)> {
    let tokens = n.tokens();
    let first = tokens.partition_point(|t| t.norm_start < start);
    if tokens.get(first)?.norm_start != start {
        return None;
    }
    let mut inner = inner_ends.iter();
    for t in tokens.get(first..)? {
        if t.norm_end == end {
            return inner
                .next()
                .is_none()
                .then_some((tokens.get(first)?.start, t.end));
        }
        if t.norm_end > end || inner.next() != Some(&(t.norm_end - start)) {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guardrails::config::ModerationCategory;

    fn matcher(terms: &[&str]) -> ModerationMatcher {
        let mut cfg = ModerationConfig::default();
        let terms = terms.iter().map(|t| t.to_string()).collect();
        cfg.categories.insert(
            "violence".into(),
            ModerationCategory {
                terms,
                action: Action::Block,
            },
        );
        ModerationMatcher::new(&cfg).unwrap().unwrap()
    }

    fn spans(m: &ModerationMatcher, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        m.scan(text, &mut out);
        out.iter()
            .map(|f| text[f.start..f.end].to_owned())
            .collect()
    }

    #[test]
    fn matches_whole_normalised_words_only() {
        let m = matcher(&["kill", "blow up"]);
        assert_eq!(spans(&m, "I will KILL it"), ["KILL"]);
        assert_eq!(spans(&m, "ｋｉｌｌ"), ["ｋｉｌｌ"]);
        assert!(spans(&m, "a useful skill, killer app").is_empty());
        assert_eq!(spans(&m, "then blow\n  up the bridge"), ["blow\n  up"]);
        assert!(
            spans(&m, "blowup").is_empty(),
            "a two-word term needs two words"
        );
        assert!(
            spans(&m, "ki ll").is_empty(),
            "a one-word term needs one word"
        );
    }

    #[test]
    fn findings_name_category_and_term_index_not_the_text() {
        let m = matcher(&["bomb", "kill"]);
        let mut out = Vec::new();
        m.scan("kill", &mut out);
        assert_eq!(
            (
                out[0].category.as_str(),
                out[0].rule.as_str(),
                out[0].action
            ),
            ("violence", "term:1", Action::Block)
        );
    }

    #[test]
    fn open_phrases_are_proper_prefixes_of_multi_word_terms() {
        let m = matcher(&["kill", "blow it up", "pipe bomb"]);
        assert_eq!(m.open_phrase("we will Blow "), Some(8));
        assert_eq!(m.open_phrase("we will blow  it, u"), Some(8));
        assert_eq!(m.open_phrase("a PIPE b"), Some(2));
        assert_eq!(
            m.open_phrase("a pipe"),
            None,
            "the last word is still being written"
        );
        assert_eq!(
            m.open_phrase("blow it up "),
            None,
            "a whole term is not open"
        );
        assert_eq!(m.open_phrase("a pipeline "), None);
        assert_eq!(matcher(&["kill"]).open_phrase("kill "), None);
    }

    #[test]
    fn no_terms_no_matcher() {
        assert!(
            ModerationMatcher::new(&ModerationConfig::default())
                .unwrap()
                .is_none()
        );
    }
}
