//! `Deserialize` for the types that keep the fields they do not model in `extra`.
//!
//! `#[serde(flatten)]` would do it, but serde implements a flattened field by first buffering
//! the whole object into a tree of owned intermediate values and only then decoding each field
//! from that tree: for a ~400-byte completion that is most of the decoding work, paid on every
//! request, every upstream answer, every message and every streamed chunk.
//! [`deserialize_with_extra!`](crate::deserialize_with_extra) writes the visitor that serde's
//! derive writes for a plain struct, plus one arm: a key it does not model is decoded straight
//! into `extra`. Serialization keeps the derive and its flatten, which costs little there.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

/// A map key as the deserializer hands it over: borrowed from the input when it can be (no
/// escapes), so that matching a known field name allocates nothing.
#[doc(hidden)]
pub enum FieldKey<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl FieldKey<'_> {
    pub fn as_str(&self) -> &str {
        match self {
            FieldKey::Borrowed(key) => key,
            FieldKey::Owned(key) => key,
        }
    }

    pub fn into_string(self) -> String {
        match self {
            FieldKey::Borrowed(key) => key.to_owned(),
            FieldKey::Owned(key) => key,
        }
    }
}

impl<'de> de::Deserialize<'de> for FieldKey<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = FieldKey<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }

            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Self::Value, E> {
                Ok(FieldKey::Borrowed(key))
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
                Ok(FieldKey::Owned(key.to_owned()))
            }

            fn visit_string<E: de::Error>(self, key: String) -> Result<Self::Value, E> {
                Ok(FieldKey::Owned(key))
            }
        }

        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Implements `Deserialize` for a struct whose last field is `extra: Extra`.
