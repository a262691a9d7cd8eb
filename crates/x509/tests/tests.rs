//! Integration tests for waxseal-x509, checked against independent oracles.
//!
//! Contents:
//! - `issuance`: CA → CSR → precertificate → SCT → final certificate, for each CA algorithm,
//!   leaf key type and SAN kind, read back by x509-parser, with the precertificate TBS rebuilt
//!   by a hand-written DER walker, the SCT verified over a hand-built input, and the chain
//!   verified by rustls-webpki for codeSigning (inside and outside the validity window).
//! - `python`: the same leaf read by python `cryptography` (sigstore-python's library):
//!   SAN/EKU/KU/issuer extensions, `tbs_precertificate_bytes`, SCT signature, chain policy.
//! - `ca`: the CA profile, PEM persistence and reloading.
//! - `csr` and `proof_of_possession`: accepted and rejected requests.
//! - `sct`: encodings, leaf_index, tampering, precertificates received by a CT log.
//! - `request`: leaf request validation.
//! - CT log chain checks: accepted chains and every rejection.

// Test helpers panic on failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls_pki_types::{CertificateDer, UnixTime};
use waxseal_crypto::{Algorithm, PublicKey, SigningKey};
use waxseal_x509::{
    CaNames, Certificate, CertificateAuthority, CertificationRequest, CtSignedEntry, CtSubmission,
    Error, LeafRequest, Precertificate, San, SignedCertificateTimestamp, VerifiedLinks,
    check_ct_chain, check_ct_chain_with, encode_sct_list, leaf_index_extension, parse_leaf,
    parse_sct_list, sign_sct, verify_proof_of_possession, verify_sct,
};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

/// 2027-01-15T08:00:00Z.
const NOW_SECS: u64 = 1_800_000_000;
const ISSUER: &str = "https://oauth2.example.test/auth";
/// id-kp-codeSigning, DER value bytes.
const CODE_SIGNING: &[u8] = &[0x2b, 6, 1, 5, 5, 7, 3, 3];
/// DER TLV of the OID 1.3.6.1.4.1.11129.2.4.2 (SCT list), written out by hand.
const SCT_LIST_OID_TLV: &[u8] = &[
    0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02,
];
/// DER TLV of the OID 1.3.6.1.4.1.11129.2.4.3 (precertificate poison).
const POISON_OID_TLV: &[u8] = &[
    0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03,
];
const SCT_TIMESTAMP_MS: u64 = NOW_SECS * 1000 + 123;
const LEAF_INDEX: u64 = 0x01_0203_0405;
/// `LEAF_INDEX` as a static-ct-api extension, by hand.
const LEAF_INDEX_EXTENSION: &[u8] = &[0, 0, 5, 1, 2, 3, 4, 5];

/// A table row for a call that must fail: (name, result, which error).
type ErrorCase = (&'static str, Result<(), Error>, fn(&Error) -> bool);

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

fn generate_ca(algorithm: Algorithm) -> CertificateAuthority {
    CertificateAuthority::generate(
        algorithm,
        &CaNames::default(),
        now() - Duration::from_secs(3600),
        Duration::from_secs(10 * 365 * 86_400),
    )
    .expect("generate CA")
}

// ---------------------------------------------------------------------------------------------
// Helpers: CSRs, an independent DER walker, oracles.

/// How a test leaf key and CSR are made.
#[derive(Clone, Copy, Debug)]
enum LeafKey {
    P256,
    P384,
    Ed25519,
    Rsa2048,
}

/// A CSR (PEM) with an empty subject, made by rcgen.
fn rcgen_csr(kind: LeafKey) -> (String, rcgen::KeyPair) {
    let key = match kind {
        LeafKey::P256 => rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        LeafKey::P384 => rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
        LeafKey::Ed25519 => rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519),
        LeafKey::Rsa2048 => {
            rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        }
    }
    .expect("rcgen key");
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    let csr = params.serialize_request(&key).expect("rcgen CSR");
    (csr.pem().expect("CSR PEM"), key)
}

/// Reads one DER TLV at the start of `input`: (tag, header length, total length).
fn tlv(input: &[u8]) -> (u8, usize, usize) {
    let tag = input[0];
    let first = input[1];
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        let len = input[2..2 + n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, 2 + n)
    };
    (tag, header, header + len)
}

/// Splits DER content into its TLVs.
fn children(mut content: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (_, _, total) = tlv(content);
        out.push(&content[..total]);
        content = &content[total..];
    }
    out
}

/// Encodes a TLV with a DER length.
fn encode_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// Removes the extension whose OID TLV is `oid_tlv` from a DER TBSCertificate, recomputing the
/// lengths of the enclosing extension list, `[3]` and the TBS itself. Panics unless exactly one
/// such extension is removed.
fn strip_extension(tbs: &[u8], oid_tlv: &[u8]) -> Vec<u8> {
    let (tag, header, total) = tlv(tbs);
    assert_eq!((tag, total), (0x30, tbs.len()), "TBS is one SEQUENCE");
    let mut fields = Vec::new();
    let mut removed = 0;
    for field in children(&tbs[header..]) {
        if field[0] != 0xa3 {
            fields.extend_from_slice(field);
            continue;
        }
        let (_, h3, _) = tlv(field);
        let list = &field[h3..];
        let (list_tag, hl, _) = tlv(list);
        assert_eq!(list_tag, 0x30);
        let mut kept = Vec::new();
        for ext in children(&list[hl..]) {
            let (_, he, _) = tlv(ext);
            if ext[he..].starts_with(oid_tlv) {
                removed += 1;
            } else {
                kept.extend_from_slice(ext);
            }
        }
        fields.extend(encode_tlv(0xa3, &encode_tlv(0x30, &kept)));
    }
    assert_eq!(removed, 1, "exactly one extension removed");
    encode_tlv(0x30, &fields)
}

/// The RFC 6962 §3.2 precert `digitally-signed` input, built by hand.
fn digitally_signed(
    timestamp: u64,
    issuer_key_hash: &[u8],
    tbs: &[u8],
    extensions: &[u8],
) -> Vec<u8> {
    let mut out = vec![0u8, 0u8]; // v1, certificate_timestamp
    out.extend(timestamp.to_be_bytes());
    out.extend([0u8, 1u8]); // precert_entry
    out.extend(issuer_key_hash);
    out.extend(&(tbs.len() as u32).to_be_bytes()[1..]);
    out.extend(tbs);
    out.extend((extensions.len() as u16).to_be_bytes());
    out.extend(extensions);
    out
}

fn parse_x509(der: &[u8]) -> X509Certificate<'_> {
    let (rest, cert) = X509Certificate::from_der(der).expect("x509-parser parses");
    assert!(rest.is_empty(), "no trailing bytes");
    cert
}

fn webpki_verify(
    leaf: &[u8],
    ca: &CertificateAuthority,
    at: SystemTime,
) -> Result<(), webpki::Error> {
    let root = CertificateDer::from(ca.root_der());
    let anchors = [webpki::anchor_from_trusted_cert(&root).expect("root is a trust anchor")];
    let intermediates = [CertificateDer::from(ca.intermediate_der())];
    let leaf = CertificateDer::from(leaf);
    let ee = webpki::EndEntityCert::try_from(&leaf)?;
    let time = UnixTime::since_unix_epoch(at.duration_since(UNIX_EPOCH).expect("after 1970"));
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &intermediates,
        time,
        webpki::KeyUsage::required(CODE_SIGNING),
        None,
        None,
    )
    .map(|_| ())
}

