//! Legacy material made into bundles: bare DSSE envelopes (what cosign `attest` and
//! slsa-github-generator wrote into `.intoto.jsonl` files before bundles) and the Rekor v1
//! `LogEntry` (`GET /api/v1/log/entries/{uuid}`, sigstore/rekor `openapi.yaml`) that logged
//! them, in the shape protobuf-specs `sigstore_bundle.proto` gives a bundle.
//!
//! This only rearranges material: nothing is verified here. `waxseal-verify` verifies the
//! bundle that comes out, with every check it makes on any other bundle.

use serde::Deserialize;
use serde_json::Value;
use waxseal_crypto::pem;

use crate::bundle::{
    Bundle, BundleContent, BundleVersion, PublicKeyIdentifier, VerificationContent,
    VerificationMaterial,
};
use crate::common::{X509Certificate, X509CertificateChain};
use crate::dsse::{Envelope, EnvelopeSignature};
use crate::rekor::{
    Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogEntry, LogId,
    TransparencyLogEntry,
};
use crate::{Error, protojson};

/// What a JSON document is: one line of an `.intoto.jsonl` file may be either.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Document {
    /// A Sigstore bundle (it has a `mediaType` or `verificationMaterial`).
    Bundle(Box<Bundle>),
    /// A bare DSSE envelope (it has `payloadType`, `payload` or `signatures`, and neither of the
    /// above).
    Envelope(LegacyEnvelope),
}

impl Document {
    /// Reads a bundle or a bare DSSE envelope, telling which it is.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownDocument`] for a JSON object that is neither, [`Error::InvalidJson`] for
    /// anything else that is not JSON of either shape, and the errors of
    /// [`LegacyEnvelope::from_json`].
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        let value = protojson::parse_object(json)?;
        let has = |names: &[&str]| names.iter().any(|n| value.get(n).is_some());
        if has(&[
            "mediaType",
            "media_type",
            "verificationMaterial",
            "verification_material",
        ]) {
            return protojson::from_value(value).map(|b| Self::Bundle(Box::new(b)));
        }
        if has(&["payloadType", "payload_type", "payload", "signatures"]) {
            return LegacyEnvelope::from_value(value).map(Self::Envelope);
        }
        Err(Error::UnknownDocument {
            members: value
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
        })
    }
}

/// A bare DSSE envelope, and the signing certificate chain one of its signatures carried.
///
/// Some producers (slsa-github-generator's `.intoto.jsonl`, sigstore-go's early output) put
/// the Fulcio certificate PEM beside the signature: `signatures[{keyid, sig, cert}]`. That
/// member is read into [`LegacyEnvelope::certificates`] and is not part of the envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LegacyEnvelope {
    /// The envelope (payload type, payload, signatures).
    pub envelope: Envelope,
    /// The DER certificates of the first signature that has a `cert`, leaf first; empty when
    /// none does.
    pub certificates: Vec<Vec<u8>>,
}

impl LegacyEnvelope {
    /// Reads a DSSE envelope's JSON, accepting a PEM `cert` beside each signature.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidJson`] if it is not an envelope (unknown members are refused, as for
    /// [`Envelope::from_json`]); [`Error::InvalidPem`] if a `cert` is not PEM certificates.
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        Self::from_value(protojson::parse_object(json)?)
    }

    fn from_value(value: Value) -> Result<Self, Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct Raw {
            #[serde(default, alias = "payload_type")]
            payload_type: String,
            #[serde(default, with = "protojson::bytes")]
            payload: Vec<u8>,
            #[serde(default)]
            signatures: Vec<RawSignature>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RawSignature {
            #[serde(default)]
            keyid: String,
            #[serde(default, with = "protojson::bytes")]
            sig: Vec<u8>,
            #[serde(default)]
            cert: String,
        }
        let raw: Raw = protojson::from_value(value)?;
        let mut certificates = Vec::new();
        for (i, signature) in raw.signatures.iter().enumerate() {
            if signature.cert.is_empty() || !certificates.is_empty() {
                continue;
            }
            certificates =
                pem::decode_all(&signature.cert, "CERTIFICATE").map_err(|e| Error::InvalidPem {
                    field: format!("signatures[{i}].cert"),
                    reason: e.to_string(),
                })?;
        }
        let signatures = raw
            .signatures
            .into_iter()
            .map(|s| EnvelopeSignature::new(s.keyid, s.sig))
            .collect();
        Ok(Self {
            envelope: Envelope::new(raw.payload_type, raw.payload, signatures),
            certificates,
        })
    }
}

