//! An RFC 3161 timestamp authority for waxseal, and the offline verifier for its tokens.
//!
//! - Requests: DER `TimeStampReq` ([RFC 3161 §2.4.1]) and the JSON form of
//!   sigstore/timestamp-authority (`pkg/api/timestamp.go`), both into [`TimeStampRequest`].
//! - Issuing: [`Tsa::timestamp`] answers with a DER `TimeStampResp` ([RFC 3161 §2.4.2]) whose
//!   token is CMS SignedData ([RFC 5652 §5]) over a `TSTInfo`, signed with ECDSA P-256, carrying
//!   the ESS `signingCertificateV2` attribute ([RFC 5816 §2.2.1]).
//! - Keys: [`TsaKeys`] makes a self-signed root and a TSA certificate with the [RFC 3161 §2.3]
//!   profile (critical EKU `id-kp-timeStamping`), and stores them as PEM.
//! - Verifying: [`verify_timestamp`] checks a response against a TSA chain, failing closed, as
//!   sigstore-python and sigstore-js do.
//!
//! This crate is pure: no HTTP, no clock, no storage. Time and serial numbers are parameters.
//! It does **not** serve HTTP (`waxseal-server` routes `POST /api/v1/timestamp` and
//! `GET /api/v1/timestamp/certchain` to it), does not verify bundles (`waxseal-verify` calls
//! [`verify_timestamp`] with the bundle's signature and the trusted root's TSA chain), and does
//! not answer rejections with a `TimeStampResp`: as sigstore/timestamp-authority does, the server
//! turns request errors ([`Error::is_bad_request`]) into `400` with a JSON error body. It accepts
//! no request extensions, issues with SHA-256 only (imprints may be SHA-256/384/512), verifies
//! ECDSA signatures only, and reads only whole-second genTimes.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use waxseal_tsa::{HashAlgorithm, TimeStampRequest, Tsa, TsaKeys, verify_timestamp};
//!
//! let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
//! let keys = TsaKeys::generate(now, Duration::from_secs(365 * 24 * 3600))?;
//! let chain = keys.chain_der();
//! let tsa = Tsa::new(keys);
//!
//! let signature = b"signature bytes to timestamp";
//! let digest = HashAlgorithm::Sha256.digest(signature);
//! let request = TimeStampRequest::new(HashAlgorithm::Sha256, &digest)?.with_nonce(7);
//! let response = tsa.timestamp(&request, now, &[1, 2, 3])?;
//!
//! let chain: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
//! let verified = verify_timestamp(&response, signature, &chain)?;
//! assert_eq!(verified.gen_time(), now);
//! # Ok::<(), waxseal_tsa::Error>(())
//! ```
//!
//! [RFC 3161 §2.3]: https://www.rfc-editor.org/rfc/rfc3161#section-2.3
//! [RFC 3161 §2.4.1]: https://www.rfc-editor.org/rfc/rfc3161#section-2.4.1
//! [RFC 3161 §2.4.2]: https://www.rfc-editor.org/rfc/rfc3161#section-2.4.2
//! [RFC 5652 §5]: https://www.rfc-editor.org/rfc/rfc5652#section-5
//! [RFC 5816 §2.2.1]: https://www.rfc-editor.org/rfc/rfc5816#section-2.2.1

mod asn1;
mod authority;
mod cert;
mod error;
mod keys;
mod oid;
mod request;
mod verify;

#[cfg(test)]
mod tests;

pub use authority::Tsa;
pub use error::Error;
pub use keys::{PemFiles, TsaKeys};
pub use request::{HashAlgorithm, TimeStampRequest};
pub use verify::{VerifiedTimestamp, VerifyOptions, verify_timestamp, verify_timestamp_with};
