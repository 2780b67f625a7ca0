//! The language of a prompt, over a bounded prefix so its cost does not grow with the
//! prompt: first the function-word vote of [`super::words`] (a microsecond or two), then,
//! when that is not clear-cut, `whatlang` (trigram and script statistics, no model file;
//! tens of microseconds whatever the text's length).

/// Bytes of text given to the detector: the instruction is nearly always at the start, and
/// a pasted document in another language after it should not decide the prompt's language.
pub(crate) const PREFIX: usize = 600;

/// Below this confidence the detector is guessing (it says so on short or mixed text).
const MIN_CONFIDENCE: f64 = 0.0;

/// ISO 639-1 code of the language of `text`, or whatlang's ISO 639-3 code for a language
/// outside the table; `None` when the text is too short or mixed to tell.
pub fn detect(text: &str) -> Option<&'static str> {
    count_detection();
    let text = prefix(text);
    if let Some(lang) = super::words::vote(text, super::words::GUESS) {
        return Some(lang);
    }
    let info = detector().detect(text)?;
    if info.confidence() < MIN_CONFIDENCE {
        return None;
    }
    Some(iso_639_1(info.lang()))
}

/// As [`detect`], but `None` unless whatlang calls its answer reliable.
pub fn detect_reliable(text: &str) -> Option<&'static str> {
    count_detection();
    let text = prefix(text);
    if let Some(lang) = super::words::vote(text, super::words::RELIABLE) {
        return Some(lang);
    }
    let info = detector().detect(text)?;
    info.is_reliable().then(|| iso_639_1(info.lang()))
}

#[cfg(test)]
thread_local! {
    /// Detections run on this thread (tests check that the scorers skip needless ones).
    pub(crate) static DETECTIONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn count_detection() {
    #[cfg(test)]
    DETECTIONS.with(|n| n.set(n.get() + 1));
}

fn prefix(text: &str) -> &str {
    let mut end = text.len().min(PREFIX);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The detector, limited to widely used languages: on a short prompt, whatlang otherwise
/// mistakes English for Welsh, Latin or Afrikaans, which a gateway rarely sees.
fn detector() -> &'static whatlang::Detector {
    static DETECTOR: std::sync::OnceLock<whatlang::Detector> = std::sync::OnceLock::new();
    DETECTOR.get_or_init(|| {
        use whatlang::Lang::*;
        whatlang::Detector::with_allowlist(vec![
            Eng, Fra, Deu, Spa, Por, Ita, Nld, Rus, Ukr, Pol, Ces, Swe, Tur, Ell, Ara, Heb, Hin,
            Cmn, Jpn, Kor, Vie, Ind, Tha, Pes, Ben, Urd,
        ])
    })
}

fn iso_639_1(lang: whatlang::Lang) -> &'static str {
    use whatlang::Lang::*;
    match lang {
        Eng => "en",
        Fra => "fr",
        Deu => "de",
        Spa => "es",
        Por => "pt",
        Ita => "it",
        Nld => "nl",
        Rus => "ru",
        Ukr => "uk",
        Pol => "pl",
        Ces => "cs",
        Swe => "sv",
        Dan => "da",
        Nob => "no",
        Fin => "fi",
        Tur => "tr",
        Ell => "el",
        Ara => "ar",
        Heb => "he",
        Hin => "hi",
        Cmn => "zh",
        Jpn => "ja",
        Kor => "ko",
        Vie => "vi",
        Ind => "id",
        Tha => "th",
        Ron => "ro",
        Hun => "hu",
        other => other.code(),
    }
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn common_languages() {
        let cases = [
            (
                "Could you explain how the tides work and why there are two a day?",
                "en",
            ),
            (
                "Peux-tu m'expliquer pourquoi le ciel est bleu pendant la journée ?",
                "fr",
            ),
            (
                "Kannst du mir erklären, warum der Himmel am Tag blau ist?",
                "de",
            ),
            (
                "¿Puedes explicarme por qué el cielo es azul durante el día?",
                "es",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(detect(text), Some(want), "{text}");
        }
    }

    #[test]
    fn a_long_prompt_is_cut_on_a_char_boundary() {
        let text = "é".repeat(2000);
        // Must not panic on the cut; the answer itself does not matter here.
        let _ = detect(&text);
        assert_eq!(detect(""), None);
    }
}