impl Bundle {
    /// Makes a bundle of signed `content` (a DSSE envelope or a message signature) and the
    /// Rekor v1 entry that logged it: `entry_json` exactly as `GET /api/v1/log/entries/{uuid}`
    /// returns it (`{"<uuid>": {body, integratedTime, logID, logIndex, verification}}`), or
    /// that map's one value.
    ///
    /// - The entry's kind and version are read from its body (`kind`, `apiVersion`).
    /// - The signer is `certificates` (DER, leaf first) when given, such as
    ///   [`LegacyEnvelope::certificates`]; otherwise the body's signer PEM (`hashedrekord`
    ///   0.0.1 `spec.signature.publicKey.content`, `dsse` 0.0.1 `spec.signatures[0].verifier`,
    ///   `intoto` 0.0.2 `spec.content.envelope.signatures[0].publicKey`): its certificates, or a
    ///   public key hint (empty) when it is a `PUBLIC KEY`, for a key policy.
    /// - The media type is v0.1 when the entry has no inclusion proof (such a bundle only has
    ///   a SET, which `waxseal-verify` refuses by default, as sigstore-python 4.5 does: fetch
    ///   the entry again for its proof, or accept the SET as cosign does with
    ///   `TlogRequirement::PromiseOrProof`), else v0.3 for one certificate or a key, v0.2 for
    ///   a chain.
    ///
    /// Nothing is verified: verify the result as any bundle.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidJson`] if the entry is not a Rekor v1 `LogEntry` (or a one-member map of
    /// one) or its body is not JSON; [`Error::MissingField`] if the body names no kind, version
    /// or (with no `certificates`) signer; [`Error::InvalidBase64`], [`Error::InvalidPem`] if
    /// the body's signer is malformed.
    pub fn from_rekor_entry(
        content: BundleContent,
        certificates: Vec<Vec<u8>>,
        entry_json: &[u8],
    ) -> Result<Self, Error> {
        let value = protojson::parse_object(entry_json)?;
        let entry: LogEntry = match value.as_object() {
            Some(map) if map.len() == 1 && !map.contains_key("body") => {
                let inner = map.values().next().cloned().unwrap_or_default();
                protojson::from_value(inner)?
            }
            _ => protojson::from_value(value)?,
        };
        let body: Value = serde_json::from_slice(&entry.body).map_err(|e| Error::InvalidJson {
            reason: format!("the entry body: {e}"),
        })?;
        let text = |name: &str| {
            body.get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| Error::MissingField {
                    field: format!("body {name}"),
                })
        };
        let kind_version = KindVersion::new(text("kind")?, text("apiVersion")?);
        let signer = if certificates.is_empty() {
            body_signer(&body, &kind_version)?
        } else {
            Signer::Certificates(certificates)
        };

