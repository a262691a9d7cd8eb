//! RFC 6962 §3.1 chain checks for a CT log's `add-chain` and `add-pre-chain` (§4.1, §4.2): the
//! submitted chain must parse, each certificate must be issued (name and signature) by the next,
//! and the last must be an accepted root or be issued by one. The result is what the log logs:
//! the `signed_entry` of the `TimestampedEntry` and the chain up to the root.
//!
//! Not checked here: validity periods (this crate reads no clock), BasicConstraints and path
//! length of the issuers, and Precertificate Signing Certificates (RFC 6962 §3.1's
//! `1.3.6.1.4.1.11129.2.4.4` intermediate): a precertificate's issuer is always `chain[1]`.
//! Issuer keys must be ECDSA P-256 or P-384, as for the rest of this crate.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use crate::Error;
use crate::certificate::{CT_POISON, CertificateDer};

/// Links between CA certificates (`chain[i]` issued by `chain[i + 1]`, `i ≥ 1`, or the last
/// certificate issued by an accepted root) whose signatures already verified, for
/// [`check_ct_chain_with`]: a CT log that sees the same intermediate and root on every
/// submission verifies that signature once, not every time.
///
/// A link is remembered by the SHA-256 of both certificates' exact DER, so a hit stands for a
/// verification of the very same bytes under the very same key; the issuer and subject names
/// are still compared on every submission. The leaf's link is never remembered (every leaf is
/// new). At most [`VerifiedLinks::MAX_LINKS`] links are remembered; past that, links verify
/// every time. Shared between threads behind a mutex held only for the set lookup.
#[derive(Debug, Default)]
pub struct VerifiedLinks {
    links: Mutex<HashSet<[[u8; 32]; 2]>>,
}

impl VerifiedLinks {
    /// How many links are remembered at most.
    pub const MAX_LINKS: usize = 1024;

    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    fn contains(&self, link: &[[u8; 32]; 2]) -> bool {
        self.links
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(link)
    }

    fn insert(&self, link: [[u8; 32]; 2]) {
        let mut links = self.links.lock().unwrap_or_else(PoisonError::into_inner);
        if links.len() < Self::MAX_LINKS {
            links.insert(link);
        }
    }
}

/// Which RFC 6962 submission a chain came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CtSubmission {
    /// `add-chain`: a final certificate, which must not carry the poison extension.
    Certificate,
    /// `add-pre-chain`: a precertificate, which must carry the critical poison extension.
    Precertificate,
}

/// The RFC 6962 §3.4 `signed_entry` of an accepted chain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CtSignedEntry {
    /// `x509_entry`: the leaf certificate, DER, as submitted.
    X509 {
        /// The certificate.
        certificate: Vec<u8>,
    },
    /// `precert_entry`: the issuer's key hash and the precertificate's TBS without the poison.
    Precert {
        /// SHA-256 of the issuing CA's DER SubjectPublicKeyInfo.
        issuer_key_hash: [u8; 32],
        /// The `TBSCertificate` with the poison extension removed, DER.
        tbs_certificate: Vec<u8>,
    },
}

/// A submitted chain that passed [`check_ct_chain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedCtChain {
    entry: CtSignedEntry,
    leaf: Vec<u8>,
    issuers: Vec<Vec<u8>>,
}

impl CheckedCtChain {
    /// What the log signs and logs for the leaf.
    pub fn signed_entry(&self) -> &CtSignedEntry {
        &self.entry
    }

    /// The submitted leaf (certificate or precertificate), DER, as submitted.
    pub fn leaf(&self) -> &[u8] {
        &self.leaf
    }

    /// The issuers after the leaf, DER as submitted, ending at an accepted root (appended if
    /// the submission stopped below it).
    pub fn issuers(&self) -> &[Vec<u8>] {
        &self.issuers
    }
}

/// Checks a submitted chain (`chain[0]` the leaf, each next one its issuer) against the
/// accepted `roots` (DER).
///
/// # Errors
///
/// [`Error::ChainEmpty`]; [`Error::MalformedCertificate`] naming the position of a certificate
/// that does not parse; [`Error::PoisonInvalid`] for an `add-pre-chain` leaf without a valid
/// critical poison, [`Error::PoisonUnexpected`] for an `add-chain` leaf with one;
/// [`Error::ChainIssuerMismatch`] and [`Error::ChainSignatureInvalid`] where a link is broken;
/// [`Error::ChainNotToAcceptedRoot`] if no accepted root ends or issues the chain.
pub fn check_ct_chain(
    chain: &[Vec<u8>],
    roots: &[Vec<u8>],
    submission: CtSubmission,
) -> Result<CheckedCtChain, Error> {
    check_ct_chain_with(chain, roots, submission, None)
}

