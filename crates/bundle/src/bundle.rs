//! The Sigstore bundle (`dev.sigstore.bundle.v1.Bundle`, protobuf-specs
//! `sigstore_bundle.proto`) in protobuf JSON: versions 0.1, 0.2 and 0.3.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::common::{HashOutput, X509Certificate, X509CertificateChain};
use crate::dsse::Envelope;
use crate::rekor::TransparencyLogEntry;
use crate::{Error, protojson};

/// A bundle's version, from its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum BundleVersion {
    /// `application/vnd.dev.sigstore.bundle+json;version=0.1`.
    V0_1,
    /// `application/vnd.dev.sigstore.bundle+json;version=0.2`.
    V0_2,
    /// `application/vnd.dev.sigstore.bundle.v0.3+json` or `…bundle+json;version=0.3`.
    V0_3,
}

impl BundleVersion {
    /// The media type a writer should emit for this version (for 0.3, the `.v0.3+json` form
    /// that sigstore-python and sigstore-js write).
    pub const fn media_type(&self) -> &'static str {
        match self {
            Self::V0_1 => "application/vnd.dev.sigstore.bundle+json;version=0.1",
            Self::V0_2 => "application/vnd.dev.sigstore.bundle+json;version=0.2",
            Self::V0_3 => "application/vnd.dev.sigstore.bundle.v0.3+json",
        }
    }

    /// The version a media type names, or `None` for any other media type.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        Some(match media_type {
            "application/vnd.dev.sigstore.bundle+json;version=0.1" => Self::V0_1,
            "application/vnd.dev.sigstore.bundle+json;version=0.2" => Self::V0_2,
            "application/vnd.dev.sigstore.bundle+json;version=0.3"
            | "application/vnd.dev.sigstore.bundle.v0.3+json" => Self::V0_3,
            _ => return None,
        })
    }
}

/// `dev.sigstore.bundle.v1.Bundle`: what a signer hands a verifier.
///
/// Parsing checks the media type (one of [`BundleVersion`]'s) and that exactly one member of
/// each `oneof` is set; it refuses unknown fields, as sigstore-python does. It does not check
/// per-version requirements (inclusion proofs in 0.2+, a lone certificate in 0.3): verification
/// does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Bundle {
    /// The media type as given (kept for writing back).
    pub media_type: String,
    /// Keys, certificates, log entries and timestamps.
    pub verification_material: VerificationMaterial,
    /// What was signed.
    pub content: BundleContent,
}

impl Bundle {
    /// A bundle of the given version.
    pub fn new(
        version: BundleVersion,
        verification_material: VerificationMaterial,
        content: BundleContent,
    ) -> Self {
        Self {
            media_type: version.media_type().to_owned(),
            verification_material,
            content,
        }
    }

    /// Parses a bundle's protobuf JSON.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidJson`] naming the problem: not JSON, wrong shape, unknown field, unknown
    /// media type, or a `oneof` with none or several members set.
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        protojson::from_slice(json)
    }

    /// The bundle's protobuf JSON, compact.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing strings, byte strings and integers to a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The bundle's protobuf JSON, indented, with a final newline (as `*.sigstore.json` files).
    pub fn to_json_pretty(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// The version, which parsing checked.
    pub fn version(&self) -> Option<BundleVersion> {
        BundleVersion::from_media_type(&self.media_type)
    }
}

/// A bundle's signed content (`oneof content`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BundleContent {
    /// A DSSE envelope (attestations).
    DsseEnvelope(Envelope),
    /// A signature over an artifact's bytes (and its digest).
    MessageSignature(MessageSignature),
}

/// `dev.sigstore.common.v1.MessageSignature`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct MessageSignature {
    /// The artifact's digest, as the signer computed it (optional in the message).
    #[serde(
        default,
        alias = "message_digest",
        skip_serializing_if = "Option::is_none"
    )]
    pub message_digest: Option<HashOutput>,
    /// The signature over the artifact.
    #[serde(default, with = "protojson::bytes")]
    pub signature: Vec<u8>,
}

impl MessageSignature {
    /// A signature with the artifact digest it covers.
    pub fn new(message_digest: Option<HashOutput>, signature: impl Into<Vec<u8>>) -> Self {
        Self {
            message_digest,
            signature: signature.into(),
        }
    }
}

/// `dev.sigstore.bundle.v1.VerificationMaterial`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerificationMaterial {
    /// The signer's key or certificate (`oneof content`).
    pub content: VerificationContent,
    /// The transparency log entries.
    pub tlog_entries: Vec<TransparencyLogEntry>,
    /// RFC 3161 timestamps, if any.
    pub timestamp_verification_data: Option<TimestampVerificationData>,
}

impl VerificationMaterial {
    /// Material of a signer `content` with its log entries and timestamps.
    pub fn new(
        content: VerificationContent,
        tlog_entries: Vec<TransparencyLogEntry>,
        timestamp_verification_data: Option<TimestampVerificationData>,
    ) -> Self {
        Self {
            content,
            tlog_entries,
            timestamp_verification_data,
        }
    }
}

