//! Timestamp requests: DER `TimeStampReq` (RFC 3161 §2.4.1) and the JSON form of
//! sigstore/timestamp-authority (`pkg/api/timestamp.go`, `JSONRequest`).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use der::asn1::{Int, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;

use crate::asn1::{MessageImprint, TimeStampReq};
use crate::{Error, oid};

/// A hash algorithm accepted in a message imprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256 (FIPS 180-4).
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// The digest length in bytes.
    pub const fn output_len(&self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// Hashes `data`.
    pub fn digest(&self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => waxseal_crypto::sha256(data).to_vec(),
            Self::Sha384 => waxseal_crypto::sha384(data).to_vec(),
            Self::Sha512 => waxseal_crypto::sha512(data).to_vec(),
        }
    }

    pub(crate) const fn oid(&self) -> ObjectIdentifier {
        match self {
            Self::Sha256 => oid::SHA256,
            Self::Sha384 => oid::SHA384,
            Self::Sha512 => oid::SHA512,
        }
    }

    pub(crate) fn from_oid(algorithm: &ObjectIdentifier) -> Result<Self, Error> {
        match *algorithm {
            oid::SHA256 => Ok(Self::Sha256),
            oid::SHA384 => Ok(Self::Sha384),
            oid::SHA512 => Ok(Self::Sha512),
            oid::SHA1 => Err(Error::WeakHashAlgorithm {
                name: algorithm.to_string(),
            }),
            _ => Err(Error::UnsupportedHashAlgorithm {
                name: algorithm.to_string(),
            }),
        }
    }

    /// Parses the timestamp-authority JSON name, case-insensitively (`sha256`, `sha384`,
    /// `sha512`).
    ///
    /// # Errors
    ///
    /// [`Error::WeakHashAlgorithm`] for `sha1`, [`Error::UnsupportedHashAlgorithm`] otherwise.
    pub fn from_name(name: &str) -> Result<Self, Error> {
        match name.to_ascii_lowercase().as_str() {
            "sha256" => Ok(Self::Sha256),
            "sha384" => Ok(Self::Sha384),
            "sha512" => Ok(Self::Sha512),
            "sha1" => Err(Error::WeakHashAlgorithm {
                name: name.to_owned(),
            }),
            _ => Err(Error::UnsupportedHashAlgorithm {
                name: name.to_owned(),
            }),
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        })
    }
}

/// A validated timestamp request: version 1, a SHA-256/384/512 imprint of the right length, no
/// extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeStampRequest {
    /// The imprint as received (its AlgorithmIdentifier is copied into the TSTInfo verbatim,
    /// parameters included, RFC 3161 §2.4.2).
    imprint: MessageImprint,
    hash_algorithm: HashAlgorithm,
    policy: Option<ObjectIdentifier>,
    nonce: Option<Int>,
    cert_req: bool,
}