        let verification = entry.verification.unwrap_or_default();
        let inclusion_proof = verification.inclusion_proof.map(|p| InclusionProof {
            checkpoint: Some(Checkpoint::new(p.checkpoint)).filter(|c| !c.envelope.is_empty()),
            ..InclusionProof::new(
                p.log_index,
                p.root_hash,
                p.tree_size,
                p.hashes,
                Checkpoint::default(),
            )
        });
        let inclusion_promise = Some(verification.signed_entry_timestamp)
            .filter(|set| !set.is_empty())
            .map(InclusionPromise::new);
        let has_proof = inclusion_proof.is_some();
        let tlog_entry = TransparencyLogEntry {
            integrated_time: Some(entry.integrated_time),
            inclusion_promise,
            inclusion_proof,
            ..TransparencyLogEntry::new(
                entry.log_index,
                LogId::new(entry.log_id),
                kind_version,
                entry.body,
            )
        };
        let (version, material) = match (signer, has_proof) {
            (Signer::Key, false) => (
                BundleVersion::V0_1,
                VerificationContent::PublicKey(PublicKeyIdentifier::default()),
            ),
            (Signer::Key, true) => (
                BundleVersion::V0_3,
                VerificationContent::PublicKey(PublicKeyIdentifier::default()),
            ),
            (Signer::Certificates(chain), false) => (
                BundleVersion::V0_1,
                VerificationContent::X509CertificateChain(X509CertificateChain::new(chain)),
            ),
            (Signer::Certificates(mut chain), true) if chain.len() == 1 => (
                BundleVersion::V0_3,
                VerificationContent::Certificate(X509Certificate::new(chain.remove(0))),
            ),
            (Signer::Certificates(chain), true) => (
                BundleVersion::V0_2,
                VerificationContent::X509CertificateChain(X509CertificateChain::new(chain)),
            ),
        };
        Ok(Self::new(
            version,
            VerificationMaterial::new(material, vec![tlog_entry], None),
            content,
        ))
    }
}

/// The signer material of a legacy entry.
enum Signer {
    /// DER certificates, leaf first.
    Certificates(Vec<Vec<u8>>),
    /// A bare public key: the verifier must be given it.
    Key,
}