/// A leaf issued end to end, with everything a check needs.
struct Issued {
    ca: CertificateAuthority,
    ct_key: SigningKey,
    precert: Precertificate,
    sct: SignedCertificateTimestamp,
    leaf: Certificate,
}

fn issue(ca_algorithm: Algorithm, key: LeafKey, san: San) -> Issued {
    let ca = generate_ca(ca_algorithm);
    let (csr_pem, _key) = rcgen_csr(key);
    let csr = CertificationRequest::from_pem(&csr_pem).expect("CSR verifies");
    let request = LeafRequest::new(
        csr.into_public_key(),
        san,
        ISSUER,
        now(),
        now() + Duration::from_secs(600),
    )
    .and_then(|r| {
        r.with_extension(
            "1.3.6.1.4.1.57264.1.9",
            "https://github.com/o/r/.github/workflows/w.yml@refs/heads/main",
        )
    })
    .and_then(|r| r.with_extension("1.3.6.1.4.1.57264.1.2", "push"))
    .and_then(|r| r.with_extension("1.3.6.1.4.1.57264.1.24", "public"))
    .expect("request");
    let precert = ca.issue_precertificate(&request).expect("precert");
    let ct_key = SigningKey::generate(Algorithm::EcdsaP256Sha256).expect("CT key");
    let sct = sign_sct(
        &ct_key,
        SCT_TIMESTAMP_MS,
        Some(LEAF_INDEX),
        precert.issuer_key_hash(),
        precert.precert_tbs(),
    )
    .expect("SCT");
    let leaf = ca
        .finish(&precert, std::slice::from_ref(&sct))
        .expect("finish");
    Issued {
        ca,
        ct_key,
        precert,
        sct,
        leaf,
    }
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(path).expect("fixture")
}

// ---------------------------------------------------------------------------------------------
// issuance

struct IssueCase {
    name: &'static str,
    ca: Algorithm,
    key: LeafKey,
    san: fn() -> San,
    /// Dotted signature algorithm OID expected on the leaf.
    signature_oid: &'static str,
}

const ISSUE_CASES: &[IssueCase] = &[
    IssueCase {
        name: "p256 CA, p256 CSR, email",
        ca: Algorithm::EcdsaP256Sha256,
        key: LeafKey::P256,
        san: || San::Email("alice@example.test".into()),
        signature_oid: "1.2.840.10045.4.3.2",
    },
    IssueCase {
        name: "p256 CA, p384 CSR, uri",
        ca: Algorithm::EcdsaP256Sha256,
        key: LeafKey::P384,
        san: || San::Uri("https://github.com/o/r/.github/workflows/w.yml@refs/heads/main".into()),
        signature_oid: "1.2.840.10045.4.3.2",
    },
    IssueCase {
        name: "p384 CA, ed25519 CSR, email",
        ca: Algorithm::EcdsaP384Sha384,
        key: LeafKey::Ed25519,
        san: || San::Email("bob@example.test".into()),
        signature_oid: "1.2.840.10045.4.3.3",
    },
    IssueCase {
        name: "p256 CA, rsa-2048 CSR, otherName",
        ca: Algorithm::EcdsaP256Sha256,
        key: LeafKey::Rsa2048,
        san: || San::OtherName("carol!example.test".into()),
        signature_oid: "1.2.840.10045.4.3.2",
    },
];

#[test]
fn issues_fulcio_profile_leaf_checked_by_x509_parser() {
    for case in ISSUE_CASES {
        let name = case.name;
        let issued = issue(case.ca, case.key, (case.san)());
        let cert = parse_x509(issued.leaf.der());
        let intermediate = parse_x509(issued.ca.intermediate_der());

        assert_eq!(cert.version().0, 2, "{name}: v3");
        let serial = cert.raw_serial();
        assert!(
            serial.len() <= 20 && serial[0] & 0x80 == 0,
            "{name}: serial {serial:x?}"
        );
        assert_eq!(cert.subject().iter().count(), 0, "{name}: empty subject");
        assert_eq!(
            cert.issuer().as_raw(),
            intermediate.subject().as_raw(),
            "{name}: issuer"
        );
        assert_eq!(
            cert.signature_algorithm.algorithm.to_id_string(),
            case.signature_oid,
            "{name}: signature algorithm"
        );
        assert!(
            cert.signature_algorithm.parameters.is_none(),
            "{name}: no parameters"
        );
        assert_eq!(
            cert.validity().not_before.timestamp() as u64,
            NOW_SECS,
            "{name}"
        );
        assert_eq!(
            cert.validity().not_after.timestamp() as u64,
            NOW_SECS + 600,
            "{name}"
        );

        let intermediate_ski = intermediate
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
                _ => None,
            })
            .expect("intermediate SKI");

        let mut seen = Vec::new();
        for ext in cert.extensions() {
            let oid = ext.oid.to_id_string();
            assert!(!seen.contains(&oid), "{name}: duplicate {oid}");
            seen.push(oid.clone());
            match (oid.as_str(), ext.parsed_extension()) {
                ("2.5.29.15", ParsedExtension::KeyUsage(ku)) => {
                    assert!(ext.critical, "{name}: KU critical");
                    assert!(ku.digital_signature(), "{name}: digitalSignature");
                    assert!(!ku.key_cert_sign(), "{name}: no keyCertSign");
                }
                ("2.5.29.37", ParsedExtension::ExtendedKeyUsage(eku)) => {
                    assert!(!ext.critical, "{name}: EKU non-critical");
                    assert!(
                        eku.code_signing && !eku.any && !eku.server_auth,
                        "{name}: EKU"
                    );
                }
                ("2.5.29.14", ParsedExtension::SubjectKeyIdentifier(id)) => {
                    assert_eq!(id.0.len(), 20, "{name}: SKI");
                }
                ("2.5.29.35", ParsedExtension::AuthorityKeyIdentifier(aki)) => {
                    let id = aki.key_identifier.as_ref().expect("AKI keyIdentifier");
                    assert_eq!(
                        id.0,
                        intermediate_ski.as_slice(),
                        "{name}: AKI = issuer SKI"
                    );
                }
                ("2.5.29.17", ParsedExtension::SubjectAlternativeName(san)) => {
                    assert!(ext.critical, "{name}: SAN critical");
                    assert_eq!(san.general_names.len(), 1, "{name}: one SAN");
                    match ((case.san)(), &san.general_names[0]) {
                        (San::Email(want), GeneralName::RFC822Name(got)) => {
                            assert_eq!(want, *got, "{name}")
                        }
                        (San::Uri(want), GeneralName::URI(got)) => {
                            assert_eq!(want, *got, "{name}")
                        }
                        (San::OtherName(want), GeneralName::OtherName(oid, value)) => {
                            assert_eq!(oid.to_id_string(), "1.3.6.1.4.1.57264.1.7", "{name}");
                            // [0] EXPLICIT { UTF8String }
                            let mut expected = vec![0xa0, (want.len() + 2) as u8, 0x0c];
                            expected.push(want.len() as u8);
                            expected.extend(want.as_bytes());
                            assert_eq!(*value, expected.as_slice(), "{name}: otherName");
                        }
                        (want, got) => panic!("{name}: SAN {want:?} vs {got:?}"),
                    }
                }
                ("1.3.6.1.4.1.57264.1.1", _) => {
                    assert!(!ext.critical, "{name}");
                    assert_eq!(ext.value, ISSUER.as_bytes(), "{name}: .1 raw issuer");
                }
                ("1.3.6.1.4.1.57264.1.2", _) => assert_eq!(ext.value, b"push", "{name}: .2"),
                ("1.3.6.1.4.1.57264.1.8", _) => {
                    let mut expected = vec![0x0c, ISSUER.len() as u8];
                    expected.extend(ISSUER.as_bytes());
                    assert_eq!(ext.value, expected.as_slice(), "{name}: .8 UTF8String");
                }
                ("1.3.6.1.4.1.57264.1.9", _) => assert_eq!(ext.value[0], 0x0c, "{name}: .9"),
                ("1.3.6.1.4.1.57264.1.24", _) => {
                    assert_eq!(ext.value, b"\x0c\x06public", "{name}: .24")
                }
                ("1.3.6.1.4.1.11129.2.4.2", ParsedExtension::SCT(scts)) => {
                    assert!(!ext.critical, "{name}: SCT list non-critical");
                    assert_eq!(scts.len(), 1, "{name}: exactly one SCT");
                    let sct = &scts[0];
                    assert_eq!(sct.version.0, 0, "{name}: SCT v1");
                    assert_eq!(
                        *sct.id.key_id,
                        waxseal_crypto::sha256(issued.ct_key.public_key().spki_der()),
                        "{name}: log ID"
                    );
                    assert_eq!(sct.timestamp, SCT_TIMESTAMP_MS, "{name}: timestamp");
                    assert_eq!(sct.extensions.0, LEAF_INDEX_EXTENSION, "{name}: leaf_index");
                    assert_eq!(
                        (sct.signature.hash_alg_id, sct.signature.sign_alg_id),
                        (4, 3),
                        "{name}: sha256/ecdsa"
                    );
                    assert_eq!(sct.signature.data, issued.sct.signature(), "{name}");
                }
                (other, parsed) => panic!("{name}: unexpected extension {other}: {parsed:?}"),
            }
        }
        assert_eq!(
            seen.last().map(String::as_str),
            Some("1.3.6.1.4.1.11129.2.4.2"),
            "{name}: SCT list is the last extension"
        );
        assert_eq!(seen.len(), 11, "{name}: extensions {seen:?}");
    }
}