/// [`check_ct_chain`], skipping the signature verification of CA-to-CA links that `links`
/// already saw verify (and remembering the ones that verify now). The leaf's signature is
/// always verified.
///
/// # Errors
///
/// As [`check_ct_chain`].
pub fn check_ct_chain_with(
    chain: &[Vec<u8>],
    roots: &[Vec<u8>],
    submission: CtSubmission,
    links: Option<&VerifiedLinks>,
) -> Result<CheckedCtChain, Error> {
    let (leaf_der, _) = chain.split_first().ok_or(Error::ChainEmpty)?;
    let parsed = chain
        .iter()
        .enumerate()
        .map(|(index, der)| {
            CertificateDer::parse(der).map_err(|e| Error::MalformedCertificate {
                reason: format!("chain[{index}]: {e}"),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let leaf = &parsed[0];
    let poison = leaf.tbs_certificate.extension(CT_POISON)?;
    match (submission, poison) {
        (CtSubmission::Certificate, Some(_)) => return Err(Error::PoisonUnexpected),
        (CtSubmission::Precertificate, None) => {
            return Err(Error::PoisonInvalid {
                reason: "no poison extension",
            });
        }
        (CtSubmission::Precertificate, Some(p)) if !p.critical => {
            return Err(Error::PoisonInvalid {
                reason: "the poison extension is not critical",
            });
        }
        (CtSubmission::Precertificate, Some(p)) if p.extn_value.as_bytes() != [0x05, 0x00] => {
            return Err(Error::PoisonInvalid {
                reason: "the poison extension's value is not NULL",
            });
        }
        _ => {}
    }
    for (index, pair) in parsed.windows(2).enumerate() {
        let ders = (chain[index].as_slice(), chain[index + 1].as_slice());
        check_link(&pair[0], &pair[1], index, ders, links)?;
    }

    let mut issuers: Vec<Vec<u8>> = chain[1..].to_vec();
    let last_index = parsed.len() - 1;
    let last = &parsed[last_index];
    let ends_at_root = last_index > 0 && roots.iter().any(|r| r == &chain[last_index]);
    if !ends_at_root {
        let root = roots
            .iter()
            .find(|root| {
                CertificateDer::parse(root).is_ok_and(|parsed| {
                    let ders = (chain[last_index].as_slice(), root.as_slice());
                    check_link(last, &parsed, last_index, ders, links).is_ok()
                })
            })
            .ok_or(Error::ChainNotToAcceptedRoot)?;
        issuers.push(root.clone());
    }

    let entry = match submission {
        CtSubmission::Certificate => CtSignedEntry::X509 {
            certificate: leaf_der.clone(),
        },
        CtSubmission::Precertificate => {
            // issuers is non-empty: either the chain had one, or a root was appended.
            let issuer_der = issuers.first().ok_or(Error::ChainNotToAcceptedRoot)?;
            let reparsed;
            let issuer = match parsed.get(1) {
                Some(issuer) => issuer,
                None => {
                    reparsed = CertificateDer::parse(issuer_der)?;
                    &reparsed
                }
            };
            let spki = der::Encode::to_der(&issuer.tbs_certificate.subject_public_key_info)
                .map_err(|e| Error::encoding("SubjectPublicKeyInfo", e))?;
            CtSignedEntry::Precert {
                issuer_key_hash: waxseal_crypto::sha256(&spki),
                tbs_certificate: leaf
                    .tbs_certificate
                    .without_extension(CT_POISON)
                    .to_der_bytes()?,
            }
        }
    };
    Ok(CheckedCtChain {
        entry,
        leaf: leaf_der.clone(),
        issuers,
    })
}

/// [`check_issued_by`] for `cert` (at `index`, DER `ders.0`) and `issuer` (DER `ders.1`),
/// skipping the signature when `links` saw this CA-to-CA link verify (and remembering it once
/// it verifies). The leaf's link (`index` 0) is always verified.
fn check_link(
    cert: &CertificateDer,
    issuer: &CertificateDer,
    index: usize,
    ders: (&[u8], &[u8]),
    links: Option<&VerifiedLinks>,
) -> Result<(), Error> {
    match links.filter(|_| index > 0) {
        Some(links) => {
            let link = [
                waxseal_crypto::sha256(ders.0),
                waxseal_crypto::sha256(ders.1),
            ];
            if links.contains(&link) {
                if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
                    return Err(Error::ChainIssuerMismatch { index });
                }
                return Ok(());
            }
            check_issued_by(cert, issuer, index)?;
            links.insert(link);
            Ok(())
        }
        None => check_issued_by(cert, issuer, index),
    }
}

/// Checks that `issuer` (at `index + 1`) issued `cert` (at `index`): names chain, and the
/// signature verifies under the issuer's key.
fn check_issued_by(
    cert: &CertificateDer,
    issuer: &CertificateDer,
    index: usize,
) -> Result<(), Error> {
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return Err(Error::ChainIssuerMismatch { index });
    }
    let key = issuer.public_key()?;
    cert.verify_signature(&key, "issuer")
        .map_err(|e| Error::ChainSignatureInvalid {
            index,
            reason: e.to_string(),
        })
}
