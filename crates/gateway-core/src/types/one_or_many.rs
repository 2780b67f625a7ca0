//! `Deserialize` for the two "this or that" fields of the chat format, [`Content`] (a string
//! or a list of parts) and [`Stop`] (a string or a list of strings), by the JSON type seen.
//!
//! Derived `#[serde(untagged)]` enums buffer every value into an intermediate tree and then
//! try each variant in turn: on the request and on every upstream answer, for each message.
//! Deciding by the type of the value parses it once, and a wrong type gets an error that
//! says what was expected instead of "did not match any variant".

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::SeqAccessDeserializer;
use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};

use super::chat::{Content, ContentPart, Stop};

/// A string becomes `one(string)`, an array `many(elements)`; anything else is an error that
/// names `expecting`.
struct OneOrMany<T, E> {
    expecting: &'static str,
    one: fn(String) -> T,
    many: fn(Vec<E>) -> T,
    element: PhantomData<E>,
}

impl<'de, T, E: Deserialize<'de>> Visitor<'de> for OneOrMany<T, E> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<Err: de::Error>(self, text: &str) -> Result<T, Err> {
        Ok((self.one)(text.to_owned()))
    }

    fn visit_string<Err: de::Error>(self, text: String) -> Result<T, Err> {
        Ok((self.one)(text))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, elements: A) -> Result<T, A::Error> {
        Vec::<E>::deserialize(SeqAccessDeserializer::new(elements)).map(self.many)
    }
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OneOrMany::<Content, ContentPart> {
            expecting: "a string or an array of content parts",
            one: Content::Text,
            many: Content::Parts,
            element: PhantomData,
        })
    }
}

impl<'de> Deserialize<'de> for Stop {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OneOrMany::<Stop, String> {
            expecting: "a string or an array of strings",
            one: Stop::One,
            many: Stop::Many,
            element: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn content_is_decided_by_the_json_type() {
        let text: Content = serde_json::from_value(json!("hi \"there\"")).unwrap();
        assert_eq!(text, Content::Text("hi \"there\"".to_owned()));
        let parts: Content =
            serde_json::from_value(json!([{"type": "text", "text": "a"}])).unwrap();
        assert!(matches!(parts, Content::Parts(ref p) if p.len() == 1));
        // Escaped strings (not borrowable from the input) take the owned path.
        let escaped: Content = serde_json::from_str(r#""line\nbreak""#).unwrap();
        assert_eq!(escaped, Content::Text("line\nbreak".to_owned()));
        let err = serde_json::from_value::<Content>(json!(42)).unwrap_err();
        assert!(
            err.to_string()
                .contains("expected a string or an array of content parts"),
            "{err}"
        );
        assert!(serde_json::from_value::<Content>(json!([42])).is_err());
    }

    #[test]
    fn stop_is_one_or_many_strings() {
        let one: Stop = serde_json::from_str(r#""END""#).unwrap();
        assert_eq!(one, Stop::One("END".to_owned()));
        let many: Stop = serde_json::from_str(r#"["a", "b"]"#).unwrap();
        assert_eq!(many, Stop::Many(vec!["a".to_owned(), "b".to_owned()]));
        let err = serde_json::from_str::<Stop>("{}").unwrap_err();
        assert!(
            err.to_string().contains("a string or an array of strings"),
            "{err}"
        );
        // Round trip: serialisation is unchanged (untagged).
        assert_eq!(serde_json::to_string(&many).unwrap(), r#"["a","b"]"#);
    }
}
