//! Signed certificate timestamps for precertificates: RFC 6962 §3.2 (the `digitally-signed`
//! input), §3.3 (the `SignedCertificateTimestampList` extension), and the C2SP static-ct-api
//! `leaf_index` SCT extension.

use std::fmt;

use der::asn1::OctetString;
use der::{Decode, Encode};
use waxseal_crypto::{Algorithm, PublicKey, SigningKey};

use crate::Error;

/// TLS `HashAlgorithm` sha256 (RFC 5246 §7.4.1.4.1).
const HASH_SHA256: u8 = 4;
/// TLS `HashAlgorithm` sha384.
const HASH_SHA384: u8 = 5;
/// TLS `SignatureAlgorithm` ecdsa.
const SIGNATURE_ECDSA: u8 = 3;
/// RFC 6962 `Version` v1.
const VERSION_V1: u8 = 0;
/// RFC 6962 `SignatureType` certificate_timestamp.
const SIGNATURE_TYPE_CERTIFICATE_TIMESTAMP: u8 = 0;
/// RFC 6962 `LogEntryType` x509_entry.
const ENTRY_TYPE_X509: u16 = 0;
/// RFC 6962 `LogEntryType` precert_entry.
const ENTRY_TYPE_PRECERT: u16 = 1;
/// static-ct-api `ExtensionType` leaf_index.
const EXTENSION_LEAF_INDEX: u8 = 0;
/// Largest `uint40`.
const MAX_LEAF_INDEX: u64 = (1 << 40) - 1;

/// An RFC 6962 v1 signed certificate timestamp for a precertificate.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedCertificateTimestamp {
    log_id: [u8; 32],
    timestamp: u64,
    extensions: Vec<u8>,
    hash_algorithm: u8,
    signature_algorithm: u8,
    signature: Vec<u8>,
}

impl SignedCertificateTimestamp {
    /// Parses one TLS-encoded `SignedCertificateTimestamp` (RFC 6962 §3.2), which must be v1.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedSct`] for a bad encoding or trailing bytes,
    /// [`Error::SctVersionUnsupported`] for other versions.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = TlsReader(bytes);
        let version = r.u8()?;
        if version != VERSION_V1 {
            return Err(Error::SctVersionUnsupported { version });
        }
        let log_id = r.array::<32>()?;
        let timestamp = u64::from_be_bytes(r.array::<8>()?);
        let extensions = r.vec16()?.to_vec();
        let hash_algorithm = r.u8()?;
        let signature_algorithm = r.u8()?;
        let signature = r.vec16()?.to_vec();
        if !r.0.is_empty() {
            return Err(Error::MalformedSct {
                reason: "trailing bytes after the signature",
            });
        }
        Ok(Self {
            log_id,
            timestamp,
            extensions,
            hash_algorithm,
            signature_algorithm,
            signature,
        })
    }

    /// The TLS encoding (RFC 6962 §3.2 `SignedCertificateTimestamp`).
    ///
    /// # Errors
    ///
    /// [`Error::MalformedSct`] if the extensions or signature exceed 65535 bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(47 + self.extensions.len() + self.signature.len());
        out.push(VERSION_V1);
        out.extend_from_slice(&self.log_id);
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        push_vec16(
            &mut out,
            &self.extensions,
            "SCT extensions exceed 65535 bytes",
        )?;
        out.push(self.hash_algorithm);
        out.push(self.signature_algorithm);
        push_vec16(
            &mut out,
            &self.signature,
            "SCT signature exceeds 65535 bytes",
        )?;
        Ok(out)
    }

    /// The log ID: SHA-256 of the CT log key's DER SubjectPublicKeyInfo.
    pub fn log_id(&self) -> &[u8; 32] {
        &self.log_id
    }

    /// Milliseconds since the Unix epoch.
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// The raw `CtExtensions` bytes.
    pub fn extensions(&self) -> &[u8] {
        &self.extensions
    }

    /// The signature (ASN.1 DER ECDSA).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The static-ct-api `leaf_index`, if the extensions carry one.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedSct`] if the extensions are not a valid static-ct-api list.
    pub fn leaf_index(&self) -> Result<Option<u64>, Error> {
        let mut r = TlsReader(&self.extensions);
        while !r.0.is_empty() {
            let kind = r.u8()?;
            let data = r.vec16()?;
            if kind == EXTENSION_LEAF_INDEX {
                let bytes: [u8; 5] = data.try_into().map_err(|_| Error::MalformedSct {
                    reason: "leaf_index is not a 5-byte uint40",
                })?;
                let mut wide = [0u8; 8];
                wide[3..].copy_from_slice(&bytes);
                return Ok(Some(u64::from_be_bytes(wide)));
            }
        }
        Ok(None)
    }
}