impl TimeStampRequest {
    /// A request for `digest`, computed with `hash_algorithm`; no nonce, no policy, certReq
    /// false.
    ///
    /// # Errors
    ///
    /// [`Error::DigestLengthMismatch`] if `digest` is not the algorithm's length.
    pub fn new(hash_algorithm: HashAlgorithm, digest: &[u8]) -> Result<Self, Error> {
        check_len(hash_algorithm, digest)?;
        Ok(Self {
            imprint: MessageImprint {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid: hash_algorithm.oid(),
                    parameters: None,
                },
                hashed_message: OctetString::new(digest)
                    .map_err(Error::encode("MessageImprint"))?,
            },
            hash_algorithm,
            policy: None,
            nonce: None,
            cert_req: false,
        })
    }

    /// Sets the nonce.
    #[must_use]
    pub fn with_nonce(mut self, nonce: u64) -> Self {
        self.nonce = int_from(&nonce).ok();
        self
    }

    /// Sets certReq: whether the TSA certificate is to be included in the token.
    #[must_use]
    pub fn with_cert_req(mut self, cert_req: bool) -> Self {
        self.cert_req = cert_req;
        self
    }

    /// Parses and validates a DER `TimeStampReq` (the `application/timestamp-query` body).
    ///
    /// # Errors
    ///
    /// [`Error::MalformedDer`] for bad DER, [`Error::UnsupportedVersion`] unless version 1,
    /// [`Error::WeakHashAlgorithm`] for SHA-1, [`Error::UnsupportedHashAlgorithm`] for other
    /// hashes, [`Error::DigestLengthMismatch`], [`Error::UnsupportedExtensions`].
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        let req = TimeStampReq::from_der(der).map_err(Error::der("TimeStampReq"))?;
        if req.version != 1 {
            return Err(Error::UnsupportedVersion {
                structure: "TimeStampReq",
                version: req.version.into(),
                expected: 1,
            });
        }
        if let Some(extensions) = &req.extensions {
            return Err(Error::UnsupportedExtensions {
                count: extensions.len(),
            });
        }
        let hash_algorithm = HashAlgorithm::from_oid(&req.message_imprint.hash_algorithm.oid)?;
        check_len(
            hash_algorithm,
            req.message_imprint.hashed_message.as_bytes(),
        )?;
        Ok(Self {
            imprint: req.message_imprint,
            hash_algorithm,
            policy: req.req_policy,
            nonce: req.nonce,
            cert_req: req.cert_req,
        })
    }

    /// Parses and validates the sigstore/timestamp-authority JSON request (the
    /// `application/json` body): `{"artifactHash": base64 digest, "hashAlgorithm": "sha256" |
    /// "sha384" | "sha512", "nonce"?: integer, "certificates"?: bool, "tsaPolicyOID"?: dotted}`.
    /// Unknown keys are ignored, as Go's `encoding/json` does. A nonce must fit in an `i64`.
    ///
    /// # Errors
    ///
    /// [`Error::JsonInvalid`] for malformed JSON, bad base64, a bad policy OID or a nonce out of
    /// range; the hash and length errors of [`TimeStampRequest::from_der`].
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct JsonRequest {
            artifact_hash: String,
            #[serde(default)]
            certificates: bool,
            hash_algorithm: String,
            #[serde(default)]
            nonce: Option<i64>,
            #[serde(default, rename = "tsaPolicyOID")]
            tsa_policy_oid: Option<String>,
        }
        let invalid = |reason: String| Error::JsonInvalid { reason };
        let req: JsonRequest = serde_json::from_slice(json).map_err(|e| invalid(e.to_string()))?;
        let hash_algorithm = HashAlgorithm::from_name(&req.hash_algorithm)?;
        let digest = STANDARD
            .decode(req.artifact_hash.as_bytes())
            .map_err(|e| invalid(format!("artifactHash is not base64: {e}")))?;
        let mut out = Self::new(hash_algorithm, &digest)?.with_cert_req(req.certificates);
        out.nonce = req.nonce.as_ref().map(int_from).transpose()?;
        out.policy = match req.tsa_policy_oid.as_deref() {
            None | Some("") => None,
            Some(dotted) => Some(
                ObjectIdentifier::new(dotted)
                    .map_err(|e| invalid(format!("tsaPolicyOID {dotted:?}: {e}")))?,
            ),
        };
        Ok(out)
    }

    /// Encodes the request as a DER `TimeStampReq`.
    ///
    /// # Errors
    ///
    /// [`Error::Encode`] if encoding fails (it does not for validated requests).
    pub fn to_der(&self) -> Result<Vec<u8>, Error> {
        TimeStampReq {
            version: 1,
            message_imprint: self.imprint.clone(),
            req_policy: self.policy,
            nonce: self.nonce.clone(),
            cert_req: self.cert_req,
            extensions: None,
        }
        .to_der()
        .map_err(Error::encode("TimeStampReq"))
    }

    /// The imprint's hash algorithm.
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        self.hash_algorithm
    }

    /// The imprint's digest.
    pub fn digest(&self) -> &[u8] {
        self.imprint.hashed_message.as_bytes()
    }

    /// The requested policy, dotted, if any.
    pub fn policy(&self) -> Option<String> {
        self.policy.map(|p| p.to_string())
    }

    /// The nonce's big-endian two's-complement bytes, if any.
    pub fn nonce(&self) -> Option<&[u8]> {
        self.nonce.as_ref().map(Int::as_bytes)
    }

    /// Whether the requester asked for the TSA certificate in the token.
    pub fn cert_req(&self) -> bool {
        self.cert_req
    }

    pub(crate) fn imprint(&self) -> &MessageImprint {
        &self.imprint
    }

    pub(crate) fn policy_oid(&self) -> Option<ObjectIdentifier> {
        self.policy
    }

    pub(crate) fn nonce_int(&self) -> Option<&Int> {
        self.nonce.as_ref()
    }
}

fn check_len(algorithm: HashAlgorithm, digest: &[u8]) -> Result<(), Error> {
    if digest.len() == algorithm.output_len() {
        Ok(())
    } else {
        Err(Error::DigestLengthMismatch {
            algorithm,
            expected: algorithm.output_len(),
            actual: digest.len(),
        })
    }
}

/// A native integer as an ASN.1 INTEGER.
pub(crate) fn int_from<T: Encode>(n: &T) -> Result<Int, Error> {
    let der = n.to_der().map_err(Error::encode("INTEGER"))?;
    Int::from_der(&der).map_err(Error::encode("INTEGER"))
}
