//! Offline verification of a `TimeStampResp` against a TSA certificate chain (RFC 3161 §2.4.2,
//! RFC 5652 §5.4-5.6, RFC 5816 §2.2.1), as sigstore-python (rfc3161-client) and sigstore-js check
//! it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use x509_cert::attr::Attribute;

use crate::asn1::{SigningCertificateV2, TimeStampResp, TstInfo};
use crate::cert::{Cert, ChainCheck, check_chain, verify_signature};
use crate::{Error, HashAlgorithm, oid};

/// Extra requirements on a timestamp, beyond the checks [`verify_timestamp`] always makes.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct VerifyOptions {
    nonce: Option<u64>,
    policy: Option<String>,
}

impl VerifyOptions {
    /// Requires the TSTInfo nonce to be `nonce` (the one sent in the request).
    #[must_use]
    pub fn with_nonce(mut self, nonce: u64) -> Self {
        self.nonce = Some(nonce);
        self
    }

    /// Requires the TSTInfo policy to be `policy` (dotted OID).
    #[must_use]
    pub fn with_policy(mut self, policy: &str) -> Self {
        self.policy = Some(policy.to_owned());
        self
    }
}

/// Proof that a timestamp verified: the facts it attests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTimestamp {
    gen_time: SystemTime,
    serial: Vec<u8>,
    policy: String,
    hash_algorithm: HashAlgorithm,
}

impl VerifiedTimestamp {
    /// The TSTInfo genTime.
    pub fn gen_time(&self) -> SystemTime {
        self.gen_time
    }

    /// The TSTInfo serial number, big-endian two's-complement bytes as encoded.
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }

    /// The TSTInfo policy, dotted.
    pub fn policy(&self) -> &str {
        &self.policy
    }

    /// The imprint's hash algorithm.
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        self.hash_algorithm
    }
}

/// Verifies the DER `TimeStampResp` `response` over `timestamped` (the bytes whose hash is the
/// imprint: for Sigstore, the artifact signature bytes or the DSSE signature) against the TSA
/// chain `chain_der` (DER, TSA leaf first, root last, as a trusted root's
/// `timestampAuthorities[].certChain` lists it). Same as [`verify_timestamp_with`] with default
/// options.
///
/// # Errors
///
/// See [`verify_timestamp_with`].
pub fn verify_timestamp(
    response: &[u8],
    timestamped: &[u8],
    chain_der: &[&[u8]],
) -> Result<VerifiedTimestamp, Error> {
    verify_timestamp_with(response, timestamped, chain_der, &VerifyOptions::default())
}

