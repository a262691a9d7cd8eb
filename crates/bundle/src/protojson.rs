//! The encodings of protobuf JSON (<https://protobuf.dev/programming-guides/json/>) and Go's
//! `encoding/json` that Sigstore formats use: bytes as base64, 64-bit integers as strings.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde_json::Value;

use crate::Error;

/// Standard base64 with required padding, tolerating non-zero trailing bits, as Go's
/// `base64.StdEncoding` decodes (what Rekor v1 uses for `format: byte` fields).
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Go's `base64.URLEncoding`: URL-safe alphabet, padding required.
const GO_URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// protojson's bytes decoding: either alphabet, padding optional.
const PROTO_STD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const PROTO_URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Parses a protobuf JSON message (or Go `encoding/json` document) into `T`, with the rules
/// serde alone does not apply:
///
/// - `null` as a member's value reads as the member being absent (protojson: "`null` is an
///   accepted value for all field types and treated as the default value of the corresponding
///   field type"; Go's `encoding/json` leaves the field untouched). So an optional message is
///   `None`, a repeated field empty, a scalar its zero value — everywhere, at any depth, without
///   per-field code.
/// - A member given twice is refused (serde would let the last win once the text is a
///   `Value`; protojson and sigstore-python refuse it), even where unknown members are ignored.
/// - The document must be an object (serde would also read a struct from an array).
///
/// `null` inside an array is kept, and fails as the element type does.
///
/// # Errors
///
/// [`Error::InvalidJson`] naming the problem.
pub(crate) fn from_slice<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T, Error> {
    from_value(parse_object(json)?)
}

/// Reads a JSON object with [`from_slice`]'s rules (nulls dropped, duplicates refused).
///
/// # Errors
///
/// [`Error::InvalidJson`] if it is not JSON, has a duplicate member, or is not an object.
pub(crate) fn parse_object(json: &[u8]) -> Result<Value, Error> {
    let ProtoValue(value) = serde_json::from_slice(json).map_err(|e| Error::json(&e))?;
    if !value.is_object() {
        return Err(Error::InvalidJson {
            reason: "expected a JSON object".to_owned(),
        });
    }
    Ok(value)
}

/// Deserializes a value read by [`parse_object`].
///
/// # Errors
///
/// [`Error::InvalidJson`] naming the problem.
pub(crate) fn from_value<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, Error> {
    serde_json::from_value(value).map_err(|e| Error::json(&e))
}

/// A JSON value read with [`from_slice`]'s rules: object members whose value is `null` are
/// dropped, and duplicate member names are refused.
struct ProtoValue(Value);

impl<'de> de::Deserialize<'de> for ProtoValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(ProtoValueVisitor)
            .map(ProtoValue)
    }
}

struct ProtoValueVisitor;

impl<'de> de::Visitor<'de> for ProtoValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // JSON text has no NaN or infinity, so this is always a number.
        Ok(Value::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(ProtoValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = serde_json::Map::new();
        let mut seen = std::collections::BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let ProtoValue(value) = map.next_value()?;
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
            }
            if !value.is_null() {
                members.insert(key, value);
            }
        }
        Ok(Value::Object(members))
    }
}

/// Encodes bytes as standard, padded base64 (what protojson and Go write).
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes a Go `[]byte` / OpenAPI `format: byte` string: standard base64, padded.
pub(crate) fn decode_go_base64(text: &str) -> Option<Vec<u8>> {
    GO_STD.decode(text).ok()
}

/// Decodes a DSSE base64 field as go-securesystemslib does: standard, then URL-safe, both
/// padded (DSSE `envelope.md` allows either alphabet).
pub(crate) fn decode_dsse_base64(text: &str) -> Option<Vec<u8>> {
    GO_STD.decode(text).or_else(|_| GO_URL.decode(text)).ok()
}

/// Decodes a protojson `bytes` field: standard or URL-safe alphabet, padding optional.
pub(crate) fn decode_proto_base64(text: &str) -> Option<Vec<u8>> {
    if text.contains(['-', '_']) {
        PROTO_URL.decode(text).ok()
    } else {
        PROTO_STD.decode(text).ok()
    }
}

/// Serde for a protojson `bytes` field.
pub(crate) mod bytes {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&encode_base64(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text: String = de::Deserialize::deserialize(deserializer)?;
        decode_proto_base64(&text)
            .ok_or_else(|| de::Error::invalid_value(de::Unexpected::Str(&text), &"base64"))
    }
}

