//! gitsign's detached CMS SignedData (RFC 5652 §5; sigstore/gitsign
//! `internal/signature/sign.go`, `internal/rekor/oid/oid.go`, `docs/verification.md`), read
//! with the raw bytes kept where signatures and hashes depend on them.

use std::time::Duration;

use der::Decode as _;
use waxseal_bundle::rekor::TransparencyLogEntry;

use crate::asn1::{self, Reader, Tlv, tag};
use crate::{Error, armor, entry};

/// OIDs, as the content bytes of their DER encoding (X.690 §8.19).
pub(crate) mod oid {
    /// id-signedData, 1.2.840.113549.1.7.2 (RFC 5652 §5.1).
    pub(crate) const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    /// id-data, 1.2.840.113549.1.7.1 (RFC 5652 §4).
    pub(crate) const DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
    /// id-sha256, 2.16.840.1.101.3.4.2.1 (RFC 5754 §2.2).
    pub(crate) const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    /// ecdsa-with-SHA256, 1.2.840.10045.4.3.2 (RFC 5758 §3.2).
    pub(crate) const ECDSA_WITH_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    /// id-contentType, 1.2.840.113549.1.9.3 (RFC 5652 §11.1).
    pub(crate) const CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
    /// id-messageDigest, 1.2.840.113549.1.9.4 (RFC 5652 §11.2).
    pub(crate) const MESSAGE_DIGEST: &[u8] =
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
    /// id-signingTime, 1.2.840.113549.1.9.5 (RFC 5652 §11.3).
    pub(crate) const SIGNING_TIME: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05];
    /// id-aa-timeStampToken, 1.2.840.113549.1.9.16.2.14 (RFC 3161 Appendix A).
    pub(crate) const TIMESTAMP_TOKEN: &[u8] = &[
        0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0e,
    ];
    /// 1.3.6.1.4.1.57264.3: Rekor's arc of CMS attributes.
    pub(crate) const REKOR_ARC: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x03];
    /// 1.3.6.1.4.1.57264.3.1: a protobuf `TransparencyLogEntry` (current gitsign), or the log
    /// ID as UTF8String in the Jan-2023 per-field layout.
    pub(crate) const REKOR_ENTRY: &[u8] =
        &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x03, 0x01];
}

/// 1.3.6.1.4.1.57264.3.1, the unsigned attribute with the transparency log entry.
pub const OID_TRANSPARENCY_LOG_ENTRY: &str = "1.3.6.1.4.1.57264.3.1";
/// 1.2.840.113549.1.9.16.2.14, the unsigned attribute with an RFC 3161 timestamp token.
pub const OID_TIMESTAMP_TOKEN: &str = "1.2.840.113549.1.9.16.2.14";

/// Where the signature's transparency log evidence is (FORMATS.md §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// The Jan-2023 pre-release layout: the entry's fields as attributes
    /// 1.3.6.1.4.1.57264.3.0–3.8 (3.1 a UTF8String). Not supported.
    LegacyPerFieldOids,
    /// `GITSIGN_REKOR_MODE=offline`: attribute 1.3.6.1.4.1.57264.3.1 holds a protobuf
    /// `TransparencyLogEntry` (empty canonicalized body) for a `hashedrekord` over the
    /// SHA-256 of the signed attributes.
    Offline,
    /// Nothing embedded: the entry (over the commit id) is found only by a Rekor search.
    Online,
}

/// A parsed gitsign signature: a detached SignedData with one SignerInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSignature {
    der: Vec<u8>,
    certificates: Vec<Vec<u8>>,
    signer: usize,
    signed_attributes: Vec<u8>,
    content_type: String,
    message_digest: Vec<u8>,
    signing_time: Option<i64>,
    signature: Vec<u8>,
    mode: Mode,
    log_entry: Option<TransparencyLogEntry>,
    timestamp_token: Option<Vec<u8>>,
}

impl GitSignature {
    /// Parses a signature given armored (`-----BEGIN SIGNED MESSAGE-----`, as git stores it)
    /// or as DER.
    ///
    /// # Errors
    ///
    /// [`Error::Armor`], then as [`GitSignature::from_der`].
    pub fn parse(signature: &[u8]) -> Result<Self, Error> {
        Self::from_der(&armor::signature_der(signature)?)
    }

