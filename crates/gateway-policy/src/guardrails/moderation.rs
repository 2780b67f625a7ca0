//! Content moderation by configurable term lists. Terms and text are normalised the same way
//! ([`crate::guardrails::normalize`], without leetspeak folding) and matched on whole words:
//! a term matches a run of words whose normalised forms are exactly its words, so `"kill"`
//! matches `"KILL"` and `"ｋｉｌｌ"` but not `"skill"`, and `"white power"` matches across any
//! whitespace or punctuation between the two words. One Aho-Corasick automaton holds every
//! term of every category; it is built once per configuration.

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
}

impl ModerationMatcher {
    /// Builds the matcher; `None` when no category lists a term.
    pub fn new(cfg: &ModerationConfig) -> Result<Option<Self>, Error> {
        let mut strings = Vec::new();
        let mut patterns = Vec::new();
        let mut categories = Vec::new();
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
        }))
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
    fn no_terms_no_matcher() {
        assert!(
            ModerationMatcher::new(&ModerationConfig::default())
                .unwrap()
                .is_none()
        );
    }
}
