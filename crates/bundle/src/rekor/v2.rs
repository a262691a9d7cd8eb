//! Rekor v2 create requests (`POST /api/v2/log/entries`, protobuf JSON `CreateEntryRequest` of
//! sigstore/rekor-tiles `api/proto/rekor/v2/entry.proto`): `hashedrekord` 0.0.2 and `dsse`
//! 0.0.2, validated as rekor-tiles' `pkg/types/hashedrekord` and `pkg/types/dsse` do, with
//! bodies as rekor-tiles stores them (`protojson.Marshal` of the `Entry`, then RFC 8785).
//!
//! Parsing follows protobuf JSON strictly: unknown fields are refused; both the lowerCamelCase
//! and the proto field names are accepted; `bytes` may be standard or URL-safe base64.
//! Enums must be given by name.

use std::collections::BTreeMap;

use serde::Deserialize as _;
use serde_json::{Value, json};
use waxseal_crypto::{Algorithm, sha256, sha384, sha512};

use crate::dsse::{self, Envelope};
use crate::rekor::request::{self, Object, as_array, as_object, proto_bytes};
use crate::rekor::v1::artifact_term;
use crate::rekor::verifier::{Verifier, push_unique};
use crate::rekor::{Kind, SearchTerm, ValidatedEntry, intoto_subject_terms};
use crate::{Error, protojson};

/// rekor-tiles' limits on DSSE requests (`maxVerifiers`, `maxSignatures`).
const MAX_VERIFIERS: usize = 10;
const MAX_SIGNATURES: usize = 10;

/// Validates a create request and builds its canonical body; see
/// [`crate::rekor::validate_v2`].
pub(crate) fn validate(request_json: &[u8]) -> Result<ValidatedEntry, Error> {
    let value = request::parse(request_json)?;
    let root = Object::root(&value)?;
    const HASHED: [&str; 2] = ["hashedRekordRequestV002", "hashed_rekord_request_v002"];
    const DSSE: [&str; 2] = ["dsseRequestV002", "dsse_request_v002"];
    root.deny_unknown(&[HASHED[0], HASHED[1], DSSE[0], DSSE[1]])?;
    match (root.get_any(&HASHED), root.get_any(&DSSE)) {
        (Some((value, path)), None) => hashedrekord(&as_object(value, path)?),
        (None, Some((value, path))) => dsse_entry(&as_object(value, path)?),
        (hashed, dsse) => Err(Error::OneofCount {
            field: "the request".to_owned(),
            options: "hashedRekordRequestV002, dsseRequestV002",
            count: usize::from(hashed.is_some()) + usize::from(dsse.is_some()),
        }),
    }
}

/// A parsed `dev.sigstore.rekor.v2.Verifier`.
struct ParsedVerifier {
    verifier: Verifier,
    /// The verifier as rekor-tiles writes it back (protojson, then canonicalised).
    json: Value,
    /// The hash the `keyDetails` algorithm binds: its `HashAlgorithm` name and digest function.
    hash: HashAlgorithm,
}

/// A SHA-2 hash as Sigstore's `HashAlgorithm` enum names it.
#[derive(Debug, Clone, Copy)]
enum HashAlgorithm {
    Sha2_256,
    Sha2_384,
    Sha2_512,
}

impl HashAlgorithm {
    /// The hash of each `PublicKeyDetails` (sigstore/sigstore `algorithm_registry.go`).
    fn of(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::EcdsaP384Sha384 => Self::Sha2_384,
            Algorithm::EcdsaP521Sha512 | Algorithm::Ed25519 => Self::Sha2_512,
            _ => Self::Sha2_256,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Sha2_256 => "SHA2_256",
            Self::Sha2_384 => "SHA2_384",
            Self::Sha2_512 => "SHA2_512",
        }
    }

    fn display(self) -> &'static str {
        match self {
            Self::Sha2_256 => "SHA-256",
            Self::Sha2_384 => "SHA-384",
            Self::Sha2_512 => "SHA-512",
        }
    }

    fn len(self) -> usize {
        match self {
            Self::Sha2_256 => 32,
            Self::Sha2_384 => 48,
            Self::Sha2_512 => 64,
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha2_256 => sha256(data).to_vec(),
            Self::Sha2_384 => sha384(data).to_vec(),
            Self::Sha2_512 => sha512(data).to_vec(),
        }
    }
}