    /// Parses a DER `ContentInfo` holding a `SignedData` in gitsign's layout: detached id-data
    /// content, one SignerInfo identified by issuer and serial number, SHA-256 and
    /// ecdsa-with-SHA256, signed attributes with contentType and messageDigest. The signer's
    /// certificate is the one whose issuer and serial number match (2022 signatures list the
    /// intermediate first).
    ///
    /// # Errors
    ///
    /// [`Error::Der`] for malformed DER, [`Error::Unsupported`] and
    /// [`Error::UnsupportedAlgorithm`] for other layouts, [`Error::MissingAttribute`],
    /// [`Error::DuplicateAttribute`], [`Error::SignerCertificateMissing`], and
    /// [`Error::Protobuf`] for a malformed embedded entry.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        if der.len() > armor::MAX_SIGNATURE_SIZE {
            return Err(Error::TooLarge {
                size: der.len(),
                limit: armor::MAX_SIGNATURE_SIZE,
            });
        }
        // ContentInfo ::= SEQUENCE { contentType, [0] EXPLICIT content }
        let content_info = asn1::single(der, tag::SEQUENCE, "ContentInfo")?;
        let mut r = Reader::new(content_info.value, "ContentInfo");
        let content_type = r.expect(tag::OID, "contentType")?;
        if content_type.value != oid::SIGNED_DATA {
            return Err(Error::Unsupported {
                reason: format!(
                    "content type {} is not signedData",
                    asn1::oid_text(content_type.value)
                ),
            });
        }
        let explicit = r.expect(tag::CONTEXT_0, "content")?;
        r.finish()?;
        let signed_data = asn1::single(explicit.value, tag::SEQUENCE, "SignedData")?;
        let mut r = Reader::new(signed_data.value, "SignedData");
        let version = r.expect(tag::INTEGER, "version")?;
        if !matches!(version.value, [1] | [3]) {
            return Err(Error::Unsupported {
                reason: format!("SignedData version {}", asn1::hex_text(version.value)),
            });
        }
        let digest_algorithms = r.expect(tag::SET, "digestAlgorithms")?;
        let mut algorithms = Reader::new(digest_algorithms.value, "digestAlgorithms");
        while !algorithms.is_empty() {
            let algorithm = algorithms.expect(tag::SEQUENCE, "DigestAlgorithmIdentifier")?;
            check_algorithm(algorithm, oid::SHA256, "digestAlgorithms", "SHA-256")?;
        }
        let encap = r.expect(tag::SEQUENCE, "encapContentInfo")?;
        let mut e = Reader::new(encap.value, "encapContentInfo");
        let e_type = e.expect(tag::OID, "eContentType")?;
        if e_type.value != oid::DATA {
            return Err(Error::Unsupported {
                reason: format!(
                    "encapsulated content type {} is not id-data",
                    asn1::oid_text(e_type.value)
                ),
            });
        }
        if !e.is_empty() {
            return Err(Error::Unsupported {
                reason: "the signature carries its content; git signatures are detached".to_owned(),
            });
        }
        let mut certificates = Vec::new();
        if let Some(set) = r.optional(tag::CONTEXT_0, "certificates")? {
            let mut c = Reader::new(set.value, "certificates");
            while !c.is_empty() {
                let cert = c.next()?;
                if cert.tag != tag::SEQUENCE {
                    return Err(Error::Unsupported {
                        reason: format!(
                            "certificate choice with tag {:#04x} (only X.509 certificates)",
                            cert.tag
                        ),
                    });
                }
                certificates.push(cert.raw.to_vec());
            }
        }
        // crls [1]: not used by gitsign; ignored if present.
        r.optional(tag::CONTEXT_1, "crls")?;
        let signer_infos = r.expect(tag::SET, "signerInfos")?;
        r.finish()?;
        let mut s = Reader::new(signer_infos.value, "signerInfos");
        let mut infos = Vec::new();
        while !s.is_empty() {
            infos.push(s.expect(tag::SEQUENCE, "SignerInfo")?);
        }
        let [info] = infos.as_slice() else {
            return Err(Error::Unsupported {
                reason: format!("{} SignerInfos; exactly 1 is supported", infos.len()),
            });
        };
        let signer = SignerInfo::parse(info.value)?;
        let index = certificates
            .iter()
            .position(|cert| {
                issuer_and_serial(cert).is_ok_and(|(issuer, serial)| {
                    issuer == signer.issuer && serial == signer.serial
                })
            })
            .ok_or_else(|| Error::SignerCertificateMissing {
                serial: asn1::hex_text(signer.serial),
                count: certificates.len(),
            })?;
        let attributes = signed_attributes(signer.signed_attributes)?;
        let unsigned = unsigned_attributes(signer.unsigned_attributes)?;
        Ok(Self {
            der: der.to_vec(),
            certificates,
            signer: index,
            signed_attributes: attributes.set,
            content_type: attributes.content_type,
            message_digest: attributes.message_digest,
            signing_time: attributes.signing_time,
            signature: signer.signature.to_vec(),
            mode: unsigned.mode,
            log_entry: unsigned.log_entry,
            timestamp_token: unsigned.timestamp_token,
        })
    }

    /// The DER it was parsed from.
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }

    /// Every certificate in the signature, DER, in their order.
    pub fn certificates(&self) -> &[Vec<u8>] {
        &self.certificates
    }

    /// The signer's certificate (matched by issuer and serial number), DER.
    pub fn signer_certificate(&self) -> &[u8] {
        // `signer` is the index of the matching certificate, found when parsing.
        self.certificates
            .get(self.signer)
            .map_or(&[][..], Vec::as_slice)
    }

    /// The signed attributes as a DER `SET OF Attribute` (tag 0x31): the bytes the signature
    /// covers (RFC 5652 §5.4).
    pub fn signed_attributes(&self) -> &[u8] {
        &self.signed_attributes
    }

    /// The contentType signed attribute, dotted (`1.2.840.113549.1.7.1` for id-data).
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The messageDigest signed attribute: the SHA-256 of the payload, as signed.
    pub fn message_digest(&self) -> &[u8] {
        &self.message_digest
    }

    /// The signingTime signed attribute, seconds since the Unix epoch. The signer's clock:
    /// not a verified time.
    pub fn signing_time(&self) -> Option<i64> {
        self.signing_time
    }

    /// The SignerInfo's signature (DER ECDSA) over [`Self::signed_attributes`].
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Where the transparency log evidence is.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The embedded entry (offline mode), as encoded: its canonicalized body is empty in
    /// gitsign's signatures.
    pub fn log_entry(&self) -> Option<&TransparencyLogEntry> {
        self.log_entry.as_ref()
    }

    /// The RFC 3161 timestamp token over the signature, DER `ContentInfo`, if any.
    pub fn timestamp_token(&self) -> Option<&[u8]> {
        self.timestamp_token.as_deref()
    }
}

