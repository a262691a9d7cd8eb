//! Verified facts: what the caller's cryptographic verification established about an image's
//! signatures and attestations. This crate trusts them as given.

use std::collections::BTreeMap;

/// Everything verified about one image.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Facts {
    /// Verified image signatures.
    pub signatures: Vec<SignatureFact>,
    /// Verified attestations (in-toto statements in DSSE envelopes) about the image.
    pub attestations: Vec<AttestationFact>,
}

impl Facts {
    /// Facts from verified signatures and attestations.
    pub fn new(signatures: Vec<SignatureFact>, attestations: Vec<AttestationFact>) -> Self {
        Self {
            signatures,
            attestations,
        }
    }
}

/// A signature the caller has ALREADY verified cryptographically: certificate chain, SCT,
/// transparency log entry, signature and subject digest against the image.
///
/// Build one with [`SignatureFact::keyless`] or [`SignatureFact::key`] and the `with_*`
/// methods; the fields are public to read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureFact {
    /// policy-controller's signature id: hex SHA-256 of the signature bytes followed by the
    /// certificate PEM (the caller computes it).
    pub id: String,
    /// Who signed.
    pub signer: Signer,
    /// The `trustRootRef` name the signature verified under; `None` for the caller's default
    /// trusted root.
    pub trust_root: Option<String>,
    /// A transparency log entry was verified.
    pub tlog_verified: bool,
    /// How many RFC 3161 timestamps verified.
    pub rfc3161_timestamps: usize,
}

impl SignatureFact {
    /// A Fulcio-certificate signature by `subject` (the SAN) from OIDC `issuer`, verified under
    /// the default trusted root with a transparency log entry.
    pub fn keyless(
        id: impl Into<String>,
        subject: impl Into<String>,
        issuer: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            signer: Signer::Keyless {
                subject: subject.into(),
                issuer: issuer.into(),
                extensions: BTreeMap::new(),
                ca_uri: None,
            },
            trust_root: None,
            tlog_verified: true,
            rfc3161_timestamps: 0,
        }
    }

    /// A signature by the key with this SubjectPublicKeyInfo DER, verified under the default
    /// trusted root with a transparency log entry.
    pub fn key(id: impl Into<String>, spki_der: impl Into<Vec<u8>>) -> Self {
        Self {
            id: id.into(),
            signer: Signer::Key {
                spki_der: spki_der.into(),
            },
            trust_root: None,
            tlog_verified: true,
            rfc3161_timestamps: 0,
        }
    }

    /// This fact, verified under the named TrustRoot instead of the default.
    #[must_use]
    pub fn with_trust_root(mut self, name: impl Into<String>) -> Self {
        self.trust_root = Some(name.into());
        self
    }

    /// This fact, with or without a verified transparency log entry.
    #[must_use]
    pub fn with_tlog_verified(mut self, verified: bool) -> Self {
        self.tlog_verified = verified;
        self
    }

    /// This fact, with `count` verified RFC 3161 timestamps.
    #[must_use]
    pub fn with_rfc3161_timestamps(mut self, count: usize) -> Self {
        self.rfc3161_timestamps = count;
        self
    }

    /// This keyless fact with a Fulcio certificate extension (`1.3.6.1.4.1.57264.1.N` →
    /// value); no effect on a key fact.
    #[must_use]
    pub fn with_extension(mut self, oid: impl Into<String>, value: impl Into<String>) -> Self {
        if let Signer::Keyless { extensions, .. } = &mut self.signer {
            extensions.insert(oid.into(), value.into());
        }
        self
    }

    /// This keyless fact with the URI of the CA that issued its certificate (compared with
    /// `keyless.url`); no effect on a key fact.
    #[must_use]
    pub fn with_ca_uri(mut self, uri: impl Into<String>) -> Self {
        if let Signer::Keyless { ca_uri, .. } = &mut self.signer {
            *ca_uri = Some(uri.into());
        }
        self
    }
}

/// Who made a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Signer {
    /// A signing key (public key given as SubjectPublicKeyInfo DER).
    Key {
        /// The SPKI DER of the verifying key.
        spki_der: Vec<u8>,
    },
    /// A Fulcio certificate.
    Keyless {
        /// The certificate's SAN.
        subject: String,
        /// The OIDC issuer extension.
        issuer: String,
        /// Fulcio extensions, OID (`1.3.6.1.4.1.57264.1.N`) → value.
        extensions: BTreeMap<String, String>,
        /// The URI of the trusted-root CA the chain verified to, compared with
        /// `keyless.url` when present.
        ca_uri: Option<String>,
    },
}

/// A verified attestation: its envelope's signature and the in-toto statement it carries.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AttestationFact {
    /// The envelope's verified signature.
    pub signature: SignatureFact,
    /// The statement's `predicateType` URI.
    pub predicate_type: String,
    /// The whole in-toto statement (`_type`, `subject`, `predicateType`, `predicate`): the
    /// `input` of attestation policies.
    pub statement: serde_json::Value,
}

impl AttestationFact {
    /// An attestation fact.
    pub fn new(
        signature: SignatureFact,
        predicate_type: impl Into<String>,
        statement: serde_json::Value,
    ) -> Self {
        Self {
            signature,
            predicate_type: predicate_type.into(),
            statement,
        }
    }

    /// An attestation fact taking the predicate type from the statement's `predicateType`
    /// (empty when absent, which matches no policy).
    pub fn from_statement(signature: SignatureFact, statement: serde_json::Value) -> Self {
        let predicate_type = statement
            .get("predicateType")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Self::new(signature, predicate_type, statement)
    }
}