/// Reads a `Verifier` message: exactly one of `publicKey` / `x509Certificate`, each
/// `{rawBytes}` (DER), and `keyDetails`, which must name the key's algorithm.
fn parse_verifier(object: &Object<'_>) -> Result<ParsedVerifier, Error> {
    const PUBLIC_KEY: [&str; 2] = ["publicKey", "public_key"];
    const CERTIFICATE: [&str; 2] = ["x509Certificate", "x509_certificate"];
    const KEY_DETAILS: [&str; 2] = ["keyDetails", "key_details"];
    object.deny_unknown(&[
        PUBLIC_KEY[0],
        PUBLIC_KEY[1],
        CERTIFICATE[0],
        CERTIFICATE[1],
        KEY_DETAILS[0],
        KEY_DETAILS[1],
    ])?;
    let (key_details_value, key_details_field) =
        object
            .get_any(&KEY_DETAILS)
            .ok_or_else(|| Error::MissingField {
                field: object.path_of(KEY_DETAILS[0]),
            })?;
    let key_details = key_details_value.as_str().ok_or_else(|| Error::WrongType {
        field: key_details_field.clone(),
        expected: "a PublicKeyDetails name",
    })?;
    if key_details == "PUBLIC_KEY_DETAILS_UNSPECIFIED" {
        return Err(Error::MissingField {
            field: key_details_field,
        });
    }

    let raw_bytes = |member: Object<'_>| -> Result<(Vec<u8>, String), Error> {
        member.deny_unknown(&["rawBytes", "raw_bytes"])?;
        let (value, field) =
            member
                .get_any(&["rawBytes", "raw_bytes"])
                .ok_or_else(|| Error::MissingField {
                    field: member.path_of("rawBytes"),
                })?;
        let bytes = proto_bytes(value, &field)?;
        if bytes.is_empty() {
            return Err(Error::EmptyField { field });
        }
        Ok((bytes, field))
    };
    let (verifier, json_member) = match (object.get_any(&PUBLIC_KEY), object.get_any(&CERTIFICATE))
    {
        (Some((value, path)), None) => {
            let (der, field) = raw_bytes(as_object(value, path)?)?;
            let verifier = Verifier::from_spki_der(&field, &der)?;
            (verifier, ("publicKey", protojson::encode_base64(&der)))
        }
        (None, Some((value, path))) => {
            let (der, field) = raw_bytes(as_object(value, path)?)?;
            let verifier = Verifier::from_certificate_der(&field, &der)?;
            (
                verifier,
                ("x509Certificate", protojson::encode_base64(&der)),
            )
        }
        (key, certificate) => {
            return Err(Error::OneofCount {
                field: object.path().to_owned(),
                options: "publicKey, x509Certificate",
                count: usize::from(key.is_some()) + usize::from(certificate.is_some()),
            });
        }
    };

    let algorithm =
        Algorithm::from_key_details(key_details).map_err(|_| Error::UnsupportedKeyDetails {
            field: key_details_field.clone(),
            name: key_details.to_owned(),
        })?;
    let actual = verifier.key().key_details();
    if key_details != actual {
        return Err(Error::KeyDetailsMismatch {
            field: key_details_field,
            given: key_details.to_owned(),
            actual,
        });
    }
    let (member, raw) = json_member;
    Ok(ParsedVerifier {
        verifier,
        json: json!({"keyDetails": key_details, member: {"rawBytes": raw}}),
        hash: HashAlgorithm::of(algorithm),
    })
}

/// `hashedrekord` 0.0.2 (rekor-tiles `hashedrekord.ToLogEntry`).
fn hashedrekord(request: &Object<'_>) -> Result<ValidatedEntry, Error> {
    request.deny_unknown(&["digest", "signature"])?;
    let signature = request.object("signature")?;
    signature.deny_unknown(&["content", "verifier"])?;
    let content_field = signature.path_of("content");
    let content = match signature.get("content") {
        Some(value) => proto_bytes(value, &content_field)?,
        None => Vec::new(),
    };
    if content.is_empty() {
        return Err(Error::MissingField {
            field: content_field,
        });
    }
    let verifier_object = signature.object("verifier")?;
    let digest_field = request.path_of("digest");
    let digest = match request.get("digest") {
        Some(value) => proto_bytes(value, &digest_field)?,
        None => Vec::new(),
    };
    if digest.is_empty() {
        return Err(Error::MissingField {
            field: digest_field,
        });
    }
    let parsed = parse_verifier(&verifier_object)?;
    let key = parsed.verifier.key();
    if key.algorithm() == Algorithm::Ed25519 {
        return Err(Error::Ed25519PrehashUnsupported {
            field: verifier_object.path().to_owned(),
        });
    }
    if digest.len() != parsed.hash.len() {
        return Err(Error::DigestLength {
            field: digest_field,
            algorithm: parsed.hash.display(),
            expected: parsed.hash.len(),
            actual: digest.len(),
        });
    }
    key.verify_prehashed(&digest, &content)
        .map_err(|_| parsed.verifier.signature_invalid(content_field))?;

    let body = json!({
        "apiVersion": "0.0.2",
        "kind": "hashedrekord",
        "spec": {"hashedRekordV002": {
            "data": {"algorithm": parsed.hash.name(), "digest": protojson::encode_base64(&digest)},
            "signature": {"content": protojson::encode_base64(&content), "verifier": parsed.json},
        }},
    });
    let mut terms = Vec::new();
    parsed.verifier.add_search_terms(&mut terms);
    if let Some(term) = artifact_term(&digest) {
        push_unique(&mut terms, term);
    }
    Ok(ValidatedEntry::new(
        Kind::Hashedrekord,
        "0.0.2",
        request::canonicalize(&body)?,
        terms,
    ))
}