#[test]
fn final_tbs_without_sct_list_is_precert_tbs_without_poison() {
    for case in ISSUE_CASES {
        let name = case.name;
        let issued = issue(case.ca, case.key, (case.san)());
        let leaf = parse_x509(issued.leaf.der());
        let precert = parse_x509(issued.precert.der());

        let from_leaf = strip_extension(leaf.tbs_certificate.as_ref(), SCT_LIST_OID_TLV);
        let from_precert = strip_extension(precert.tbs_certificate.as_ref(), POISON_OID_TLV);
        assert_eq!(from_leaf, from_precert, "{name}: byte-for-byte");
        assert_eq!(
            from_leaf,
            issued.precert.precert_tbs(),
            "{name}: crate's precert TBS"
        );
        let info = parse_leaf(issued.leaf.der()).expect("parse_leaf");
        assert_eq!(
            info.precert_tbs, from_leaf,
            "{name}: parse_leaf's precert TBS"
        );

        // The poison: critical, value NULL.
        let poison = precert
            .extensions()
            .iter()
            .find(|e| e.oid.to_id_string() == "1.3.6.1.4.1.11129.2.4.3")
            .expect("poison");
        assert!(poison.critical, "{name}: poison critical");
        assert_eq!(poison.value, [0x05, 0x00], "{name}: poison NULL");
        assert_eq!(leaf.raw_serial(), precert.raw_serial(), "{name}: serial");

        // The SCT verifies over a hand-built input: SHA-256 of the intermediate SPKI read by
        // x509-parser, and the independently stripped TBS.
        let intermediate = parse_x509(issued.ca.intermediate_der());
        let issuer_key_hash = waxseal_crypto::sha256(intermediate.public_key().raw);
        let input = digitally_signed(
            SCT_TIMESTAMP_MS,
            &issuer_key_hash,
            &from_leaf,
            LEAF_INDEX_EXTENSION,
        );
        issued
            .ct_key
            .public_key()
            .verify(&input, issued.sct.signature())
            .unwrap_or_else(|e| panic!("{name}: SCT signature: {e}"));
        verify_sct(
            &info.scts[0],
            &issued.ct_key.public_key(),
            &issuer_key_hash,
            &info.precert_tbs,
        )
        .unwrap_or_else(|e| panic!("{name}: verify_sct: {e}"));
    }
}

#[test]
fn webpki_verifies_chain_for_code_signing_inside_validity_only() {
    let at = |secs: u64| UnixTime::since_unix_epoch(Duration::from_secs(secs));
    for case in ISSUE_CASES {
        let name = case.name;
        let issued = issue(case.ca, case.key, (case.san)());
        let leaf = issued.leaf.der();
        for (time, want) in [
            (now(), Ok(())),
            (now() + Duration::from_secs(599), Ok(())),
            (
                now() - Duration::from_secs(1),
                Err(webpki::Error::CertNotValidYet {
                    time: at(NOW_SECS - 1),
                    not_before: at(NOW_SECS),
                }),
            ),
            (
                now() + Duration::from_secs(601),
                Err(webpki::Error::CertExpired {
                    time: at(NOW_SECS + 601),
                    not_after: at(NOW_SECS + 600),
                }),
            ),
        ] {
            assert_eq!(
                webpki_verify(leaf, &issued.ca, time),
                want,
                "{name} at {time:?}"
            );
        }
        // A precertificate must never pass as a certificate.
        assert_eq!(
            webpki_verify(issued.precert.der(), &issued.ca, now()),
            Err(webpki::Error::UnsupportedCriticalExtension),
            "{name}: precert rejected"
        );
    }
}

#[test]
fn webpki_rejects_leaf_from_another_ca() {
    let issued = issue(
        Algorithm::EcdsaP256Sha256,
        LeafKey::P256,
        San::Email("a@b.c".into()),
    );
    let other = generate_ca(Algorithm::EcdsaP256Sha256);
    assert!(webpki_verify(issued.leaf.der(), &other, now()).is_err());
}

#[test]
fn leaf_pem_has_go_layout() {
    let issued = issue(
        Algorithm::EcdsaP256Sha256,
        LeafKey::P256,
        San::Email("a@b.c".into()),
    );
    let pem = issued.leaf.to_pem();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(pem.ends_with("-----END CERTIFICATE-----\n"));
    let lines: Vec<&str> = pem.lines().collect();
    let body = &lines[1..lines.len() - 1];
    assert!(
        body[..body.len() - 1].iter().all(|l| l.len() == 64),
        "{pem}"
    );
    assert!(body[body.len() - 1].len() <= 64);
    assert!(!pem.contains('\r'));
    let decoded = waxseal_crypto::pem::decode(&pem, "CERTIFICATE").expect("decode");
    assert_eq!(decoded, issued.leaf.der());
    assert_eq!(
        Certificate::from_der(decoded).expect("from_der"),
        issued.leaf
    );
}

