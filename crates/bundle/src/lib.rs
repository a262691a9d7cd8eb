//! Sigstore wire formats: bundles, trust material, DSSE envelopes and the Rekor entry kinds,
//! validated and canonicalised byte for byte as the reference services do.
//!
//! What it implements:
//!
//! - The Sigstore bundle v0.1–v0.3 (protobuf-specs `sigstore_bundle.proto`, protobuf JSON):
//!   [`Bundle`], read strictly and written as sigstore-python and sigstore-js write it.
//! - Trust material (`sigstore_trustroot.proto`): [`TrustedRoot`], [`SigningConfig`] v0.2 and
//!   [`ClientTrustConfig`], with the exact media types sigstore-python 4.5 accepts.
//! - DSSE envelopes and the DSSEv1 pre-authentication encoding
//!   ([DSSE `envelope.md`, `protocol.md`][dsse]; protobuf-specs `envelope.proto`): [`dsse`].
//! - Rekor v1 proposed entries (sigstore/rekor `openapi.yaml`, `pkg/types/hashedrekord/v0.0.1`,
//!   `pkg/types/dsse/v0.0.1`): [`rekor::validate_v1`] checks the signatures and builds the
//!   canonical body (RFC 8785 JSON, as Rekor's `types.CanonicalizeEntry`).
//! - Rekor v2 create requests (sigstore/rekor-tiles `api/proto/rekor/v2/*.proto`,
//!   `pkg/types/hashedrekord`, `pkg/types/dsse`): [`rekor::validate_v2`], with the
//!   `hashedrekord`/`dsse` 0.0.2 bodies that sigstore-python rebuilds and compares.
//! - Legacy material: a bare DSSE envelope (cosign, slsa-github-generator `.intoto.jsonl`
//!   lines, possibly with a `cert` beside a signature) and the Rekor v1 `LogEntry` that logged
//!   it, made into a bundle: [`Document`], [`LegacyEnvelope`], [`Bundle::from_rekor_entry`].
//! - The signed entry timestamp payload (rekor `pkg/api/entries.go`): [`rekor::set_payload`].
//! - Search terms as Rekor's `IndexKeys()` derives them, and the v1 `SearchIndex` query:
//!   [`rekor::SearchTerm`], [`rekor::SearchIndex`].
//! - Response shapes: protobuf-specs `TransparencyLogEntry` (`sigstore_rekor.proto`, also a
//!   bundle's `tlogEntries[]` element) and Rekor v1's `LogEntry`: [`rekor::TransparencyLogEntry`],
//!   [`rekor::LogEntry`].
//!
//! What it does **not** do: HTTP (`waxseal-server`), storage, sequencing and proofs
//! (`waxseal-log`), signing the SET or checkpoints (the log's key, through `waxseal-crypto`), and
//! full bundle verification against a trusted root (`waxseal-verify`). Certificates in
//! entries are parsed for their key and subject alternative names only; no chain is checked, as
//! Rekor checks none for a single certificate. Validating or writing Rekor's `intoto` kind (only
//! reading its body, to import legacy entries), Ed25519ph, certificate
//! chains in `publicKey.content`, and enum numbers in protobuf JSON are not accepted.
//!
//! [dsse]: https://github.com/secure-systems-lab/dsse
//!
//! ```
//! use waxseal_bundle::rekor::{self, Kind, SearchTerm};
//! use waxseal_crypto::{Algorithm, SigningKey, sha256};
//! use base64::Engine as _;
//! use base64::engine::general_purpose::STANDARD;
//!
//! // A client signs an artifact's digest and proposes a hashedrekord entry.
//! let key = SigningKey::generate(Algorithm::EcdsaP256Sha256)?;
//! let artifact = b"release.tar.gz contents";
//! let request = serde_json::json!({
//!     "apiVersion": "0.0.1",
//!     "kind": "hashedrekord",
//!     "spec": {
//!         "signature": {
//!             "content": STANDARD.encode(key.sign(artifact)?),
//!             "publicKey": {"content": STANDARD.encode(key.public_key().to_pem())},
//!         },
//!         "data": {"hash": {"algorithm": "sha256", "value": hex::encode(sha256(artifact))}},
//!     },
//! });
//!
//! // The log validates it and stores the canonical body.
//! let entry = rekor::validate_v1(request.to_string().as_bytes())?;
//! assert_eq!(entry.kind(), Kind::Hashedrekord);
//! assert!(entry.canonical_body().starts_with(br#"{"apiVersion":"0.0.1","kind":"hashedrekord""#));
//! assert!(entry.search_terms().contains(&SearchTerm::Sha256Artifact(sha256(artifact))));
//!
//! // A tampered digest is refused with a message for the client.
//! let mut bad = request.clone();
//! bad["spec"]["data"]["hash"]["value"] = hex::encode([0u8; 32]).into();
//! let error = rekor::validate_v1(bad.to_string().as_bytes()).unwrap_err();
//! assert_eq!(
//!     error.to_string(),
//!     "spec.signature.content does not verify with the public key's ECDSA P-256 key"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bundle;
mod common;
pub mod dsse;
mod error;
mod legacy;
mod protojson;
pub mod rekor;
mod trust;

pub use bundle::{
    Bundle, BundleContent, BundleVersion, MessageSignature, PublicKeyIdentifier,
    Rfc3161SignedTimestamp, TimestampVerificationData, VerificationContent, VerificationMaterial,
};
pub use common::{
    DistinguishedName, HashOutput, PublicKey, TimeRange, Timestamp, TimestampError,
    X509Certificate, X509CertificateChain,
};
pub use error::Error;
pub use legacy::{Document, LegacyEnvelope};
pub use trust::{
    CLIENT_TRUST_CONFIG_MEDIA_TYPE, CertificateAuthority, ClientTrustConfig,
    SIGNING_CONFIG_MEDIA_TYPE, Service, ServiceConfiguration, ServiceSelector, SigningConfig,
    TRUSTED_ROOT_MEDIA_TYPE, TRUSTED_ROOT_MEDIA_TYPE_V0_2, TransparencyLogInstance, TrustedRoot,
};