///
/// Each modelled field is listed with its mode: `required` (missing is an error), `default`
/// (missing is `Default::default()`) or `default(path)` (missing is `path()`); `as "name"`
/// gives a JSON name that differs from the Rust one. Field types are inferred from the struct.
/// Errors are serde's own: `missing field`, `duplicate field`, `invalid type`.
///
/// ```
/// use gateway_core::types::Extra;
///
/// struct Part { kind: String, text: Option<String>, extra: Extra }
/// gateway_core::deserialize_with_extra!(Part, "a content part" {
///     kind as "type": required,
///     text: default,
/// });
///
/// let part: Part = serde_json::from_str(r#"{"type":"text","text":"hi","cache":1}"#).unwrap();
/// assert_eq!((part.kind.as_str(), part.text.as_deref()), ("text", Some("hi")));
/// assert_eq!(part.extra["cache"], 1);
/// ```
#[macro_export]
macro_rules! deserialize_with_extra {
    (@name $field:ident) => { stringify!($field) };
    (@name $field:ident $name:literal) => { $name };
    (@missing $value:ident, $name:expr, required) => {
        match $value {
            ::core::option::Option::Some(value) => value,
            ::core::option::Option::None => {
                return ::core::result::Result::Err(::serde::de::Error::missing_field($name))
            }
        }
    };
    (@missing $value:ident, $name:expr, default) => { $value.unwrap_or_default() };
    (@missing $value:ident, $name:expr, default($default:path)) => {
        $value.unwrap_or_else($default)
    };
    ($ty:ident, $expecting:literal {
        $($field:ident $(as $name:literal)?: $mode:ident $(($default:path))?),* $(,)?
    }) => {
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D>(deserializer: D) -> ::core::result::Result<Self, D::Error>
            where
                D: ::serde::Deserializer<'de>,
            {
                struct FieldsVisitor;

                impl<'de> ::serde::de::Visitor<'de> for FieldsVisitor {
                    type Value = $ty;

                    fn expecting(
                        &self,
                        f: &mut ::core::fmt::Formatter<'_>,
                    ) -> ::core::fmt::Result {
                        f.write_str($expecting)
                    }

                    fn visit_map<A>(self, mut map: A) -> ::core::result::Result<$ty, A::Error>
                    where
                        A: ::serde::de::MapAccess<'de>,
                    {
                        $(let mut $field = ::core::option::Option::None;)*
                        let mut extra = $crate::types::Extra::new();
                        while let ::core::option::Option::Some(key) =
                            map.next_key::<$crate::types::FieldKey<'de>>()?
                        {
                            match key.as_str() {
                                $($crate::deserialize_with_extra!(@name $field $($name)?) => {
                                    if $field.is_some() {
                                        return ::core::result::Result::Err(
                                            ::serde::de::Error::duplicate_field(
                                                $crate::deserialize_with_extra!(
                                                    @name $field $($name)?
                                                ),
                                            ),
                                        );
                                    }
                                    $field = ::core::option::Option::Some(map.next_value()?);
                                })*
                                _ => {
                                    let value = map.next_value()?;
                                    extra.insert(key.into_string(), value);
                                }
                            }
                        }
                        ::core::result::Result::Ok($ty {
                            $($field: $crate::deserialize_with_extra!(
                                @missing $field,
                                $crate::deserialize_with_extra!(@name $field $($name)?),
                                $mode $(($default))?
                            ),)*
                            extra,
                        })
                    }
                }

                deserializer.deserialize_map(FieldsVisitor)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::types::Extra;

    #[derive(Debug, PartialEq)]
    struct Sample {
        id: String,
        kind: String,
        count: u32,
        object: String,
        note: Option<String>,
        extra: Extra,
    }

    fn sample_object() -> String {
        "sample".to_owned()
    }

    crate::deserialize_with_extra!(Sample, "a sample" {
        id: required,
        kind as "type": required,
        count: default,
        object: default(sample_object),
        note: default,
    });

    fn decode(text: &str) -> Result<Sample, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn known_fields_are_decoded_and_the_rest_kept_in_extra() {
        let sample =
            decode(r#"{"id":"a","type":"t","count":3,"x":{"y":[1,null]},"note":null,"z":"w"}"#)
                .unwrap();
        assert_eq!(
            (sample.id.as_str(), sample.kind.as_str(), sample.count),
            ("a", "t", 3)
        );
        assert_eq!(sample.note, None);
        assert_eq!(
            serde_json::Value::Object(sample.extra),
            json!({"x": {"y": [1, null]}, "z": "w"})
        );
    }

    #[test]
    fn missing_fields_take_their_defaults() {
        let sample = decode(r#"{"id":"a","type":"t"}"#).unwrap();
        assert_eq!(
            (sample.count, sample.object.as_str(), sample.note),
            (0, "sample", None)
        );
        assert!(sample.extra.is_empty());
    }

    #[test]
    fn a_missing_required_field_is_named() {
        let err = decode(r#"{"id":"a"}"#).unwrap_err();
        assert!(err.contains("missing field `type`"), "{err}");
    }

    #[test]
    fn a_duplicate_known_field_is_an_error() {
        let err = decode(r#"{"id":"a","type":"t","id":"b"}"#).unwrap_err();
        assert!(err.contains("duplicate field `id`"), "{err}");
    }

    #[test]
    fn wrong_types_are_errors_that_say_what_was_expected() {
        let err = decode(r#"{"id":"a","type":"t","count":"three"}"#).unwrap_err();
        assert!(err.contains("expected u32"), "{err}");
        let err = decode(r#"["a","t"]"#).unwrap_err();
        assert!(err.contains("expected a sample"), "{err}");
    }

    #[test]
    fn escaped_keys_are_matched_and_kept() {
        let sample = decode(r#"{"\u0069d":"a","type":"t","\u00e9t\u00e9":1}"#).unwrap();
        assert_eq!(sample.id, "a");
        assert_eq!(sample.extra["été"], 1);
    }

    #[test]
    fn decodes_from_a_value_tree_too() {
        let sample: Sample =
            serde_json::from_value(json!({"id": "a", "type": "t", "k": true})).unwrap();
        assert_eq!(sample.extra["k"], true);
    }
}
