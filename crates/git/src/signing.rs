//! Writing a signature in gitsign's offline layout: the signed attributes a signer signs, then
//! the SignedData around its signature (RFC 5652 §5; sigstore/gitsign
//! `internal/signature/sign.go` with smimesign's `ietf-cms`, `internal/rekor/oid/oid.go`).

use std::time::Duration;

use der::Encode as _;
use waxseal_bundle::rekor::TransparencyLogEntry;
use waxseal_crypto::sha256;

use crate::asn1::{self, tag};
use crate::cms::{issuer_and_serial, oid};
use crate::{Error, entry};

/// The signed attributes for `payload` signed at `signing_time_unix` (the signer's clock), as
/// a DER `SET OF Attribute` (0x31), sorted as DER requires: contentType id-data, signingTime
/// (UTCTime through 2049, GeneralizedTime after, RFC 5652 §11.3) and messageDigest
/// SHA-256(payload). The signer signs these bytes (ECDSA P-256 over their SHA-256); the
/// offline Rekor entry is a `hashedrekord` over the same digest.
///
/// # Errors
///
/// [`Error::SigningTime`] for a time before 1970 or after 9999.
pub fn signed_attributes(payload: &[u8], signing_time_unix: i64) -> Result<Vec<u8>, Error> {
    let bad_time = || Error::SigningTime {
        unix: signing_time_unix,
    };
    let seconds = u64::try_from(signing_time_unix).map_err(|_| bad_time())?;
    let duration = Duration::from_secs(seconds);
    let time = match der::asn1::UtcTime::from_unix_duration(duration) {
        Ok(utc) => utc.to_der(),
        Err(_) => der::asn1::GeneralizedTime::from_unix_duration(duration)
            .map_err(|_| bad_time())?
            .to_der(),
    }
    .map_err(|_| bad_time())?;
    let attributes = vec![
        attribute(oid::CONTENT_TYPE, &asn1::encode(tag::OID, oid::DATA)),
        attribute(oid::SIGNING_TIME, &time),
        attribute(
            oid::MESSAGE_DIGEST,
            &asn1::encode(tag::OCTET_STRING, &sha256(payload)),
        ),
    ];
    Ok(asn1::set_of(attributes))
}

/// Builds the DER SignedData exactly as gitsign's offline mode writes it: version 1,
/// digestAlgorithms {sha256}, detached id-data content, certificates = [the leaf], one
/// SignerInfo (version 1, IssuerAndSerialNumber of the leaf, sha256, `signed_attributes`
/// as `[0] IMPLICIT`, ecdsa-with-SHA256, `signature`), and unsigned attributes: the
/// 1.3.6.1.4.1.57264.3.1 OCTET STRING with `log_entry` as protobuf with its canonicalized
/// body left out (as gitsign does; verifiers rebuild it), and the RFC 3161 token
/// (1.2.840.113549.1.9.16.2.14) when given, in DER `SET OF` order. Without `log_entry` and
/// token there are no unsigned attributes (gitsign's online layout). Algorithm identifiers
/// carry no parameters, as Go's `ietf-cms` writes them.
///
/// Rekor v2 entries (`hashedrekord` 0.0.2, no integrated time or SET) go in the same attribute
/// with their own kind and version; gitsign itself only writes 0.0.1, and a v2 signature needs
/// `timestamp_token` for a verified time.
///
/// `signed_attributes` is the `SET` from [`signed_attributes`], `signature` the DER ECDSA
/// signature over it, `timestamp_token` a DER `ContentInfo` (a timestamp over `signature`).
///
/// # Errors
///
/// [`Error::Der`] if the certificate, the attributes or the token are not DER of the
/// expected shape.
pub fn build(
    certificate_der: &[u8],
    signed_attributes: &[u8],
    signature: &[u8],
    log_entry: Option<&TransparencyLogEntry>,
    timestamp_token: Option<&[u8]>,
) -> Result<Vec<u8>, Error> {
    assemble(
        certificate_der,
        &[certificate_der],
        signed_attributes,
        signature,
        log_entry,
        timestamp_token,
    )
}

/// [`build`] with the SignerInfo naming `signer_der` and the certificate set `certificates`
/// (tests make 2022-style intermediate-first sets and mismatched identifiers with it).
pub(crate) fn assemble(
    signer_der: &[u8],
    certificates: &[&[u8]],
    signed_attributes: &[u8],
    signature: &[u8],
    log_entry: Option<&TransparencyLogEntry>,
    timestamp_token: Option<&[u8]>,
) -> Result<Vec<u8>, Error> {
    let (issuer, serial) = issuer_and_serial(signer_der)?;
    for certificate in certificates {
        asn1::single(certificate, tag::SEQUENCE, "certificate")?;
    }
    let attributes = asn1::single(signed_attributes, tag::SET, "signed attributes")?;
    let sha256_id = asn1::encode(tag::SEQUENCE, &asn1::encode(tag::OID, oid::SHA256));
    let ecdsa_id = asn1::encode(
        tag::SEQUENCE,
        &asn1::encode(tag::OID, oid::ECDSA_WITH_SHA256),
    );
    let mut unsigned = Vec::new();
    if let Some(entry) = log_entry {
        let mut embedded = entry.clone();
        embedded.canonicalized_body = Vec::new();
        let value = asn1::encode(tag::OCTET_STRING, &entry::encode(&embedded));
        unsigned.push(attribute(oid::REKOR_ENTRY, &value));
    }
    if let Some(token) = timestamp_token {
        let token = asn1::single(token, tag::SEQUENCE, "timestamp token")?;
        unsigned.push(attribute(oid::TIMESTAMP_TOKEN, token.raw));
    }
    let mut signer_info = vec![
        asn1::encode(tag::INTEGER, &[1]),
        asn1::encode_all(
            tag::SEQUENCE,
            &[issuer, &asn1::encode(tag::INTEGER, serial)],
        ),
        sha256_id.clone(),
        asn1::encode(tag::CONTEXT_0, attributes.value),
        ecdsa_id,
        asn1::encode(tag::OCTET_STRING, signature),
    ];
    if !unsigned.is_empty() {
        let set = asn1::set_of(unsigned);
        // The SET's content under the [1] IMPLICIT tag.
        let content = asn1::single(&set, tag::SET, "unsigned attributes")?
            .value
            .to_vec();
        signer_info.push(asn1::encode(tag::CONTEXT_1, &content));
    }
    let signer_info = asn1::encode(tag::SEQUENCE, &signer_info.concat());
    let signed_data = asn1::encode_all(
        tag::SEQUENCE,
        &[
            &asn1::encode(tag::INTEGER, &[1]),
            &asn1::encode(tag::SET, &sha256_id),
            &asn1::encode(tag::SEQUENCE, &asn1::encode(tag::OID, oid::DATA)),
            &asn1::encode(tag::CONTEXT_0, &certificates.concat()),
            &asn1::encode(tag::SET, &signer_info),
        ],
    );
    Ok(asn1::encode_all(
        tag::SEQUENCE,
        &[
            &asn1::encode(tag::OID, oid::SIGNED_DATA),
            &asn1::encode(tag::CONTEXT_0, &signed_data),
        ],
    ))
}

/// `Attribute ::= SEQUENCE { attrType, attrValues SET OF }` with one value (DER).
fn attribute(id: &[u8], value: &[u8]) -> Vec<u8> {
    asn1::encode_all(
        tag::SEQUENCE,
        &[&asn1::encode(tag::OID, id), &asn1::encode(tag::SET, value)],
    )
}