/// Serde for a protojson `repeated bytes` field.
pub(crate) mod bytes_list {
    use serde::ser::SerializeSeq as _;

    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        list: &[Vec<u8>],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(list.len()))?;
        for bytes in list {
            seq.serialize_element(&encode_base64(bytes))?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Vec<u8>>, D::Error> {
        let texts: Vec<String> = de::Deserialize::deserialize(deserializer)?;
        texts
            .iter()
            .map(|text| {
                decode_proto_base64(text)
                    .ok_or_else(|| de::Error::invalid_value(de::Unexpected::Str(text), &"base64"))
            })
            .collect()
    }
}

/// Serde for a protojson `int64`: written as a string, read from a string or a number.
pub(crate) mod int64 {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(value: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Int64 {
            Number(i64),
            Text(String),
        }
        match Int64::deserialize(deserializer)? {
            Int64::Number(n) => Ok(n),
            Int64::Text(text) => text.parse().map_err(|_| {
                de::Error::invalid_value(de::Unexpected::Str(&text), &"a decimal int64")
            }),
        }
    }

    use serde::Deserialize as _;
}

/// Serde for an optional protojson `int64`, omitted when absent.
pub(crate) mod opt_int64 {
    use super::*;

    // `serialize_with` is only called when the value is `Some` (`skip_serializing_if`), but
    // writes `null` for `None` to stay total.
    pub(crate) fn serialize<S: Serializer>(
        value: &Option<i64>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serializer.serialize_str(&value.to_string()),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<i64>, D::Error> {
        super::int64::deserialize(deserializer).map(Some)
    }
}

/// Serde for lowercase hex strings (Rekor v1 `logID`, `rootHash`).
pub(crate) mod hex_bytes {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text: String = de::Deserialize::deserialize(deserializer)?;
        hex::decode(&text).map_err(|_| de::Error::invalid_value(de::Unexpected::Str(&text), &"hex"))
    }
}

/// Serde for a list of lowercase hex strings (Rekor v1 inclusion-proof `hashes`).
pub(crate) mod hex_list {
    use serde::ser::SerializeSeq as _;

    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        list: &[Vec<u8>],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(list.len()))?;
        for bytes in list {
            seq.serialize_element(&hex::encode(bytes))?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Vec<u8>>, D::Error> {
        let texts: Vec<String> = de::Deserialize::deserialize(deserializer)?;
        texts
            .iter()
            .map(|text| {
                hex::decode(text)
                    .map_err(|_| de::Error::invalid_value(de::Unexpected::Str(text), &"hex"))
            })
            .collect()
    }
}

/// Serde for a standard-base64 string carrying bytes (Rekor v1 `body`, `signedEntryTimestamp`).
pub(crate) mod go_bytes {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&encode_base64(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text: String = de::Deserialize::deserialize(deserializer)?;
        decode_go_base64(&text)
            .ok_or_else(|| de::Error::invalid_value(de::Unexpected::Str(&text), &"base64"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proto_base64_accepts_both_alphabets_with_or_without_padding() {
        const CASES: &[(&str, &str, Option<&[u8]>)] = &[
            ("standard padded", "+/8=", Some(&[0xfb, 0xff])),
            ("standard unpadded", "+/8", Some(&[0xfb, 0xff])),
            ("url-safe padded", "-_8=", Some(&[0xfb, 0xff])),
            ("url-safe unpadded", "-_8", Some(&[0xfb, 0xff])),
            ("mixed alphabets", "+_8=", None),
            ("not base64", "!!", None),
            ("empty", "", Some(&[])),
        ];
        for (name, text, want) in CASES {
            assert_eq!(decode_proto_base64(text).as_deref(), *want, "{name}");
        }
    }

    #[test]
    fn go_base64_needs_padding_and_the_standard_alphabet() {
        const CASES: &[(&str, &str, Option<&[u8]>)] = &[
            ("padded", "+/8=", Some(&[0xfb, 0xff])),
            ("unpadded", "+/8", None),
            ("url-safe", "-_8=", None),
            ("trailing bits", "+/9=", Some(&[0xfb, 0xff])),
        ];
        for (name, text, want) in CASES {
            assert_eq!(decode_go_base64(text).as_deref(), *want, "{name}");
        }
        assert_eq!(
            decode_dsse_base64("-_8=").as_deref(),
            Some(&[0xfb, 0xff][..])
        );
    }
}
