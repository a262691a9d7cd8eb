//! The Fulcio certificate profile for waxseal: CA generation, CSR and proof-of-possession
//! checks, precertificates, RFC 6962 signed certificate timestamps and leaf issuance.
//!
//! What it implements:
//!
//! - The leaf profile of sigstore/fulcio [`certificate-specification.md`][spec] and the OIDs of
//!   [`oid-info.md`][oids]: X.509 v3, random positive 20-byte serial, empty subject, one
//!   critical SubjectAltName, KeyUsage digitalSignature (critical), EKU codeSigning
//!   (non-critical), AKI and SKI, the OIDC issuer in both `1.3.6.1.4.1.57264.1.1` (raw) and
//!   `.8` (UTF8String), signed ECDSA-SHA256 (P-256 CA) or ECDSA-SHA384 (P-384 CA):
//!   [`LeafRequest`], [`CertificateAuthority::issue_precertificate`],
//!   [`CertificateAuthority::finish`], read back by [`parse_leaf`].
//! - A root and an issuing intermediate with PEM persistence: [`CertificateAuthority`].
//! - Proof of possession: PKCS#10 requests ([RFC 2986]) with their self-signature verified
//!   ([`CertificationRequest`]), and Fulcio's signed-subject form
//!   ([`verify_proof_of_possession`]). Leaf keys may be ECDSA P-256/384/521, RSA 2048–4096 or
//!   Ed25519.
//! - Precertificates and SCTs, [RFC 6962 §3.1–3.3][ct]: the critical poison, the
//!   `digitally-signed` precert input with `issuer_key_hash`, the embedded SCT list, and the
//!   C2SP [static-ct-api] `leaf_index` extension: [`Precertificate`], [`sign_sct`],
//!   [`verify_sct`], [`encode_sct_list`], [`parse_sct_list`].
//! - The chain checks of a CT log's `add-chain` / `add-pre-chain` (RFC 6962 §3.1, §4.1–4.2):
//!   [`check_ct_chain`] → [`CheckedCtChain`].
//!
//! The final certificate's TBS is the precertificate's with the poison replaced by the SCT
//! list, placed last; removing that extension reproduces the SCT's signed TBS byte for byte,
//! which is what sigstore-python (`tbs_precertificate_bytes`) and sigstore-js (remove and
//! re-encode) check.
//!
//! What it does **not** do: read a clock or the network (times are parameters), verify OIDC
//! tokens or map claims to extensions (`waxseal-oidc`), store or sequence CT entries
//! (`waxseal-log`), serve HTTP (`waxseal-server`), or verify chains and identity policy for
//! bundles (`waxseal-verify`).
//!
//! [spec]: https://github.com/sigstore/fulcio/blob/main/docs/certificate-specification.md
//! [oids]: https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md
//! [RFC 2986]: https://www.rfc-editor.org/rfc/rfc2986
//! [ct]: https://www.rfc-editor.org/rfc/rfc6962#section-3.1
//! [static-ct-api]: https://github.com/C2SP/C2SP/blob/main/static-ct-api.md
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use waxseal_crypto::{Algorithm, SigningKey};
//! use waxseal_x509::{
//!     CaNames, CertificateAuthority, LeafRequest, San, parse_leaf, sign_sct, verify_sct,
//! };
//!
//! let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
//! let year = Duration::from_secs(365 * 86_400);
//! let ca = CertificateAuthority::generate(
//!     Algorithm::EcdsaP256Sha256,
//!     &CaNames::default(),
//!     now,
//!     year,
//! )?;
//!
//! // The signer's ephemeral key, already proven by a CSR or a signed subject.
//! let signer = SigningKey::generate(Algorithm::EcdsaP256Sha256)?;
//! let request = LeafRequest::new(
//!     signer.public_key(),
//!     San::Email("alice@example.com".into()),
//!     "https://oauth2.example.com/auth",
//!     now,
//!     now + Duration::from_secs(600),
//! )?;
//! let precert = ca.issue_precertificate(&request)?;
//!
//! // The CT log signs an SCT over the precertificate (timestamp in ms, leaf index 7).
//! let ct_key = SigningKey::generate(Algorithm::EcdsaP256Sha256)?;
//! let sct = sign_sct(
//!     &ct_key,
//!     1_800_000_000_000,
//!     Some(7),
//!     precert.issuer_key_hash(),
//!     precert.precert_tbs(),
//! )?;
//!
//! let leaf = ca.finish(&precert, &[sct])?;
//! let info = parse_leaf(leaf.der())?;
//! assert_eq!(info.san, [San::Email("alice@example.com".into())]);
//! assert_eq!(info.oidc_issuer(), Some("https://oauth2.example.com/auth"));
//! verify_sct(&info.scts[0], &ct_key.public_key(), &ca.issuer_key_hash(), &info.precert_tbs)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ca;
mod certificate;
mod chain;
mod csr;
mod error;
mod leaf;
mod sct;

pub use ca::{CaNames, CertificateAuthority};
pub use chain::{
    CheckedCtChain, CtSignedEntry, CtSubmission, VerifiedLinks, check_ct_chain, check_ct_chain_with,
};
pub use csr::{CertificationRequest, verify_proof_of_possession};
pub use error::Error;
pub use leaf::{Certificate, LeafInfo, LeafRequest, Precertificate, San, parse_leaf};
pub use sct::{
    SignedCertificateTimestamp, encode_sct_list, leaf_index_extension, parse_sct_list,
    sct_signing_input, sign_sct, sign_x509_sct, verify_sct, x509_sct_signing_input,
};