/// The parts of a SignerInfo (RFC 5652 §5.3) this crate reads.
struct SignerInfo<'a> {
    issuer: &'a [u8],
    serial: &'a [u8],
    signed_attributes: &'a [u8],
    signature: &'a [u8],
    unsigned_attributes: Option<&'a [u8]>,
}

impl<'a> SignerInfo<'a> {
    fn parse(der: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(der, "SignerInfo");
        let version = r.expect(tag::INTEGER, "version")?;
        if version.value != [1] {
            return Err(Error::Unsupported {
                reason: format!(
                    "SignerInfo version {} (only 1: IssuerAndSerialNumber)",
                    asn1::hex_text(version.value)
                ),
            });
        }
        let sid = r.expect(tag::SEQUENCE, "sid (IssuerAndSerialNumber)")?;
        let mut sid_reader = Reader::new(sid.value, "IssuerAndSerialNumber");
        let issuer = sid_reader.expect(tag::SEQUENCE, "issuer")?.raw;
        let serial = sid_reader.expect(tag::INTEGER, "serialNumber")?.value;
        sid_reader.finish()?;
        let digest = r.expect(tag::SEQUENCE, "digestAlgorithm")?;
        check_algorithm(digest, oid::SHA256, "digestAlgorithm", "SHA-256")?;
        let signed = r
            .optional(tag::CONTEXT_0, "signedAttrs")?
            .ok_or(Error::MissingAttribute {
                name: "any signed attribute (signedAttrs)",
                oid: "-",
            })?;
        let algorithm = r.expect(tag::SEQUENCE, "signatureAlgorithm")?;
        check_algorithm(
            algorithm,
            oid::ECDSA_WITH_SHA256,
            "signatureAlgorithm",
            "ecdsa-with-SHA256",
        )?;
        let signature = r.expect(tag::OCTET_STRING, "signature")?.value;
        let unsigned = r.optional(tag::CONTEXT_1, "unsignedAttrs")?;
        r.finish()?;
        Ok(Self {
            issuer,
            serial,
            signed_attributes: signed.value,
            signature,
            unsigned_attributes: unsigned.map(|u| u.value),
        })
    }
}