impl fmt::Debug for SignedCertificateTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedCertificateTimestamp")
            .field("log_id", &hex(&self.log_id))
            .field("timestamp", &self.timestamp)
            .field("extensions", &hex(&self.extensions))
            .finish_non_exhaustive()
    }
}

/// The static-ct-api `CtExtensions` bytes holding `leaf_index` (extension type 0, a 5-byte
/// big-endian `uint40`).
///
/// # Errors
///
/// [`Error::LeafIndexOutOfRange`] above 2^40 - 1.
pub fn leaf_index_extension(leaf_index: u64) -> Result<Vec<u8>, Error> {
    if leaf_index > MAX_LEAF_INDEX {
        return Err(Error::LeafIndexOutOfRange { index: leaf_index });
    }
    let mut out = vec![EXTENSION_LEAF_INDEX, 0, 5];
    out.extend_from_slice(&leaf_index.to_be_bytes()[3..]);
    Ok(out)
}

/// The RFC 6962 §3.2 `digitally-signed` input for a precertificate entry: version v1,
/// signature_type certificate_timestamp, `timestamp`, entry_type precert_entry,
/// `issuer_key_hash`, `tbs_certificate` (the precertificate TBS without the poison extension,
/// 24-bit length), `extensions` (16-bit length).
///
/// # Errors
///
/// [`Error::MalformedSct`] if `tbs_certificate` is empty or exceeds 2^24 - 1 bytes or the
/// extensions exceed 65535 bytes.
pub fn sct_signing_input(
    timestamp: u64,
    issuer_key_hash: &[u8; 32],
    tbs_certificate: &[u8],
    extensions: &[u8],
) -> Result<Vec<u8>, Error> {
    signing_input(
        timestamp,
        SignedEntry::Precert {
            issuer_key_hash,
            tbs_certificate,
        },
        extensions,
    )
}

/// The RFC 6962 §3.2 `digitally-signed` input for an `x509_entry` (a final certificate
/// submitted with `add-chain`): version v1, certificate_timestamp, `timestamp`, entry_type
/// x509_entry, the certificate (24-bit length), `extensions` (16-bit length).
///
/// # Errors
///
/// [`Error::MalformedSct`] if the certificate is empty or exceeds 2^24 - 1 bytes or the
/// extensions exceed 65535 bytes.
pub fn x509_sct_signing_input(
    timestamp: u64,
    certificate: &[u8],
    extensions: &[u8],
) -> Result<Vec<u8>, Error> {
    signing_input(timestamp, SignedEntry::X509 { certificate }, extensions)
}

/// What an SCT signs after its timestamp: the entry type and the entry.
#[derive(Clone, Copy)]
enum SignedEntry<'a> {
    Precert {
        issuer_key_hash: &'a [u8; 32],
        tbs_certificate: &'a [u8],
    },
    X509 {
        certificate: &'a [u8],
    },
}