/// `dsse` 0.0.2 (rekor-tiles `dsse.ToLogEntry`; deprecated there in favour of a
/// `hashedrekord` over the PAE digest, and still accepted).
fn dsse_entry(request: &Object<'_>) -> Result<ValidatedEntry, Error> {
    request.deny_unknown(&["envelope", "verifiers"])?;
    let envelope_field = request.path_of("envelope");
    let envelope_value = request.get("envelope").ok_or_else(|| Error::MissingField {
        field: envelope_field.clone(),
    })?;
    as_object(envelope_value, envelope_field.clone())?;
    let envelope = Envelope::deserialize(envelope_value).map_err(|e| Error::InvalidEnvelope {
        field: envelope_field.clone(),
        reason: e.to_string(),
    })?;
    let verifiers_field = request.path_of("verifiers");
    let verifier_values = match request.get("verifiers") {
        Some(value) => as_array(value, &verifiers_field)?,
        None => &[],
    };
    if verifier_values.is_empty() {
        return Err(Error::MissingField {
            field: verifiers_field,
        });
    }
    if verifier_values.len() > MAX_VERIFIERS {
        return Err(Error::TooMany {
            field: verifiers_field,
            max: MAX_VERIFIERS,
            actual: verifier_values.len(),
        });
    }
    let signatures_field = format!("{envelope_field}.signatures");
    if envelope.signatures.is_empty() {
        return Err(Error::MissingField {
            field: signatures_field,
        });
    }
    if envelope.signatures.len() > MAX_SIGNATURES {
        return Err(Error::TooMany {
            field: signatures_field,
            max: MAX_SIGNATURES,
            actual: envelope.signatures.len(),
        });
    }
    if let Some(empty) = envelope.signatures.iter().position(|s| s.sig.is_empty()) {
        return Err(Error::EmptyField {
            field: format!("{signatures_field}[{empty}].sig"),
        });
    }
    let verifiers = verifier_values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let path = format!("{verifiers_field}[{i}]");
            parse_verifier(&as_object(value, path)?)
        })
        .collect::<Result<Vec<_>, _>>()?;

    // go-securesystemslib's EnvelopeVerifier per verifier, each loaded with the hash its
    // keyDetails name; verifiers are tried until every signature has one.
    let pae = dsse::pae(&envelope.payload_type, &envelope.payload);
    let mut key_by_sig: BTreeMap<&[u8], usize> = BTreeMap::new();
    for (index, parsed) in verifiers.iter().enumerate() {
        if envelope
            .signatures
            .iter()
            .all(|s| key_by_sig.contains_key(s.sig.as_slice()))
        {
            break;
        }
        let key = parsed.verifier.key();
        let digest = parsed.hash.digest(&pae);
        let accepted = envelope.signatures.iter().find(|s| {
            match key.algorithm() {
                Algorithm::Ed25519 => key.verify(&pae, &s.sig),
                _ => key.verify_prehashed(&digest, &s.sig),
            }
            .is_ok()
        });
        let Some(accepted) = accepted else {
            return Err(Error::DsseVerifierUnused {
                field: format!("{verifiers_field}[{index}]"),
            });
        };
        key_by_sig.insert(accepted.sig.as_slice(), index);
    }
    if let Some(unverified) = envelope
        .signatures
        .iter()
        .position(|s| !key_by_sig.contains_key(s.sig.as_slice()))
    {
        return Err(Error::DsseSignatureUnverified {
            field: format!("{signatures_field}[{unverified}]"),
        });
    }

    // Sorted by the raw signature bytes, one per distinct signature.
    let mut stored = Vec::with_capacity(key_by_sig.len());
    let mut terms = Vec::new();
    for (sig, &index) in &key_by_sig {
        let Some(parsed) = verifiers.get(index) else {
            continue;
        };
        stored.push(json!({
            "content": protojson::encode_base64(sig),
            "verifier": parsed.json,
        }));
        parsed.verifier.add_search_terms(&mut terms);
    }
    let payload_hash = sha256(&envelope.payload);
    let body = json!({
        "apiVersion": "0.0.2",
        "kind": "dsse",
        "spec": {"dsseV002": {
            "payloadHash": {"algorithm": "SHA2_256", "digest": protojson::encode_base64(&payload_hash)},
            "signatures": stored,
        }},
    });
    push_unique(&mut terms, SearchTerm::Sha256Artifact(payload_hash));
    for term in intoto_subject_terms(&envelope.payload_type, &envelope.payload) {
        push_unique(&mut terms, term);
    }
    Ok(ValidatedEntry::new(
        Kind::Dsse,
        "0.0.2",
        request::canonicalize(&body)?,
        terms,
    ))
}