/// The signer's identity material (`VerificationMaterial.content`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerificationContent {
    /// One leaf certificate (bundle 0.3).
    Certificate(X509Certificate),
    /// A hint naming a key the verifier already has.
    PublicKey(PublicKeyIdentifier),
    /// Leaf first, then possibly intermediates (bundles 0.1 and 0.2).
    X509CertificateChain(X509CertificateChain),
}

/// `dev.sigstore.common.v1.PublicKeyIdentifier`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PublicKeyIdentifier {
    /// An unauthenticated hint (may be empty).
    #[serde(default)]
    pub hint: String,
}

impl PublicKeyIdentifier {
    /// An identifier with the given hint.
    pub fn new(hint: impl Into<String>) -> Self {
        Self { hint: hint.into() }
    }
}

/// `dev.sigstore.bundle.v1.TimestampVerificationData`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct TimestampVerificationData {
    /// RFC 3161 timestamps over the signature (omitted when empty, as protobuf JSON does).
    #[serde(
        default,
        alias = "rfc3161_timestamps",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub rfc3161_timestamps: Vec<Rfc3161SignedTimestamp>,
}

impl TimestampVerificationData {
    /// Data carrying these timestamps.
    pub fn new(rfc3161_timestamps: Vec<Rfc3161SignedTimestamp>) -> Self {
        Self { rfc3161_timestamps }
    }
}

/// `dev.sigstore.common.v1.RFC3161SignedTimestamp`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Rfc3161SignedTimestamp {
    /// The DER `TimeStampResp` (RFC 3161 §2.4.2).
    #[serde(default, alias = "signed_timestamp", with = "protojson::bytes")]
    pub signed_timestamp: Vec<u8>,
}

impl Rfc3161SignedTimestamp {
    /// A timestamp of DER `TimeStampResp` bytes.
    pub fn new(signed_timestamp: impl Into<Vec<u8>>) -> Self {
        Self {
            signed_timestamp: signed_timestamp.into(),
        }
    }
}

// The wire shapes, with `oneof` members as options.

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawBundle<M, C, D> {
    #[serde(default, alias = "media_type")]
    media_type: String,
    #[serde(alias = "verification_material")]
    verification_material: Option<M>,
    #[serde(
        default,
        alias = "message_signature",
        skip_serializing_if = "Option::is_none"
    )]
    message_signature: Option<C>,
    #[serde(
        default,
        alias = "dsse_envelope",
        skip_serializing_if = "Option::is_none"
    )]
    dsse_envelope: Option<D>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawMaterial<K, C, H, E, T> {
    #[serde(default, alias = "public_key", skip_serializing_if = "Option::is_none")]
    public_key: Option<K>,
    #[serde(
        default,
        alias = "x509_certificate_chain",
        skip_serializing_if = "Option::is_none"
    )]
    x509_certificate_chain: Option<H>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    certificate: Option<C>,
    #[serde(default, alias = "tlog_entries")]
    tlog_entries: E,
    #[serde(
        default,
        alias = "timestamp_verification_data",
        skip_serializing_if = "Option::is_none"
    )]
    timestamp_verification_data: Option<T>,
}

type OwnedRawMaterial = RawMaterial<
    PublicKeyIdentifier,
    X509Certificate,
    X509CertificateChain,
    Vec<TransparencyLogEntry>,
    TimestampVerificationData,
>;