fn signing_input(
    timestamp: u64,
    entry: SignedEntry<'_>,
    extensions: &[u8],
) -> Result<Vec<u8>, Error> {
    let (entry_type, key_hash, body, reason): (_, &[u8], _, _) = match entry {
        SignedEntry::Precert {
            issuer_key_hash,
            tbs_certificate,
        } => (
            ENTRY_TYPE_PRECERT,
            issuer_key_hash,
            tbs_certificate,
            "precertificate TBS must be 1 to 2^24-1 bytes",
        ),
        SignedEntry::X509 { certificate } => (
            ENTRY_TYPE_X509,
            &[],
            certificate,
            "certificate must be 1 to 2^24-1 bytes",
        ),
    };
    let len = u32::try_from(body.len())
        .ok()
        .filter(|l| (1..1 << 24).contains(l))
        .ok_or(Error::MalformedSct { reason })?;
    let mut out = Vec::with_capacity(body.len() + extensions.len() + 51);
    out.push(VERSION_V1);
    out.push(SIGNATURE_TYPE_CERTIFICATE_TIMESTAMP);
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.extend_from_slice(&entry_type.to_be_bytes());
    out.extend_from_slice(key_hash);
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.extend_from_slice(body);
    push_vec16(&mut out, extensions, "SCT extensions exceed 65535 bytes")?;
    Ok(out)
}

/// Signs an SCT for a final certificate (`x509_entry`), as [`sign_sct`] does for
/// precertificates.
///
/// # Errors
///
/// As [`sign_sct`], with the errors of [`x509_sct_signing_input`].
pub fn sign_x509_sct(
    ct_key: &SigningKey,
    timestamp: u64,
    leaf_index: Option<u64>,
    certificate: &[u8],
) -> Result<SignedCertificateTimestamp, Error> {
    sign(
        ct_key,
        timestamp,
        leaf_index,
        SignedEntry::X509 { certificate },
    )
}

/// Signs an SCT for a precertificate with the CT log key (ECDSA P-256 with SHA-256, what
/// Sigstore clients accept, or P-384 with SHA-384), carrying `leaf_index` as a static-ct-api
/// extension when given. `timestamp` is in milliseconds since the Unix epoch.
///
/// # Errors
///
/// [`Error::SctKeyUnsupported`] for other keys, [`Error::LeafIndexOutOfRange`], the errors of
/// [`sct_signing_input`], and [`Error::Signing`].
pub fn sign_sct(
    ct_key: &SigningKey,
    timestamp: u64,
    leaf_index: Option<u64>,
    issuer_key_hash: &[u8; 32],
    precert_tbs: &[u8],
) -> Result<SignedCertificateTimestamp, Error> {
    sign(
        ct_key,
        timestamp,
        leaf_index,
        SignedEntry::Precert {
            issuer_key_hash,
            tbs_certificate: precert_tbs,
        },
    )
}

fn sign(
    ct_key: &SigningKey,
    timestamp: u64,
    leaf_index: Option<u64>,
    entry: SignedEntry<'_>,
) -> Result<SignedCertificateTimestamp, Error> {
    let hash_algorithm = sct_hash_algorithm(ct_key.algorithm())?;
    let extensions = match leaf_index {
        Some(index) => leaf_index_extension(index)?,
        None => Vec::new(),
    };
    let input = signing_input(timestamp, entry, &extensions)?;
    let signature = ct_key.sign(&input).map_err(Error::Signing)?;
    Ok(SignedCertificateTimestamp {
        log_id: waxseal_crypto::sha256(ct_key.public_key().spki_der()),
        timestamp,
        extensions,
        hash_algorithm,
        signature_algorithm: SIGNATURE_ECDSA,
        signature,
    })
}

/// Verifies an SCT against the CT log key, the issuing CA's key hash and the precertificate TBS
/// (without the poison extension, or equivalently the final TBS without the SCT list).
///
/// # Errors
///
/// [`Error::SctLogIdMismatch`] if the SCT is not from this key, [`Error::SctKeyUnsupported`]
/// and [`Error::SctAlgorithmUnsupported`] for algorithms, [`Error::SctSignatureInvalid`] if the
/// signature does not verify.
pub fn verify_sct(
    sct: &SignedCertificateTimestamp,
    ct_key: &PublicKey,
    issuer_key_hash: &[u8; 32],
    precert_tbs: &[u8],
) -> Result<(), Error> {
    let log_id = waxseal_crypto::sha256(ct_key.spki_der());
    if log_id != sct.log_id {
        return Err(Error::SctLogIdMismatch {
            expected: hex(&log_id),
            actual: hex(&sct.log_id),
        });
    }
    let hash = sct_hash_algorithm(ct_key.algorithm())?;
    if sct.hash_algorithm != hash || sct.signature_algorithm != SIGNATURE_ECDSA {
        return Err(Error::SctAlgorithmUnsupported {
            hash: sct.hash_algorithm,
            signature: sct.signature_algorithm,
            expected: if hash == HASH_SHA256 {
                "sha256 (4) / ecdsa (3)"
            } else {
                "sha384 (5) / ecdsa (3)"
            },
        });
    }
    let input = sct_signing_input(sct.timestamp, issuer_key_hash, precert_tbs, &sct.extensions)?;
    ct_key
        .verify(&input, &sct.signature)
        .map_err(|_| Error::SctSignatureInvalid)
}

