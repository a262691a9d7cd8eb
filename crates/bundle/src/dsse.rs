//! DSSE envelopes ([DSSE v1 `envelope.md`][envelope], [`protocol.md`][protocol]) in the JSON
//! shape both DSSE and Sigstore's `envelope.proto` use: `payloadType`, `payload` (base64) and
//! `signatures[{keyid, sig}]`.
//!
//! [envelope]: https://github.com/secure-systems-lab/dsse/blob/master/envelope.md
//! [protocol]: https://github.com/secure-systems-lab/dsse/blob/master/protocol.md

use serde::{Deserialize, Serialize};

use crate::{Error, protojson};

/// A DSSE envelope.
///
/// Reading follows protobuf JSON (`io.intoto.Envelope`): unknown fields are refused, omitted
/// fields are empty, `bytes` may be standard or URL-safe base64 with or without padding.
/// Writing uses standard padded base64 and omits an empty `keyid`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Envelope {
    /// The payload's media type (`application/vnd.in-toto+json`).
    #[serde(default, alias = "payload_type")]
    pub payload_type: String,
    /// The payload bytes, base64 on the wire.
    #[serde(default, with = "protojson::bytes")]
    pub payload: Vec<u8>,
    /// The signatures over [`pae`] of the type and payload.
    #[serde(default)]
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature of an [`Envelope`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct EnvelopeSignature {
    /// An optional, unauthenticated hint naming the key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// The signature bytes, base64 on the wire.
    #[serde(default, with = "protojson::bytes")]
    pub sig: Vec<u8>,
}

impl Envelope {
    /// An envelope of `payload` with the given signatures.
    pub fn new(
        payload_type: impl Into<String>,
        payload: impl Into<Vec<u8>>,
        signatures: Vec<EnvelopeSignature>,
    ) -> Self {
        Self {
            payload_type: payload_type.into(),
            payload: payload.into(),
            signatures,
        }
    }

    /// Parses the JSON of an envelope.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidJson`] if it is not JSON of this shape.
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        protojson::from_slice(json)
    }

    /// The envelope's JSON (fields in declaration order, no whitespace).
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing these plain fields to a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The pre-authentication encoding the signatures sign: [`pae`] of this envelope's type
    /// and payload.
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }
}

impl EnvelopeSignature {
    /// A signature with an optional key hint (empty for none).
    pub fn new(keyid: impl Into<String>, sig: impl Into<Vec<u8>>) -> Self {
        Self {
            keyid: keyid.into(),
            sig: sig.into(),
        }
    }
}

/// DSSEv1 pre-authentication encoding (DSSE `protocol.md`):
/// `"DSSEv1" SP LEN(type) SP type SP LEN(payload) SP payload`, lengths in ASCII decimal bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // DSSE protocol.md, "Test vectors": PAE("http://example.com/HelloWorld", "hello world").
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }

    #[test]
    fn envelope_json_round_trips() {
        let envelope = Envelope::new(
            "application/vnd.in-toto+json",
            b"{}".to_vec(),
            vec![
                EnvelopeSignature::new("", vec![0xfb, 0xff]),
                EnvelopeSignature::new("k1", vec![1]),
            ],
        );
        let json = envelope.to_json();
        assert_eq!(
            String::from_utf8_lossy(&json),
            r#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"+/8="},{"keyid":"k1","sig":"AQ=="}]}"#
        );
        assert_eq!(Envelope::from_json(&json), Ok(envelope));
    }

    #[test]
    fn envelope_parsing_is_protojson() {
        // URL-safe unpadded base64 and proto field names are accepted; unknown fields are not.
        let parsed =
            Envelope::from_json(br#"{"payload_type":"t","payload":"-_8","signatures":[]}"#)
                .unwrap();
        assert_eq!(parsed.payload, vec![0xfb, 0xff]);
        assert_eq!(parsed.payload_type, "t");
        for bad in [
            &br#"{"payloadType":"t","payload":"e30=","extra":1}"#[..],
            br#"{"payloadType":"t","payload":"!"}"#,
            br#"{"payloadType":"t","signatures":[{"sig":"AQ==","other":""}]}"#,
            b"[]",
        ] {
            assert!(
                matches!(Envelope::from_json(bad), Err(Error::InvalidJson { .. })),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
