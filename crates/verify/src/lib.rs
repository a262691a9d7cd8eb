//! Offline verification of Sigstore bundles: a bundle, a trusted root and a policy in, a
//! [`VerifiedBundle`] or a staged [`Error`] out.
//!
//! What it implements: the checks sigstore-python 4.5 (`sigstore/verify/verifier.py`) makes on
//! bundles v0.1–v0.3 (protobuf-specs `sigstore_bundle.proto`), failing closed — the Fulcio leaf
//! chain to a trusted CA at each verified time (RFC 5280 path basics: names, signatures,
//! validity, CA flags), embedded SCTs (RFC 6962 §3), the Fulcio profile and identity policy
//! (sigstore/fulcio `certificate-specification.md`, `oid-info.md`), Rekor v1 and v2 entries
//! (`hashedrekord`, `dsse`, and Rekor v1 `intoto` 0.0.2)
//! (inclusion proofs, RFC 9162 §2.1.3.2; checkpoints, C2SP `tlog-checkpoint`; SETs; canonical
//! body consistency against CVE-2022-36056), RFC 3161 timestamps, message signatures and DSSE
//! envelopes with in-toto statements. See [`Verifier::verify`] for the exact order.
//! [`Verifier::verify_with`] takes [`VerifyOptions`], such as cosign's weaker
//! [`TlogRequirement`]s. [`Verifier::verify_image_signature`] verifies cosign's container-image
//! signatures (v3 referrer bundles, legacy `.sig`/`.att` layers; FORMATS.md §1) and binds them
//! to the image digest. [`verify_git_signature`] verifies gitsign-style git commit and tag
//! signatures (CMS checks, then the embedded Rekor v1 or v2 entry, as a bundle).
//!
//! What it does **not** do: fetch anything (no network, no TUF: the caller supplies the trusted
//! root, or uses the embedded production root via [`Verifier::production`]), read the clock
//! (only signed times are used), parse formats (`waxseal-bundle`, `-x509`, `-note`, `-tsa` do),
//! check revocation, or evaluate policy documents (`waxseal-policy`, to come).
//!
//! ```no_run
//! use waxseal_verify::{Artifact, Identity, Matcher, Policy, Verifier};
//!
//! let verifier = Verifier::production()?; // parse the trusted root once
//! let bundle = std::fs::read("artifact.sigstore.json")?;
//! let artifact = std::fs::read("artifact")?;
//! let policy = Policy::Identity(Identity::new(
//!     Matcher::exact("alice@example.com"),
//!     Matcher::exact("https://github.com/login/oauth"),
//! ));
//! let verified = verifier.verify_json(&bundle, Artifact::Bytes(&artifact), &policy)?;
//! println!("signed by {:?} at log index {}", verified.identity(), verified.log_index());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cert;
mod error;
mod git;
mod image;
mod options;
mod policy;
mod tlog;
mod verified;
mod verifier;

pub use error::{
    BundleError, CertificateError, Error, ImageError, InputError, PolicyError, SignatureError,
    Time, TimeError, TimeSource, TlogError, TrustedRootError,
};
pub use git::{
    GitError, GitLogEvidence, VerifiedGitSignature, verify_git_signature,
    verify_git_signature_with_entry,
};
pub use image::{ImageSignature, ImageSignatureFormat, VerifiedImageSignature};
pub use options::{TlogRequirement, VerifyOptions};
pub use policy::{Artifact, Identity, Matcher, Policy};
pub use verified::{VerifiedBundle, VerifiedTime};
pub use verifier::{MAX_TIMESTAMPS, VERIFIED_TIME_THRESHOLD, Verifier};