/// The extnValue contents of the RFC 6962 §3.3 SCT list extension: a DER OCTET STRING holding
/// the TLS `SignedCertificateTimestampList` (16-bit list length, then each SCT with a 16-bit
/// length).
///
/// # Errors
///
/// [`Error::MalformedSct`] if an SCT or the list exceeds 65535 bytes.
pub fn encode_sct_list(scts: &[SignedCertificateTimestamp]) -> Result<Vec<u8>, Error> {
    let mut list = Vec::new();
    for sct in scts {
        push_vec16(&mut list, &sct.to_bytes()?, "an SCT exceeds 65535 bytes")?;
    }
    let mut tls = Vec::with_capacity(list.len() + 2);
    push_vec16(&mut tls, &list, "the SCT list exceeds 65535 bytes")?;
    let too_long = |_| Error::MalformedSct {
        reason: "the SCT list is too long",
    };
    OctetString::new(tls)
        .map_err(too_long)?
        .to_der()
        .map_err(too_long)
}

/// Parses the extnValue contents of an SCT list extension (see [`encode_sct_list`]).
///
/// # Errors
///
/// [`Error::MalformedSct`] for a bad encoding, an empty list or trailing bytes, and the errors
/// of [`SignedCertificateTimestamp::from_bytes`].
pub fn parse_sct_list(extn_value: &[u8]) -> Result<Vec<SignedCertificateTimestamp>, Error> {
    let octets = OctetString::from_der(extn_value).map_err(|_| Error::MalformedSct {
        reason: "the SCT list extension is not a DER OCTET STRING",
    })?;
    let mut outer = TlsReader(octets.as_bytes());
    let mut list = TlsReader(outer.vec16()?);
    if !outer.0.is_empty() {
        return Err(Error::MalformedSct {
            reason: "trailing bytes after the SCT list",
        });
    }
    let mut scts = Vec::new();
    while !list.0.is_empty() {
        scts.push(SignedCertificateTimestamp::from_bytes(list.vec16()?)?);
    }
    if scts.is_empty() {
        return Err(Error::MalformedSct {
            reason: "the SCT list is empty",
        });
    }
    Ok(scts)
}

fn sct_hash_algorithm(algorithm: Algorithm) -> Result<u8, Error> {
    match algorithm {
        Algorithm::EcdsaP256Sha256 => Ok(HASH_SHA256),
        Algorithm::EcdsaP384Sha384 => Ok(HASH_SHA384),
        other => Err(Error::SctKeyUnsupported { algorithm: other }),
    }
}

fn push_vec16(out: &mut Vec<u8>, data: &[u8], reason: &'static str) -> Result<(), Error> {
    let len = u16::try_from(data.len()).map_err(|_| Error::MalformedSct { reason })?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(data);
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A cursor over TLS presentation-language bytes.
struct TlsReader<'a>(&'a [u8]);

impl<'a> TlsReader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        match self.0.split_at_checked(n) {
            Some((head, tail)) => {
                self.0 = tail;
                Ok(head)
            }
            None => Err(Error::MalformedSct {
                reason: "truncated",
            }),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        self.take(N)?.try_into().map_err(|_| Error::MalformedSct {
            reason: "truncated",
        })
    }

    fn u8(&mut self) -> Result<u8, Error> {
        Ok(u8::from_be_bytes(self.array::<1>()?))
    }

    fn vec16(&mut self) -> Result<&'a [u8], Error> {
        let len = usize::from(u16::from_be_bytes(self.array::<2>()?));
        self.take(len)
    }
}