/// An AlgorithmIdentifier of `expected`, with absent or NULL parameters.
fn check_algorithm(
    algorithm: Tlv<'_>,
    expected: &[u8],
    field: &'static str,
    supported: &'static str,
) -> Result<(), Error> {
    let mut r = Reader::new(algorithm.value, "AlgorithmIdentifier");
    let id = r.expect(tag::OID, field)?;
    if let Some(params) = r.optional(tag::NULL, "parameters")?
        && !params.value.is_empty()
    {
        return Err(r.error("NULL parameters with content"));
    }
    r.finish()?;
    if id.value != expected {
        return Err(Error::UnsupportedAlgorithm {
            field,
            oid: asn1::oid_text(id.value),
            supported,
        });
    }
    Ok(())
}

/// A certificate's issuer Name (whole DER) and serial number (INTEGER content).
pub(crate) fn issuer_and_serial(certificate: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    let cert = asn1::single(certificate, tag::SEQUENCE, "certificate")?;
    let mut r = Reader::new(cert.value, "certificate");
    let tbs = r.expect(tag::SEQUENCE, "tbsCertificate")?;
    let mut t = Reader::new(tbs.value, "tbsCertificate");
    t.optional(tag::CONTEXT_0, "version")?;
    let serial = t.expect(tag::INTEGER, "serialNumber")?.value;
    t.expect(tag::SEQUENCE, "signature")?;
    let issuer = t.expect(tag::SEQUENCE, "issuer")?.raw;
    Ok((issuer, serial))
}

/// The signed attributes read from the `[0] IMPLICIT` content.
struct SignedAttributes {
    set: Vec<u8>,
    content_type: String,
    message_digest: Vec<u8>,
    signing_time: Option<i64>,
}

/// Reads the signed attributes; each of contentType, messageDigest and signingTime at most
/// once with exactly one value (RFC 5652 §5.3, §11).
fn signed_attributes(content: &[u8]) -> Result<SignedAttributes, Error> {
    const WHAT: &str = "signed attributes";
    let mut content_type = None;
    let mut message_digest = None;
    let mut signing_time = None;
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut r = Reader::new(content, WHAT);
    while !r.is_empty() {
        let (id, value) = attribute(&mut r, WHAT)?;
        if seen.contains(&id) {
            return Err(Error::DuplicateAttribute {
                what: WHAT,
                oid: asn1::oid_text(id),
            });
        }
        seen.push(id);
        match id {
            oid::CONTENT_TYPE => {
                let v = asn1::single(value.raw, tag::OID, "contentType attribute")?;
                content_type = Some(asn1::oid_text(v.value));
            }
            oid::MESSAGE_DIGEST => {
                let v = asn1::single(value.raw, tag::OCTET_STRING, "messageDigest attribute")?;
                message_digest = Some(v.value.to_vec());
            }
            oid::SIGNING_TIME => signing_time = Some(parse_time(value)?),
            _ => {}
        }
    }
    Ok(SignedAttributes {
        // RFC 5652 §5.4: the signature covers the EXPLICIT SET OF encoding.
        set: asn1::encode(tag::SET, content),
        content_type: content_type.ok_or(Error::MissingAttribute {
            name: "contentType",
            oid: "1.2.840.113549.1.9.3",
        })?,
        message_digest: message_digest.ok_or(Error::MissingAttribute {
            name: "messageDigest",
            oid: "1.2.840.113549.1.9.4",
        })?,
        signing_time,
    })
}

/// One `Attribute ::= SEQUENCE { attrType OID, attrValues SET OF }` with exactly one value.
fn attribute<'a>(r: &mut Reader<'a>, what: &'static str) -> Result<(&'a [u8], Tlv<'a>), Error> {
    let attr = r.expect(tag::SEQUENCE, "Attribute")?;
    let mut a = Reader::new(attr.value, what);
    let id = a.expect(tag::OID, "attrType")?.value;
    let values = a.expect(tag::SET, "attrValues")?;
    a.finish()?;
    let mut v = Reader::new(values.value, what);
    let value = v.next()?;
    if !v.is_empty() {
        return Err(Error::Der {
            what,
            reason: format!("attribute {} has several values", asn1::oid_text(id)),
        });
    }
    Ok((id, value))
}