/// The signer PEM a Rekor v1 body records, as certificates or a key.
fn body_signer(body: &Value, kind: &KindVersion) -> Result<Signer, Error> {
    let path: &[&str] = match (kind.kind.as_str(), kind.version.as_str()) {
        ("hashedrekord", "0.0.1") => &["spec", "signature", "publicKey", "content"],
        ("dsse", "0.0.1") => &["spec", "signatures", "0", "verifier"],
        ("intoto", "0.0.2") => &[
            "spec",
            "content",
            "envelope",
            "signatures",
            "0",
            "publicKey",
        ],
        _ => &["spec", "publicKey"],
    };
    let field = format!("body {}", path.join("."));
    let value = path
        .iter()
        .try_fold(body, |v, key| match key.parse::<usize>() {
            Ok(i) => v.get(i),
            Err(_) => v.get(key),
        })
        .and_then(Value::as_str)
        .ok_or_else(|| Error::MissingField {
            field: field.clone(),
        })?;
    let text = protojson::decode_go_base64(value)
        .and_then(|pem| String::from_utf8(pem).ok())
        .ok_or_else(|| Error::InvalidBase64 {
            field: field.clone(),
        })?;
    let invalid = |e: waxseal_crypto::Error| Error::InvalidPem {
        field: field.clone(),
        reason: e.to_string(),
    };
    if text.contains("-----BEGIN PUBLIC KEY-----") {
        pem::decode(&text, "PUBLIC KEY").map_err(invalid)?;
        return Ok(Signer::Key);
    }
    let chain = pem::decode_all(&text, "CERTIFICATE").map_err(invalid)?;
    if chain.is_empty() {
        return Err(Error::InvalidPem {
            field,
            reason: "no CERTIFICATE block".to_owned(),
        });
    }
    Ok(Signer::Certificates(chain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_bundles_envelopes_or_neither() {
        const MT: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
        let bundle = format!(
            r#"{{"mediaType":"{MT}","verificationMaterial":{{"publicKey":{{}}}},"messageSignature":{{}}}}"#
        );
        assert!(matches!(
            Document::from_json(bundle.as_bytes()),
            Ok(Document::Bundle(_))
        ));
        let envelope =
            br#"{"payloadType":"t","payload":"e30=","signatures":[{"keyid":"k","sig":"AQ=="}]}"#;
        let Ok(Document::Envelope(legacy)) = Document::from_json(envelope) else {
            panic!("not an envelope");
        };
        assert_eq!(legacy.envelope.payload, b"{}");
        assert!(legacy.certificates.is_empty());

        struct Case {
            name: &'static str,
            json: &'static [u8],
            check: fn(&Error) -> bool,
        }
        const CASES: &[Case] = &[
            Case {
                name: "neither",
                json: br#"{"hello":"world"}"#,
                check: |e| matches!(e, Error::UnknownDocument { members } if members == &["hello"]),
            },
            Case {
                name: "array",
                json: b"[]",
                check: |e| matches!(e, Error::InvalidJson { .. }),
            },
            Case {
                name: "envelope with an unknown member",
                json: br#"{"payloadType":"t","payload":"e30=","extra":1}"#,
                check: |e| matches!(e, Error::InvalidJson { .. }),
            },
            Case {
                name: "cert that is not PEM",
                json: br#"{"payloadType":"t","signatures":[{"sig":"AQ==","cert":"-----BEGIN X-----\n"}]}"#,
                check: |e| matches!(e, Error::InvalidPem { field, .. } if field == "signatures[0].cert"),
            },
            Case {
                name: "bundle that does not parse",
                json: br#"{"mediaType":"x"}"#,
                check: |e| matches!(e, Error::InvalidJson { .. }),
            },
        ];
        for case in CASES {
            let error = Document::from_json(case.json).unwrap_err();
            assert!((case.check)(&error), "{}: {error:?}", case.name);
        }
    }

    #[test]
    fn rekor_entries_need_a_body_with_kind_and_signer() {
        let content = BundleContent::DsseEnvelope(Envelope::default());
        let entry = |body: &str| {
            format!(
                r#"{{"u":{{"body":"{}","integratedTime":1,"logID":"00","logIndex":1}}}}"#,
                crate::protojson::encode_base64(body.as_bytes())
            )
        };
        struct Case {
            name: &'static str,
            body: &'static str,
            check: fn(&Error) -> bool,
        }
        const CASES: &[Case] = &[
            Case {
                name: "body not JSON",
                body: "{",
                check: |e| matches!(e, Error::InvalidJson { .. }),
            },
            Case {
                name: "no kind",
                body: r#"{"apiVersion":"0.0.1"}"#,
                check: |e| matches!(e, Error::MissingField { field } if field == "body kind"),
            },
            Case {
                name: "no signer",
                body: r#"{"apiVersion":"0.0.1","kind":"dsse","spec":{}}"#,
                check: |e| matches!(e, Error::MissingField { .. }),
            },
            Case {
                name: "signer not base64",
                body: r#"{"apiVersion":"0.0.1","kind":"dsse","spec":{"signatures":[{"verifier":"%"}]}}"#,
                check: |e| matches!(e, Error::InvalidBase64 { .. }),
            },
            Case {
                name: "signer not PEM",
                body: r#"{"apiVersion":"0.0.1","kind":"dsse","spec":{"signatures":[{"verifier":"aGk="}]}}"#,
                check: |e| matches!(e, Error::InvalidPem { .. }),
            },
        ];
        for case in CASES {
            let error =
                Bundle::from_rekor_entry(content.clone(), Vec::new(), entry(case.body).as_bytes())
                    .unwrap_err();
            assert!((case.check)(&error), "{}: {error:?}", case.name);
        }
        // Given certificates, the body's signer is not needed; without a proof it is v0.1.
        let bundle = Bundle::from_rekor_entry(
            content,
            vec![vec![1], vec![2]],
            entry(r#"{"apiVersion":"0.0.1","kind":"dsse"}"#).as_bytes(),
        )
        .unwrap();
        assert_eq!(bundle.version(), Some(BundleVersion::V0_1));
        let entry = &bundle.verification_material.tlog_entries[0];
        assert_eq!(entry.kind_version, KindVersion::new("dsse", "0.0.1"));
        assert!(entry.inclusion_proof.is_none() && entry.inclusion_promise.is_none());
        assert!(matches!(
            &bundle.verification_material.content,
            VerificationContent::X509CertificateChain(c) if c.certificates.len() == 2
        ));
    }
}