impl Serialize for Bundle {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (message_signature, dsse_envelope) = match &self.content {
            BundleContent::MessageSignature(m) => (Some(m), None),
            BundleContent::DsseEnvelope(d) => (None, Some(d)),
        };
        RawBundle {
            media_type: self.media_type.clone(),
            verification_material: Some(&self.verification_material),
            message_signature,
            dsse_envelope,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Bundle {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawBundle::<VerificationMaterial, MessageSignature, Envelope>::deserialize(
            deserializer,
        )?;
        if BundleVersion::from_media_type(&raw.media_type).is_none() {
            return Err(de::Error::custom(format_args!(
                "unsupported bundle mediaType {:?} (expected \
                 application/vnd.dev.sigstore.bundle+json;version=0.1, 0.2 or 0.3, or \
                 application/vnd.dev.sigstore.bundle.v0.3+json)",
                raw.media_type
            )));
        }
        let verification_material = raw
            .verification_material
            .ok_or_else(|| de::Error::missing_field("verificationMaterial"))?;
        let content = match (raw.message_signature, raw.dsse_envelope) {
            (Some(m), None) => BundleContent::MessageSignature(m),
            (None, Some(d)) => BundleContent::DsseEnvelope(d),
            (m, d) => {
                return Err(de::Error::custom(format_args!(
                    "a bundle must set exactly one of messageSignature and dsseEnvelope, \
                     found {}",
                    usize::from(m.is_some()) + usize::from(d.is_some())
                )));
            }
        };
        Ok(Self {
            media_type: raw.media_type,
            verification_material,
            content,
        })
    }
}

impl Serialize for VerificationMaterial {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (public_key, certificate, x509_certificate_chain) = match &self.content {
            VerificationContent::PublicKey(k) => (Some(k), None, None),
            VerificationContent::Certificate(c) => (None, Some(c), None),
            VerificationContent::X509CertificateChain(h) => (None, None, Some(h)),
        };
        RawMaterial {
            public_key,
            x509_certificate_chain,
            certificate,
            tlog_entries: &self.tlog_entries,
            timestamp_verification_data: self.timestamp_verification_data.as_ref(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for VerificationMaterial {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = OwnedRawMaterial::deserialize(deserializer)?;
        let content = match (raw.public_key, raw.certificate, raw.x509_certificate_chain) {
            (Some(k), None, None) => VerificationContent::PublicKey(k),
            (None, Some(c), None) => VerificationContent::Certificate(c),
            (None, None, Some(h)) => VerificationContent::X509CertificateChain(h),
            (k, c, h) => {
                return Err(de::Error::custom(format_args!(
                    "verificationMaterial must set exactly one of publicKey, \
                     x509CertificateChain and certificate, found {}",
                    usize::from(k.is_some()) + usize::from(c.is_some()) + usize::from(h.is_some())
                )));
            }
        };
        Ok(Self {
            content,
            tlog_entries: raw.tlog_entries,
            timestamp_verification_data: raw.timestamp_verification_data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_map_to_versions() {
        const CASES: &[(&str, Option<BundleVersion>)] = &[
            (
                "application/vnd.dev.sigstore.bundle+json;version=0.1",
                Some(BundleVersion::V0_1),
            ),
            (
                "application/vnd.dev.sigstore.bundle+json;version=0.2",
                Some(BundleVersion::V0_2),
            ),
            (
                "application/vnd.dev.sigstore.bundle+json;version=0.3",
                Some(BundleVersion::V0_3),
            ),
            (
                "application/vnd.dev.sigstore.bundle.v0.3+json",
                Some(BundleVersion::V0_3),
            ),
            ("application/vnd.dev.sigstore.bundle.v0.4+json", None),
            ("application/json", None),
        ];
        for (media_type, want) in CASES {
            assert_eq!(
                BundleVersion::from_media_type(media_type),
                *want,
                "{media_type}"
            );
        }
    }

    #[test]
    fn rejects_bundles_with_bad_oneofs_or_unknown_fields() {
        const MT: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
        let cases = [
            (
                "two contents",
                format!(
                    r#"{{"mediaType":"{MT}","verificationMaterial":{{"publicKey":{{}}}},"messageSignature":{{}},"dsseEnvelope":{{}}}}"#
                ),
                "exactly one of messageSignature",
            ),
            (
                "no content",
                format!(r#"{{"mediaType":"{MT}","verificationMaterial":{{"publicKey":{{}}}}}}"#),
                "exactly one of messageSignature",
            ),
            (
                "two keys",
                format!(
                    r#"{{"mediaType":"{MT}","verificationMaterial":{{"publicKey":{{}},"certificate":{{}}}},"messageSignature":{{}}}}"#
                ),
                "exactly one of publicKey",
            ),
            (
                "unknown field",
                format!(
                    r#"{{"mediaType":"{MT}","verificationMaterial":{{"publicKey":{{}}}},"messageSignature":{{}},"extra":1}}"#
                ),
                "unknown field",
            ),
            (
                "unknown media type",
                r#"{"mediaType":"x","verificationMaterial":{"publicKey":{}},"messageSignature":{}}"#
                    .to_owned(),
                "unsupported bundle mediaType",
            ),
            ("array", "[]".to_owned(), "expected"),
        ];
        for (name, json, want) in cases {
            let error = Bundle::from_json(json.as_bytes()).unwrap_err().to_string();
            assert!(error.contains(want), "{name}: {error}");
        }
    }

    #[test]
    fn writes_what_it_reads() {
        let bundle = Bundle::new(
            BundleVersion::V0_3,
            VerificationMaterial::new(
                VerificationContent::Certificate(X509Certificate::new(vec![1, 2, 3])),
                Vec::new(),
                Some(TimestampVerificationData::new(vec![
                    Rfc3161SignedTimestamp::new(vec![4]),
                ])),
            ),
            BundleContent::MessageSignature(MessageSignature::new(
                Some(HashOutput::new("SHA2_256", vec![5; 32])),
                vec![6],
            )),
        );
        let json = bundle.to_json();
        assert_eq!(Bundle::from_json(&json).unwrap(), bundle);
        let text = String::from_utf8(json).unwrap();
        assert!(
            text.contains(r#""certificate":{"rawBytes":"AQID"}"#),
            "{text}"
        );
    }
}