/// UTCTime or GeneralizedTime (RFC 5652 §11.3) → seconds since the Unix epoch.
fn parse_time(value: Tlv<'_>) -> Result<i64, Error> {
    let malformed = |e: der::Error| Error::Der {
        what: "signingTime attribute",
        reason: e.to_string(),
    };
    let duration: Duration = match value.tag {
        tag::UTC_TIME => der::asn1::UtcTime::from_der(value.raw)
            .map_err(malformed)?
            .to_unix_duration(),
        tag::GENERALIZED_TIME => der::asn1::GeneralizedTime::from_der(value.raw)
            .map_err(malformed)?
            .to_unix_duration(),
        other => {
            return Err(Error::Der {
                what: "signingTime attribute",
                reason: format!("tag {other:#04x} is neither UTCTime nor GeneralizedTime"),
            });
        }
    };
    i64::try_from(duration.as_secs()).map_err(|_| Error::Der {
        what: "signingTime attribute",
        reason: "out of range".to_owned(),
    })
}

/// The unsigned attributes gitsign writes.
struct UnsignedAttributes {
    mode: Mode,
    log_entry: Option<TransparencyLogEntry>,
    timestamp_token: Option<Vec<u8>>,
}

fn unsigned_attributes(content: Option<&[u8]>) -> Result<UnsignedAttributes, Error> {
    const WHAT: &str = "unsigned attributes";
    let mut out = UnsignedAttributes {
        mode: Mode::Online,
        log_entry: None,
        timestamp_token: None,
    };
    let Some(content) = content else {
        return Ok(out);
    };
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut legacy = false;
    let mut offline = None;
    let mut r = Reader::new(content, WHAT);
    while !r.is_empty() {
        let (id, value) = attribute(&mut r, WHAT)?;
        if seen.contains(&id) {
            return Err(Error::DuplicateAttribute {
                what: WHAT,
                oid: asn1::oid_text(id),
            });
        }
        seen.push(id);
        if id == oid::REKOR_ENTRY && value.tag == tag::OCTET_STRING {
            offline = Some(value.value);
        } else if id.len() == oid::REKOR_ARC.len() + 1 && id.starts_with(oid::REKOR_ARC) {
            // 57264.3.0–3.8 other than an OCTET STRING 3.1: the per-field layout.
            legacy = true;
        } else if id == oid::TIMESTAMP_TOKEN {
            if value.tag != tag::SEQUENCE {
                return Err(Error::Der {
                    what: WHAT,
                    reason: "the timestamp token is not a ContentInfo SEQUENCE".to_owned(),
                });
            }
            out.timestamp_token = Some(value.raw.to_vec());
        }
    }
    match (legacy, offline) {
        (true, _) => out.mode = Mode::LegacyPerFieldOids,
        (false, Some(bytes)) => {
            out.mode = Mode::Offline;
            out.log_entry = Some(entry::decode(bytes)?);
        }
        (false, None) => {}
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::assemble;
    use crate::{SignedObject, build};

    fn vector(name: &str) -> GitSignature {
        let path = format!(
            "{}/../../../shared/vectors/git/objects/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let object = SignedObject::parse(&raw).unwrap().unwrap();
        GitSignature::parse(object.signature()).unwrap()
    }

    /// Offline, Rekor shard 1193050959916656506.
    const OFFLINE: &str = "ac15fa730306fb4cc6839e6345cfd924e1517f7b.commit";
    /// Online, 2022 (older Fulcio CA).
    const TAG: &str = "a7c0f87e7d8f475cfe66d9c848b77cf3b85d860b.tag";

    #[test]
    fn picks_the_signer_certificate_by_issuer_and_serial() {
        let signed = vector(OFFLINE);
        let other = vector(TAG);
        let leaf = signed.signer_certificate();
        let intermediate_first = assemble(
            leaf,
            &[other.signer_certificate(), leaf],
            signed.signed_attributes(),
            signed.signature(),
            signed.log_entry(),
            None,
        )
        .unwrap();
        let parsed = GitSignature::from_der(&intermediate_first).unwrap();
        assert_eq!(parsed.signer_certificate(), leaf);
        assert_eq!(parsed.certificates().len(), 2);

        let wrong_sid = assemble(
            other.signer_certificate(),
            &[leaf],
            signed.signed_attributes(),
            signed.signature(),
            signed.log_entry(),
            None,
        )
        .unwrap();
        assert!(matches!(
            GitSignature::from_der(&wrong_sid),
            Err(Error::SignerCertificateMissing { count: 1, .. })
        ));
    }

    #[test]
    fn fresh_parts_parse_back_to_the_same_parts() {
        let signed = vector(OFFLINE);
        let payload = b"tree 1\nauthor A <a@x.test> 1 +0000\n\nfresh\n";
        for time in [
            0i64,
            1_700_000_000,
            2_524_608_000, /* 2050: GeneralizedTime */
        ] {
            let attributes = crate::signed_attributes(payload, time).unwrap();
            let mut entry = signed.log_entry().unwrap().clone();
            entry.log_index = 42;
            entry.canonicalized_body = b"dropped".to_vec();
            let token = asn1::encode(tag::SEQUENCE, &asn1::encode(tag::INTEGER, &[7]));
            let der = build(
                signed.signer_certificate(),
                &attributes,
                b"sig",
                Some(&entry),
                Some(&token),
            )
            .unwrap();
            let parsed = GitSignature::from_der(&der).unwrap();
            assert_eq!(parsed.signed_attributes(), attributes.as_slice(), "{time}");
            assert_eq!(parsed.signing_time(), Some(time), "{time}");
            assert_eq!(parsed.message_digest(), waxseal_crypto::sha256(payload));
            assert_eq!(parsed.content_type(), "1.2.840.113549.1.7.1");
            assert_eq!(parsed.signature(), b"sig");
            assert_eq!(parsed.mode(), Mode::Offline);
            entry.canonicalized_body.clear();
            assert_eq!(parsed.log_entry(), Some(&entry), "{time}");
            assert_eq!(parsed.timestamp_token(), Some(token.as_slice()));
            assert_eq!(parsed.to_der(), der.as_slice());
        }
        assert!(matches!(
            crate::signed_attributes(payload, -1),
            Err(Error::SigningTime { unix: -1 })
        ));
        let online = build(
            signed.signer_certificate(),
            &crate::signed_attributes(payload, 5).unwrap(),
            b"sig",
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            GitSignature::from_der(&online).unwrap().mode(),
            Mode::Online
        );
    }

    #[test]
    fn refuses_duplicate_and_missing_attributes() {
        let signed = vector(OFFLINE);
        let content_type = asn1::encode_all(
            tag::SEQUENCE,
            &[
                &asn1::encode(tag::OID, oid::CONTENT_TYPE),
                &asn1::encode(tag::SET, &asn1::encode(tag::OID, oid::DATA)),
            ],
        );
        let twice = asn1::encode(
            tag::SET,
            &[content_type.clone(), content_type.clone()].concat(),
        );
        let only_type = asn1::encode(tag::SET, &content_type);
        for (name, attributes) in [("duplicate", twice), ("no messageDigest", only_type)] {
            let der = build(signed.signer_certificate(), &attributes, b"s", None, None).unwrap();
            let error = GitSignature::from_der(&der).unwrap_err();
            assert!(
                matches!(
                    error,
                    Error::DuplicateAttribute { .. } | Error::MissingAttribute { .. }
                ),
                "{name}: {error}"
            );
        }
    }

    #[test]
    fn never_panics_on_truncations_and_bit_flips() {
        let der = vector(OFFLINE).to_der().to_vec();
        for len in 0..der.len() {
            assert!(GitSignature::from_der(&der[..len]).is_err(), "length {len}");
        }
        // Every bit of the structure before the certificate, of the SignerInfo and of the
        // embedded protobuf, and every 7th bit elsewhere.
        let mut errors = 0;
        for i in 0..der.len() {
            for bit in 0..8 {
                if (64..=760).contains(&i) && !(i * 8 + bit).is_multiple_of(7) {
                    continue;
                }
                let mut flipped = der.clone();
                flipped[i] ^= 1 << bit;
                if GitSignature::from_der(&flipped).is_err() {
                    errors += 1;
                }
            }
        }
        assert!(errors > 0);
        assert!(GitSignature::parse(b"").is_err());
        assert!(GitSignature::parse(&[0x30]).is_err());
    }
}