#[test]
fn parse_leaf_reads_identity() {
    let issued = issue(
        Algorithm::EcdsaP256Sha256,
        LeafKey::P256,
        San::Email("alice@example.test".into()),
    );
    let info = parse_leaf(issued.leaf.der()).expect("parse");
    assert_eq!(info.san, [San::Email("alice@example.test".into())]);
    assert!(info.san_critical);
    assert_eq!(info.issuer_v1.as_deref(), Some(ISSUER));
    assert_eq!(info.issuer_v2.as_deref(), Some(ISSUER));
    assert_eq!(info.oidc_issuer(), Some(ISSUER));
    let ext = |oid: &str| info.sigstore_extensions.get(oid).map(String::as_str);
    assert_eq!(ext("1.3.6.1.4.1.57264.1.2"), Some("push"));
    assert_eq!(ext("1.3.6.1.4.1.57264.1.24"), Some("public"));
    assert_eq!(
        ext("1.3.6.1.4.1.57264.1.9"),
        Some("https://github.com/o/r/.github/workflows/w.yml@refs/heads/main")
    );
    assert!(info.digital_signature && info.key_usage_critical);
    assert_eq!(info.extended_key_usage, ["1.3.6.1.5.5.7.3.3"]);
    assert!(!info.extended_key_usage_critical);
    assert!(!info.is_ca && !info.is_precertificate);
    assert_eq!(info.not_before, now());
    assert_eq!(info.not_after, now() + Duration::from_secs(600));
    assert_eq!(info.scts, std::slice::from_ref(&issued.sct));
    assert_eq!(info.scts[0].leaf_index(), Ok(Some(LEAF_INDEX)));
    assert_eq!(info.serial.len(), 20);

    let pre = parse_leaf(issued.precert.der()).expect("parse precert");
    assert!(pre.is_precertificate && pre.scts.is_empty() && pre.precert_tbs.is_empty());
    assert!(matches!(
        parse_leaf(issued.ca.root_der()),
        Err(Error::MissingExtension { .. })
    ));
    assert!(matches!(
        parse_leaf(b"\x30\x00"),
        Err(Error::MalformedCertificate { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// python

const PYTHON_CHECK: &str = r#"
import calendar, hashlib, struct, sys, datetime
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store, ExtensionPolicy, Criticality

d, email, issuer, now = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
load = lambda n: x509.load_pem_x509_certificate(open(f"{d}/{n}", "rb").read())
leaf, inter, root = load("leaf.pem"), load("intermediate.pem"), load("root.pem")
ct = serialization.load_pem_public_key(open(f"{d}/ct.pem", "rb").read())

assert leaf.version == x509.Version.v3
assert len(leaf.subject) == 0
san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
assert san.critical and san.value.get_values_for_type(x509.RFC822Name) == [email], san
eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
assert not eku.critical and list(eku.value) == [ExtendedKeyUsageOID.CODE_SIGNING], eku
ku = leaf.extensions.get_extension_for_class(x509.KeyUsage)
assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
v1 = leaf.extensions.get_extension_for_oid(x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1"))
assert v1.value.value == issuer.encode(), v1
v8 = leaf.extensions.get_extension_for_oid(x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8"))
assert v8.value.value == b"\x0c" + bytes([len(issuer)]) + issuer.encode(), v8
aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
ski = inter.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
assert aki.key_identifier == ski.digest

# SCT, as sigstore-python's _internal/sct.py checks it.
scts = leaf.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps).value
assert len(scts) == 1
sct = scts[0]
assert sct.version == x509.certificate_transparency.Version.v1
assert sct.entry_type == x509.certificate_transparency.LogEntryType.PRE_CERTIFICATE
spki = ct.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
assert sct.log_id == hashlib.sha256(spki).digest()
issuer_spki = inter.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
tbs = leaf.tbs_precertificate_bytes
ts = calendar.timegm(sct.timestamp.utctimetuple()) * 1000 + sct.timestamp.microsecond // 1000
ext = sct.extension_bytes
data = struct.pack(">BBQH", 0, 0, ts, 1) + hashlib.sha256(issuer_spki).digest() \
    + len(tbs).to_bytes(3, "big") + tbs + struct.pack(">H", len(ext)) + ext
ct.verify(sct.signature, data, ec.ECDSA(hashes.SHA256()))

# Chain, as sigstore-python's verifier builds it (webpki defaults, EKU relaxed).
ee_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)
ca_policy = ExtensionPolicy.webpki_defaults_ca().may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)
def verify(t):
    builder = PolicyBuilder().store(Store([root])).time(datetime.datetime.fromtimestamp(t, datetime.timezone.utc))
    builder = builder.extension_policies(ee_policy=ee_policy, ca_policy=ca_policy)
    return builder.build_client_verifier().verify(leaf, [inter])
verify(now)
try:
    verify(now + 601)
    raise SystemExit("expired leaf verified")
except x509.verification.VerificationError:
    pass
print("python cryptography", __import__("cryptography").__version__, "ok")
"#;

#[test]
fn python_cryptography_accepts_leaf() {
    let probe = Command::new("python3")
        .args(["-c", "import cryptography.x509.verification"])
        .output();
    if !matches!(&probe, Ok(o) if o.status.success()) {
        eprintln!("SKIPPED python_cryptography_accepts_leaf: python3 `cryptography` unavailable");
        return;
    }
    for ca in [Algorithm::EcdsaP256Sha256, Algorithm::EcdsaP384Sha384] {
        let issued = issue(ca, LeafKey::P256, San::Email("alice@example.test".into()));
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, text: String| {
            std::fs::write(dir.path().join(name), text).expect("write");
        };
        write("leaf.pem", issued.leaf.to_pem());
        write(
            "intermediate.pem",
            waxseal_crypto::pem::encode("CERTIFICATE", issued.ca.intermediate_der()),
        );
        write(
            "root.pem",
            waxseal_crypto::pem::encode("CERTIFICATE", issued.ca.root_der()),
        );
        write("ct.pem", issued.ct_key.public_key().to_pem());
        let out = Command::new("python3")
            .arg("-c")
            .arg(PYTHON_CHECK)
            .arg(dir.path())
            .arg("alice@example.test")
            .arg(ISSUER)
            .arg(NOW_SECS.to_string())
            .output()
            .expect("run python3");
        assert!(
            out.status.success(),
            "{ca}: python check failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("{ca}: {}", String::from_utf8_lossy(&out.stdout).trim());
    }
}

// ---------------------------------------------------------------------------------------------
// ca

#[test]
fn ca_certificates_follow_profile() {
    for algorithm in [Algorithm::EcdsaP256Sha256, Algorithm::EcdsaP384Sha384] {
        let ca = generate_ca(algorithm);
        let root = parse_x509(ca.root_der());
        let intermediate = parse_x509(ca.intermediate_der());
        assert_eq!(
            root.subject().as_raw(),
            root.issuer().as_raw(),
            "{algorithm}: self-signed"
        );
        assert_eq!(
            intermediate.issuer().as_raw(),
            root.subject().as_raw(),
            "{algorithm}"
        );
        let root_key = PublicKey::from_spki_der(root.public_key().raw).expect("root key");
        for (cert, what) in [(&root, "root"), (&intermediate, "intermediate")] {
            root_key
                .verify(cert.tbs_certificate.as_ref(), &cert.signature_value.data)
                .unwrap_or_else(|e| panic!("{algorithm}: {what} signed by root: {e}"));
        }

        let root_bc = root.basic_constraints().expect("ok").expect("root BC");
        assert!(root_bc.critical && root_bc.value.ca, "{algorithm}: root CA");
        let root_ku = root.key_usage().expect("ok").expect("root KU");
        assert!(root_ku.critical && root_ku.value.key_cert_sign() && root_ku.value.crl_sign());

        let bc = intermediate.basic_constraints().expect("ok").expect("BC");
        assert!(bc.critical && bc.value.ca, "{algorithm}: intermediate CA");
        assert_eq!(
            bc.value.path_len_constraint,
            Some(0),
            "{algorithm}: pathLen 0"
        );
        let ku = intermediate.key_usage().expect("ok").expect("KU");
        assert!(ku.critical && ku.value.key_cert_sign(), "{algorithm}");
        let eku = intermediate.extended_key_usage().expect("ok").expect("EKU");
        assert!(!eku.critical && eku.value.code_signing, "{algorithm}");
        let root_ski = root
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0),
                _ => None,
            })
            .expect("root SKI");
        let aki = intermediate
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(a) => a.key_identifier.clone(),
                _ => None,
            })
            .expect("intermediate AKI");
        assert_eq!(aki.0, root_ski, "{algorithm}: AKI = root SKI");
        assert_eq!(
            ca.chain_der(),
            [ca.intermediate_der().to_vec(), ca.root_der().to_vec()]
        );
    }
}