/// Verifies a timestamp, failing closed. Checks, in order: status granted with a token;
/// SignedData with exactly one SignerInfo whose sid is the leaf's issuer and serial number;
/// encapsulated content type and the contentType attribute are id-ct-TSTInfo; messageDigest is
/// the hash of the TSTInfo; signingCertificateV2 names the leaf by hash (and issuer/serial if
/// given); the signature over the signed attributes verifies with the leaf key; the chain
/// verifies to its self-signed root with every certificate valid at genTime and the leaf's
/// critical EKU id-kp-timeStamping; the imprint is the hash of `timestamped`; and the options.
///
/// Certificates embedded in the token are ignored: trust comes only from `chain_der`.
///
/// # Errors
///
/// [`Error::MalformedDer`], [`Error::NotGranted`], [`Error::SignerCount`],
/// [`Error::SignerMismatch`], [`Error::ContentTypeMismatch`], [`Error::MissingSignedAttribute`],
/// [`Error::MessageDigestMismatch`], [`Error::EssCertHashMismatch`], [`Error::SignatureInvalid`],
/// the chain errors ([`Error::ChainTooShort`], [`Error::CertificateSignatureInvalid`],
/// [`Error::CertificateNotValidAt`], [`Error::ExtendedKeyUsageInvalid`], ...),
/// [`Error::ImprintMismatch`], [`Error::NonceMismatch`], [`Error::PolicyMismatch`],
/// [`Error::UnsupportedAlgorithm`] / [`Error::UnsupportedHashAlgorithm`].
pub fn verify_timestamp_with(
    response: &[u8],
    timestamped: &[u8],
    chain_der: &[&[u8]],
    options: &VerifyOptions,
) -> Result<VerifiedTimestamp, Error> {
    let resp = TimeStampResp::from_der(response).map_err(Error::der("TimeStampResp"))?;
    let token = match (resp.status.status, resp.time_stamp_token) {
        (0, Some(token)) => token,
        (status, token) => {
            return Err(Error::NotGranted {
                status,
                has_token: token.is_some(),
            });
        }
    };
    let token = token.to_der().map_err(Error::der("TimeStampToken"))?;
    let content_info = ContentInfo::from_der(&token).map_err(Error::der("ContentInfo"))?;
    if content_info.content_type != oid::SIGNED_DATA {
        return Err(content_type_mismatch(
            oid::SIGNED_DATA,
            content_info.content_type,
        ));
    }
    let signed_data: SignedData = content_info
        .content
        .decode_as()
        .map_err(Error::der("SignedData"))?;
    let encap = &signed_data.encap_content_info;
    if encap.econtent_type != oid::TST_INFO {
        return Err(content_type_mismatch(oid::TST_INFO, encap.econtent_type));
    }
    let tst_der = encap
        .econtent
        .as_ref()
        .ok_or_else(|| Error::MalformedDer {
            structure: "EncapsulatedContentInfo",
            reason: "eContent is absent".to_owned(),
        })?
        .decode_as::<OctetString>()
        .map_err(Error::der("EncapsulatedContentInfo"))?;
    let tst_der = tst_der.as_bytes();
    let tst = TstInfo::from_der(tst_der).map_err(Error::der("TSTInfo"))?;
    if tst.version != 1 {
        return Err(Error::UnsupportedVersion {
            structure: "TSTInfo",
            version: tst.version.into(),
            expected: 1,
        });
    }

    let chain = chain_der
        .iter()
        .map(|der| Cert::parse(der))
        .collect::<Result<Vec<_>, _>>()?;
    let leaf = chain
        .first()
        .ok_or(Error::ChainTooShort { len: 0, min: 2 })?;

    // The one SignerInfo, naming the leaf (RFC 5652 §5.3).
    let signer_infos = signed_data.signer_infos.0.as_slice();
    let [signer] = signer_infos else {
        return Err(Error::SignerCount {
            count: signer_infos.len(),
        });
    };
    match &signer.sid {
        SignerIdentifier::IssuerAndSerialNumber(isn)
            if &isn.issuer == leaf.issuer() && isn.serial_number.as_bytes() == leaf.serial() => {}
        _ => return Err(Error::SignerMismatch),
    }
    let digest_alg = HashAlgorithm::from_oid(&signer.digest_alg.oid)?;
    let signed_attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or(Error::MissingSignedAttribute {
            name: "signedAttrs",
        })?;
    let attrs = signed_attrs.as_slice();

    // RFC 5652 §11.1: contentType is the eContentType.
    let content_type: ObjectIdentifier = single_value(attrs, oid::CONTENT_TYPE, "contentType")?;
    if content_type != oid::TST_INFO {
        return Err(content_type_mismatch(oid::TST_INFO, content_type));
    }
    // RFC 5652 §11.2: messageDigest is the digest of the eContent octets.
    let message_digest: OctetString = single_value(attrs, oid::MESSAGE_DIGEST, "messageDigest")?;
    if message_digest.as_bytes() != digest_alg.digest(tst_der) {
        return Err(Error::MessageDigestMismatch);
    }
    // RFC 5816 §2.2.1 / RFC 5035 §3: the first ESSCertIDv2 identifies the signing certificate.
    let attr = find_single(attrs, oid::SIGNING_CERTIFICATE_V2, "signingCertificateV2")?;
    let ess: SigningCertificateV2<'_> = attr
        .decode_as()
        .map_err(Error::der("SigningCertificateV2"))?;
    let first = ess.certs.first().ok_or(Error::EssCertHashMismatch)?;
    let ess_hash = match &first.hash_algorithm {
        None => HashAlgorithm::Sha256,
        Some(alg) => HashAlgorithm::from_oid(&alg.oid)?,
    };
    if first.cert_hash.as_bytes() != ess_hash.digest(&leaf.der) {
        return Err(Error::EssCertHashMismatch);
    }
    if let Some(issuer_serial) = &first.issuer_serial
        && issuer_serial.serial_number.as_bytes() != leaf.serial()
    {
        return Err(Error::EssCertHashMismatch);
    }

    // RFC 5652 §5.4: the signature is over the DER of the attributes as a SET OF.
    let signed_attrs_der = signed_attrs
        .to_der()
        .map_err(Error::der("SignedAttributes"))?;
    verify_signature(
        &leaf.key,
        &signer.signature_algorithm.oid,
        &signed_attrs_der,
        signer.signature.as_bytes(),
    )
    .map_err(|e| match e {
        Error::UnsupportedAlgorithm { .. } => e,
        _ => Error::SignatureInvalid,
    })?;

    let gen_time = tst.gen_time.to_unix_duration().as_secs();
    check_chain(&chain, ChainCheck { at: Some(gen_time) })?;

    // The imprint is the hash of the timestamped bytes.
    let imprint_alg = HashAlgorithm::from_oid(&tst.message_imprint.hash_algorithm.oid)?;
    let expected = imprint_alg.digest(timestamped);
    let actual = tst.message_imprint.hashed_message.as_bytes();
    if actual != expected {
        return Err(Error::ImprintMismatch {
            expected: hex(&expected),
            actual: hex(actual),
        });
    }

    if let Some(nonce) = options.nonce {
        let want = crate::request::int_from(&nonce)?;
        if tst.nonce.as_ref() != Some(&want) {
            return Err(Error::NonceMismatch);
        }
    }
    let policy = tst.policy.to_string();
    if let Some(expected) = &options.policy
        && *expected != policy
    {
        return Err(Error::PolicyMismatch {
            expected: expected.clone(),
            actual: policy,
        });
    }
    Ok(VerifiedTimestamp {
        gen_time: UNIX_EPOCH + Duration::from_secs(gen_time),
        serial: tst.serial_number.as_bytes().to_vec(),
        policy,
        hash_algorithm: imprint_alg,
    })
}

fn content_type_mismatch(expected: ObjectIdentifier, actual: ObjectIdentifier) -> Error {
    Error::ContentTypeMismatch {
        expected: expected.to_string(),
        actual: actual.to_string(),
    }
}

/// The one value of the one attribute `oid` (RFC 5652 §5.3: these attributes MUST have a single
/// value and appear once).
fn find_single<'a>(
    attrs: &'a [Attribute],
    oid: ObjectIdentifier,
    name: &'static str,
) -> Result<&'a der::Any, Error> {
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    match (found.next(), found.next()) {
        (Some(attr), None) => match attr.values.as_slice() {
            [value] => Ok(value),
            _ => Err(Error::MissingSignedAttribute { name }),
        },
        _ => Err(Error::MissingSignedAttribute { name }),
    }
}

fn single_value<T>(
    attrs: &[Attribute],
    oid: ObjectIdentifier,
    name: &'static str,
) -> Result<T, Error>
where
    T: for<'a> Decode<'a, Error = der::Error>,
{
    let der = find_single(attrs, oid, name)?
        .to_der()
        .map_err(Error::der("signed attribute"))?;
    T::from_der(&der).map_err(Error::der("signed attribute"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
