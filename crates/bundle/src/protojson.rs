//! The encodings of protobuf JSON (<https://protobuf.dev/programming-guides/json/>) and Go's
//! `encoding/json` that Sigstore formats use: bytes as base64, 64-bit integers as strings.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::de::{self, Deserializer};
use serde::ser::Serializer;

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