#[test]
fn ca_round_trips_through_pem() {
    let ca = generate_ca(Algorithm::EcdsaP256Sha256);
    assert!(ca.root_key_pem().is_some());
    let loaded = CertificateAuthority::from_pem(&ca.key_pem(), &ca.chain_pem()).expect("load");
    assert!(loaded.root_key_pem().is_none());
    assert_eq!(loaded.chain_der(), ca.chain_der());
    assert_eq!(loaded.issuer_key_hash(), ca.issuer_key_hash());
    let root_key =
        SigningKey::from_pkcs8_pem(&ca.root_key_pem().expect("root key")).expect("root key parses");
    assert_eq!(
        root_key.public_key().spki_der(),
        parse_x509(ca.root_der()).public_key().raw
    );

    // Issue with the loaded CA; webpki accepts it under the original root.
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).expect("key");
    let request = LeafRequest::new(
        key.public_key(),
        San::Email("a@b.c".into()),
        ISSUER,
        now(),
        now() + Duration::from_secs(600),
    )
    .expect("request");
    let precert = loaded.issue_precertificate(&request).expect("precert");
    let ct = SigningKey::generate(Algorithm::EcdsaP256Sha256).expect("ct");
    let sct = sign_sct(
        &ct,
        1,
        None,
        precert.issuer_key_hash(),
        precert.precert_tbs(),
    )
    .expect("sct");
    assert_eq!(sct.leaf_index(), Ok(None));
    let leaf = loaded.finish(&precert, &[sct]).expect("finish");
    webpki_verify(leaf.der(), &ca, now()).expect("chain");
}

#[test]
fn ca_rejects_bad_inputs() {
    let ca = generate_ca(Algorithm::EcdsaP256Sha256);
    let other = generate_ca(Algorithm::EcdsaP256Sha256);
    let one_cert = waxseal_crypto::pem::encode("CERTIFICATE", ca.intermediate_der());
    let swapped = format!(
        "{}{}",
        waxseal_crypto::pem::encode("CERTIFICATE", ca.intermediate_der()),
        waxseal_crypto::pem::encode("CERTIFICATE", other.root_der())
    );
    let day = Duration::from_secs(86_400);
    let generate = |algorithm, names: &CaNames, lifetime| {
        CertificateAuthority::generate(algorithm, names, now(), lifetime).map(|_| ())
    };
    let load = |key: &str, chain: &str| CertificateAuthority::from_pem(key, chain).map(|_| ());
    let cases: [ErrorCase; 7] = [
        (
            "key of another CA",
            load(&other.key_pem(), &ca.chain_pem()),
            |e| matches!(e, Error::CaKeyMismatch),
        ),
        ("one certificate", load(&ca.key_pem(), &one_cert), |e| {
            matches!(e, Error::CaChainLength { certificates: 1 })
        }),
        ("root of another CA", load(&ca.key_pem(), &swapped), |e| {
            matches!(e, Error::CertificateSignatureInvalid { issuer: "root" })
        }),
        ("not PEM", load("nope", &ca.chain_pem()), |e| {
            matches!(e, Error::MalformedPem(_))
        }),
        (
            "ed25519 CA",
            generate(Algorithm::Ed25519, &CaNames::default(), day),
            |e| {
                matches!(
                    e,
                    Error::CaAlgorithmUnsupported {
                        algorithm: Algorithm::Ed25519
                    }
                )
            },
        ),
        (
            "empty name",
            generate(Algorithm::EcdsaP256Sha256, &CaNames::new("", "CN=x"), day),
            |e| matches!(e, Error::NameInvalid { .. }),
        ),
        (
            "zero lifetime",
            generate(
                Algorithm::EcdsaP256Sha256,
                &CaNames::default(),
                Duration::ZERO,
            ),
            |e| matches!(e, Error::ValidityInverted { .. }),
        ),
    ];
    for (name, got, want) in cases {
        let err = got.expect_err(name);
        assert!(want(&err), "{name}: {err:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// csr and proof_of_possession

/// A P-256 CSR whose signature is replaced by the signature of another key's CSR.
fn csr_signed_by_other_key() -> String {
    use der::{Decode, Encode};
    let (a, _) = rcgen_csr(LeafKey::P256);
    let (b, _) = rcgen_csr(LeafKey::P256);
    let der_a = waxseal_crypto::pem::decode(&a, "CERTIFICATE REQUEST").expect("a");
    let der_b = waxseal_crypto::pem::decode(&b, "CERTIFICATE REQUEST").expect("b");
    let mut req_a = x509_cert::request::CertReq::from_der(&der_a).expect("a parses");
    let req_b = x509_cert::request::CertReq::from_der(&der_b).expect("b parses");
    req_a.signature = req_b.signature;
    waxseal_crypto::pem::encode("CERTIFICATE REQUEST", &req_a.to_der().expect("encode"))
}

#[test]
fn accepts_csrs_of_supported_keys() {
    for (kind, algorithm) in [
        (LeafKey::P256, Algorithm::EcdsaP256Sha256),
        (LeafKey::P384, Algorithm::EcdsaP384Sha384),
        (LeafKey::Ed25519, Algorithm::Ed25519),
        (LeafKey::Rsa2048, Algorithm::RsaPkcs1Sha256),
    ] {
        let (pem, key) = rcgen_csr(kind);
        let csr = CertificationRequest::from_pem(&pem).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(csr.public_key().algorithm(), algorithm, "{kind:?}");
        assert_eq!(
            csr.public_key().spki_der(),
            rcgen::PublicKeyData::subject_public_key_info(&key),
            "{kind:?}"
        );
        let der = waxseal_crypto::pem::decode(&pem, "CERTIFICATE REQUEST").expect("der");
        CertificationRequest::from_der(&der).unwrap_or_else(|e| panic!("{kind:?} DER: {e}"));
    }
}

#[test]
fn accepts_sigstore_python_csr() {
    let csr = CertificationRequest::from_pem(&fixture("sigstore-python.csr.pem"))
        .expect("sigstore-python's CSR shape is accepted");
    assert_eq!(csr.public_key().algorithm(), Algorithm::EcdsaP256Sha256);
}

#[test]
fn rejects_bad_csrs() {
    let (good, _) = rcgen_csr(LeafKey::P256);
    let good_der = waxseal_crypto::pem::decode(&good, "CERTIFICATE REQUEST").expect("der");
    let truncated =
        waxseal_crypto::pem::encode("CERTIFICATE REQUEST", &good_der[..good_der.len() - 3]);
    let mut trailing = good_der.clone();
    trailing.push(0);
    struct Case {
        name: &'static str,
        pem: String,
        want: fn(&Error) -> bool,
        /// The exact message (a Fulcio 400 body), when it matters.
        message: &'static str,
    }
    let cases = [
        Case {
            name: "signed by another key",
            pem: csr_signed_by_other_key(),
            want: |e| matches!(e, Error::CsrSignatureInvalid),
            message: "CSR signature does not verify",
        },
        Case {
            name: "RSA-1024",
            pem: fixture("rsa1024.csr.pem"),
            want: |e| {
                matches!(
                    e,
                    Error::RsaKeyTooWeak {
                        bits: 1024,
                        min: 2048
                    }
                )
            },
            message: "RSA-1024 keys are too weak: at least 2048 bits",
        },
        Case {
            name: "P-256 key signed with SHA-384",
            pem: fixture("p256-sha384.csr.pem"),
            want: |e| matches!(e, Error::CsrSignatureAlgorithmMismatch { .. }),
            message: "CSR signature algorithm 1.2.840.10045.4.3.3 does not match its \
                      PKIX_ECDSA_P256_SHA_256 key",
        },
        Case {
            name: "P-224",
            pem: fixture("p224.csr.pem"),
            want: |e| matches!(e, Error::UnsupportedKeyAlgorithm { .. }),
            message: "",
        },
        Case {
            name: "not PEM",
            pem: "hello".into(),
            want: |e| matches!(e, Error::MalformedPem(_)),
            message: "",
        },
        Case {
            name: "certificate label",
            pem: good.replace("CERTIFICATE REQUEST", "CERTIFICATE"),
            want: |e| matches!(e, Error::MalformedPem(_)),
            message: "",
        },
        Case {
            name: "truncated DER",
            pem: truncated,
            want: |e| matches!(e, Error::MalformedCsr { .. }),
            message: "",
        },
        Case {
            name: "trailing byte",
            pem: waxseal_crypto::pem::encode("CERTIFICATE REQUEST", &trailing),
            want: |e| matches!(e, Error::MalformedCsr { .. }),
            message: "",
        },
    ];
    for case in cases {
        let err = CertificationRequest::from_pem(&case.pem).expect_err(case.name);
        assert!((case.want)(&err), "{}: got {err:?}", case.name);
        if !case.message.is_empty() {
            assert_eq!(err.to_string(), case.message, "{}", case.name);
        }
    }
    assert!(matches!(
        CertificationRequest::from_der(b"\x30\x00"),
        Err(Error::MalformedCsr { .. })
    ));
}

#[test]
fn checks_proof_of_possession() {
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).expect("key");
    let other = SigningKey::generate(Algorithm::EcdsaP256Sha256).expect("other");
    let subject = "alice@example.test";
    let signature = key.sign(subject.as_bytes()).expect("sign");
    let spki = key.public_key().to_spki_der();
    let got = verify_proof_of_possession(&spki, &signature, subject).expect("valid PoP");
    assert_eq!(got, key.public_key());

    let ed = SigningKey::generate(Algorithm::Ed25519).expect("ed25519");
    verify_proof_of_possession(
        ed.public_key().spki_der(),
        &ed.sign(subject.as_bytes()).expect("sign"),
        subject,
    )
    .expect("ed25519 PoP");

    let other_sig = other.sign(subject.as_bytes()).expect("sign");
    /// (name, SPKI, signature, subject, expected error)
    type Case<'a> = (&'a str, &'a [u8], &'a [u8], &'a str, fn(&Error) -> bool);
    let cases: &[Case<'_>] = &[
        (
            "wrong subject",
            &spki,
            &signature,
            "bob@example.test",
            |e| matches!(e, Error::ProofOfPossessionInvalid { subject } if subject == "bob@example.test"),
        ),
        ("other key's signature", &spki, &other_sig, subject, |e| {
            matches!(e, Error::ProofOfPossessionInvalid { .. })
        }),
        ("garbage signature", &spki, b"\x30\x00", subject, |e| {
            matches!(e, Error::ProofOfPossessionInvalid { .. })
        }),
        ("empty subject", &spki, &signature, "", |e| {
            matches!(e, Error::SubjectEmpty)
        }),
        (
            "garbage key",
            b"\x30\x03\x02\x01\x00",
            &signature,
            subject,
            |e| matches!(e, Error::MalformedPublicKey(_)),
        ),
    ];
    for (name, key, sig, subject, want) in cases {
        let err = verify_proof_of_possession(key, sig, subject).expect_err(name);
        assert!(want(&err), "{name}: {err:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// sct

#[test]
fn sct_round_trips_and_detects_tampering() {
    let issued = issue(
        Algorithm::EcdsaP256Sha256,
        LeafKey::P256,
        San::Email("a@b.c".into()),
    );
    let ct = issued.ct_key.public_key();
    let hash = *issued.precert.issuer_key_hash();
    let tbs = issued.precert.precert_tbs();

    let bytes = issued.sct.to_bytes().expect("encode");
    assert_eq!(
        SignedCertificateTimestamp::from_bytes(&bytes),
        Ok(issued.sct.clone())
    );
    let list = encode_sct_list(std::slice::from_ref(&issued.sct)).expect("list");
    // OCTET STRING { u16 list length, u16 SCT length, SCT }
    let mut inner = ((bytes.len() + 2) as u16).to_be_bytes().to_vec();
    inner.extend((bytes.len() as u16).to_be_bytes());
    inner.extend(&bytes);
    let expected = encode_tlv(0x04, &inner);
    assert_eq!(list, expected);
    assert_eq!(parse_sct_list(&list), Ok(vec![issued.sct.clone()]));
    assert_eq!(
        issued
            .precert
            .sct_signing_input(SCT_TIMESTAMP_MS, issued.sct.extensions()),
        Ok(digitally_signed(
            SCT_TIMESTAMP_MS,
            &hash,
            tbs,
            issued.sct.extensions()
        ))
    );

    verify_sct(&issued.sct, &ct, &hash, tbs).expect("verifies");
    let mut bad_tbs = tbs.to_vec();
    let last = bad_tbs.len() - 1;
    bad_tbs[last] ^= 1;
    let mut tampered = bytes.clone();
    tampered[40] ^= 1; // last timestamp byte
    let tampered = SignedCertificateTimestamp::from_bytes(&tampered).expect("parses");
    let other = SigningKey::generate(Algorithm::EcdsaP256Sha256).expect("key");
    let cases: [ErrorCase; 4] = [
        ("tbs", verify_sct(&issued.sct, &ct, &hash, &bad_tbs), |e| {
            matches!(e, Error::SctSignatureInvalid)
        }),
        (
            "issuer key hash",
            verify_sct(&issued.sct, &ct, &[0; 32], tbs),
            |e| matches!(e, Error::SctSignatureInvalid),
        ),
        ("timestamp", verify_sct(&tampered, &ct, &hash, tbs), |e| {
            matches!(e, Error::SctSignatureInvalid)
        }),
        (
            "other log",
            verify_sct(&issued.sct, &other.public_key(), &hash, tbs),
            |e| matches!(e, Error::SctLogIdMismatch { .. }),
        ),
    ];
    for (name, got, want) in cases {
        let err = got.expect_err(name);
        assert!(want(&err), "{name}: {err:?}");
    }
    let ed = SigningKey::generate(Algorithm::Ed25519).expect("ed25519");
    assert!(matches!(
        sign_sct(&ed, 1, None, &hash, tbs),
        Err(Error::SctKeyUnsupported { .. })
    ));
}

#[test]
fn leaf_index_extension_is_static_ct_uint40() {
    const CASES: &[(u64, &[u8])] = &[
        (0, &[0, 0, 5, 0, 0, 0, 0, 0]),
        (1, &[0, 0, 5, 0, 0, 0, 0, 1]),
        (LEAF_INDEX, LEAF_INDEX_EXTENSION),
        ((1 << 40) - 1, &[0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ];
    for (index, want) in CASES {
        assert_eq!(
            leaf_index_extension(*index).as_deref(),
            Ok(*want),
            "{index}"
        );
    }
    assert_eq!(
        leaf_index_extension(1 << 40),
        Err(Error::LeafIndexOutOfRange { index: 1 << 40 })
    );
}

#[test]
fn rejects_malformed_sct_lists() {
    let cases: &[(&str, &[u8])] = &[
        ("empty", b""),
        ("not an OCTET STRING", b"\x05\x00"),
        ("empty list", b"\x04\x02\x00\x00"),
        ("truncated", b"\x04\x04\x00\x05\x00\x03"),
        ("trailing", b"\x04\x03\x00\x00\x00"),
        ("version 2", b"\x04\x05\x00\x03\x00\x01\x01"),
    ];
    for (name, input) in cases {
        assert!(parse_sct_list(input).is_err(), "{name}");
    }
}

#[test]
fn finish_requires_exactly_one_sct_and_own_precert() {
    let issued = issue(
        Algorithm::EcdsaP256Sha256,
        LeafKey::P256,
        San::Email("a@b.c".into()),
    );
    for n in [0usize, 2] {
        let scts = vec![issued.sct.clone(); n];
        assert_eq!(
            issued.ca.finish(&issued.precert, &scts),
            Err(Error::SctCount {
                expected: 1,
                actual: n
            })
        );
    }
    let other = generate_ca(Algorithm::EcdsaP256Sha256);
    assert!(matches!(
        other.finish(&issued.precert, std::slice::from_ref(&issued.sct)),
        Err(Error::CertificateSignatureInvalid { .. })
    ));
}

#[test]
fn ct_log_reads_received_precertificate() {
    let issued = issue(
        Algorithm::EcdsaP384Sha384,
        LeafKey::P256,
        San::Email("a@b.c".into()),
    );
    let received = Precertificate::from_der(issued.precert.der(), &issued.ca.public_key())
        .expect("precert from DER");
    assert_eq!(received.precert_tbs(), issued.precert.precert_tbs());
    assert_eq!(received.issuer_key_hash(), &issued.ca.issuer_key_hash());
    assert_eq!(received.der(), issued.precert.der());
    // The CA can finish a precertificate the log read back.
    let leaf = issued
        .ca
        .finish(&received, std::slice::from_ref(&issued.sct))
        .expect("finish");
    let info = parse_leaf(leaf.der()).expect("parse");
    verify_sct(
        &info.scts[0],
        &issued.ct_key.public_key(),
        &issued.ca.issuer_key_hash(),
        &info.precert_tbs,
    )
    .expect("SCT verifies");

    let other = generate_ca(Algorithm::EcdsaP384Sha384);
    assert!(matches!(
        Precertificate::from_der(issued.precert.der(), &other.public_key()),
        Err(Error::CertificateSignatureInvalid { .. })
    ));
    assert!(matches!(
        Precertificate::from_der(issued.leaf.der(), &issued.ca.public_key()),
        Err(Error::PoisonInvalid { .. })
    ));
    assert!(matches!(
        Precertificate::from_der(b"junk", &issued.ca.public_key()),
        Err(Error::MalformedCertificate { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// request

#[test]
fn leaf_request_validates_inputs() {
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256)
        .expect("key")
        .public_key();
    let ten = now() + Duration::from_secs(600);
    let new = |san: San| LeafRequest::new(key.clone(), san, ISSUER, now(), ten);
    for (name, san) in [
        ("email without @", San::Email("alice".into())),
        ("email without domain", San::Email("alice@".into())),
        ("non-ASCII email", San::Email("älice@example.test".into())),
        ("URI without scheme", San::Uri("example".into())),
        ("empty username", San::OtherName(String::new())),
    ] {
        assert!(matches!(new(san), Err(Error::SanInvalid { .. })), "{name}");
    }
    assert!(matches!(
        LeafRequest::new(key.clone(), San::Email("a@b.c".into()), ISSUER, ten, now()),
        Err(Error::ValidityInverted { .. })
    ));
    assert_eq!(
        LeafRequest::new(key.clone(), San::Email("a@b.c".into()), "", now(), ten).map(|_| ()),
        Err(Error::OidcIssuerEmpty)
    );
    let ok = new(San::Email("a@b.c".into())).expect("ok");
    assert_eq!(ok.oidc_issuer(), ISSUER);
    for oid in [
        "1.3.6.1.4.1.57264.1.1",
        "1.3.6.1.4.1.57264.1.7",
        "1.3.6.1.4.1.57264.1.8",
        "1.3.6.1.4.1.57264.1.25",
        "1.3.6.1.4.1.57264.1.09",
        "1.3.6.1.4.1.57264.1.+9",
        "1.3.6.1.4.1.57264.1",
        "2.5.29.19",
        "nonsense",
    ] {
        assert_eq!(
            ok.clone().with_extension(oid, "x").map(|_| ()),
            Err(Error::ExtensionNotAllowed { oid: oid.into() }),
            "{oid}"
        );
    }
    let once = ok
        .with_extension("1.3.6.1.4.1.57264.1.12", "x")
        .expect("once");
    assert_eq!(
        once.with_extension("1.3.6.1.4.1.57264.1.12", "y")
            .map(|_| ()),
        Err(Error::DuplicateExtension {
            oid: "1.3.6.1.4.1.57264.1.12".into()
        })
    );
}

#[test]
fn issued_leaf_keeps_requested_key() {
    let key = SigningKey::generate(Algorithm::EcdsaP521Sha512).expect("key");
    let ca = generate_ca(Algorithm::EcdsaP256Sha256);
    let request = LeafRequest::new(
        key.public_key(),
        San::Uri("https://example.test/wf".into()),
        ISSUER,
        now(),
        now() + Duration::from_secs(600),
    )
    .expect("request");
    let precert = ca.issue_precertificate(&request).expect("precert");
    let info = parse_leaf(precert.der()).expect("parse");
    assert_eq!(info.public_key, key.public_key());
    assert_eq!(info.san, [San::Uri("https://example.test/wf".into())]);
    assert_eq!(
        PublicKey::from_spki_der(parse_x509(precert.der()).public_key().raw).expect("spki"),
        key.public_key()
    );
}

// ---------------------------------------------------------------------------------------------
// public-good

/// `../shared/vectors/sigstore`, when the workspace has it beside it.
fn sigstore_vectors() -> Option<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/sigstore");
    dir.is_dir().then_some(dir)
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("JSON")
}

/// Standard base64 (a protojson `bytes` field), decoded through the PEM reader.
fn base64(text: &str) -> Vec<u8> {
    waxseal_crypto::pem::decode(
        &format!("-----BEGIN X-----\n{text}\n-----END X-----\n"),
        "X",
    )
    .expect("base64")
}

/// A real Fulcio leaf from the public-good instance (sigstore-python's test asset
/// `bundle_v3_github.whl.sigstore`): `parse_leaf` reads its identity, and its embedded SCT
/// verifies under the production CT log key with the production intermediate's key hash.
#[test]
fn reads_public_good_leaf_and_verifies_its_sct() {
    let Some(dir) = sigstore_vectors() else {
        eprintln!("SKIPPED reads_public_good_leaf_and_verifies_its_sct: no shared/vectors");
        return;
    };
    let bundle =
        read_json(&dir.join("production-rekor1-msg-bundle02-github-actions/bundle.sigstore.json"));
    let root = read_json(&dir.join("roots/production.trusted_root.json"));
    let leaf = base64(
        bundle["verificationMaterial"]["x509CertificateChain"]["certificates"][0]["rawBytes"]
            .as_str()
            .expect("leaf"),
    );
    let info = parse_leaf(&leaf).expect("parse public-good leaf");
    assert_eq!(
        info.san,
        [San::Uri(
            "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
                .into()
        )]
    );
    assert!(info.san_critical);
    let github = "https://token.actions.githubusercontent.com";
    assert_eq!(info.issuer_v1.as_deref(), Some(github));
    assert_eq!(info.issuer_v2.as_deref(), Some(github));
    assert_eq!(
        info.sigstore_extensions
            .get("1.3.6.1.4.1.57264.1.12")
            .map(String::as_str),
        Some("https://github.com/trailofbits/rfc8785.py")
    );
    assert!(info.digital_signature && !info.is_ca && !info.is_precertificate);
    assert_eq!(info.extended_key_usage, ["1.3.6.1.5.5.7.3.3"]);
    assert_eq!(info.scts.len(), 1);
    let sct = &info.scts[0];

    // Independently: the precert TBS by the hand-written walker.
    let independent = strip_extension(parse_x509(&leaf).tbs_certificate.as_ref(), SCT_LIST_OID_TLV);
    assert_eq!(info.precert_tbs, independent);

    let ct_key = root["ctlogs"]
        .as_array()
        .expect("ctlogs")
        .iter()
        .map(|log| base64(log["publicKey"]["rawBytes"].as_str().expect("key")))
        .find(|spki| &waxseal_crypto::sha256(spki) == sct.log_id())
        .expect("the SCT's log is in the production root");
    let ct_key = PublicKey::from_spki_der(&ct_key).expect("CT key");
    let verified = root["certificateAuthorities"]
        .as_array()
        .expect("CAs")
        .iter()
        .map(|ca| {
            base64(
                ca["certChain"]["certificates"][0]["rawBytes"]
                    .as_str()
                    .expect("ca"),
            )
        })
        .filter(|intermediate| {
            let spki = parse_x509(intermediate).public_key().raw.to_vec();
            verify_sct(
                sct,
                &ct_key,
                &waxseal_crypto::sha256(&spki),
                &info.precert_tbs,
            )
            .is_ok()
        })
        .count();
    assert_eq!(
        verified, 1,
        "the SCT verifies under exactly one production CA"
    );
}

// ---------------------------------------------------------------------------------------------
// CT log chain checks.

#[test]
fn ct_chain_checks_accept_chains_to_an_accepted_root() {
    let issued = issue(
        Algorithm::EcdsaP256Sha256,
        LeafKey::P256,
        San::Email("alice@example.com".into()),
    );
    let ca = &issued.ca;
    let roots = vec![ca.root_der().to_vec()];
    let intermediate = ca.intermediate_der().to_vec();
    let precert = issued.precert.der().to_vec();

    // With and without the root: the root is appended when the chain stops below it.
    for chain in [
        vec![precert.clone(), intermediate.clone(), roots[0].clone()],
        vec![precert.clone(), intermediate.clone()],
    ] {
        let checked = check_ct_chain(&chain, &roots, CtSubmission::Precertificate).unwrap();
        assert_eq!(checked.leaf(), precert);
        assert_eq!(checked.issuers(), [intermediate.clone(), roots[0].clone()]);
        assert_eq!(
            checked.signed_entry(),
            &CtSignedEntry::Precert {
                issuer_key_hash: ca.issuer_key_hash(),
                tbs_certificate: issued.precert.precert_tbs().to_vec(),
            }
        );
    }
    let leaf = issued.leaf.der().to_vec();
    let checked = check_ct_chain(
        &[leaf.clone(), intermediate.clone()],
        &roots,
        CtSubmission::Certificate,
    )
    .unwrap();
    assert_eq!(
        checked.signed_entry(),
        &CtSignedEntry::X509 { certificate: leaf }
    );
}

#[test]
fn ct_chain_checks_reject_bad_chains() {
    let issued = issue(
        Algorithm::EcdsaP256Sha256,
        LeafKey::P256,
        San::Email("alice@example.com".into()),
    );
    let ca = &issued.ca;
    // Same names, other keys: names chain but signatures do not.
    let other = generate_ca(Algorithm::EcdsaP256Sha256);
    let roots = vec![ca.root_der().to_vec()];
    let root = roots[0].clone();
    let intermediate = ca.intermediate_der().to_vec();
    let precert = issued.precert.der().to_vec();
    let leaf = issued.leaf.der().to_vec();
    type Check = fn(&Error) -> bool;
    let cases: [(&str, Vec<Vec<u8>>, CtSubmission, Check); 9] = [
        ("empty", vec![], CtSubmission::Precertificate, |e| {
            matches!(e, Error::ChainEmpty)
        }),
        (
            "garbage",
            vec![precert.clone(), b"not DER".to_vec()],
            CtSubmission::Precertificate,
            |e| matches!(e, Error::MalformedCertificate { reason } if reason.starts_with("chain[1]")),
        ),
        (
            "precert to add-chain",
            vec![precert.clone(), intermediate.clone()],
            CtSubmission::Certificate,
            |e| matches!(e, Error::PoisonUnexpected),
        ),
        (
            "final cert to add-pre-chain",
            vec![leaf.clone(), intermediate.clone()],
            CtSubmission::Precertificate,
            |e| matches!(e, Error::PoisonInvalid { .. }),
        ),
        (
            "wrong order",
            vec![precert.clone(), root.clone(), intermediate.clone()],
            CtSubmission::Precertificate,
            |e| matches!(e, Error::ChainIssuerMismatch { index: 0 }),
        ),
        (
            "intermediate of another CA with the same names",
            vec![precert.clone(), other.intermediate_der().to_vec()],
            CtSubmission::Precertificate,
            |e| matches!(e, Error::ChainSignatureInvalid { index: 0, .. }),
        ),
        (
            "this intermediate under another root with the same names",
            vec![
                precert.clone(),
                intermediate.clone(),
                other.root_der().to_vec(),
            ],
            CtSubmission::Precertificate,
            |e| matches!(e, Error::ChainSignatureInvalid { index: 1, .. }),
        ),
        (
            "another CA's chain",
            vec![other.intermediate_der().to_vec(), other.root_der().to_vec()],
            CtSubmission::Certificate,
            |e| matches!(e, Error::ChainNotToAcceptedRoot),
        ),
        (
            "the leaf alone",
            vec![precert.clone()],
            CtSubmission::Precertificate,
            |e| matches!(e, Error::ChainNotToAcceptedRoot),
        ),
    ];
    // Remembered links skip only the signatures of the exact CA certificates that verified.
    let links = VerifiedLinks::new();
    check_ct_chain_with(
        &[precert.clone(), intermediate.clone(), root.clone()],
        &roots,
        CtSubmission::Precertificate,
        Some(&links),
    )
    .unwrap();
    for (name, chain, submission, check) in cases {
        for (how, result) in [
            ("uncached", check_ct_chain(&chain, &roots, submission)),
            (
                "with verified links",
                check_ct_chain_with(&chain, &roots, submission, Some(&links)),
            ),
        ] {
            match result {
                Err(e) => assert!(check(&e), "{name} ({how}): unexpected error {e}"),
                Ok(_) => panic!("{name} ({how}): accepted"),
            }
        }
    }
}
