//! Verification options: knobs with safe defaults ([`VerifyOptions::default`] is what
//! [`Verifier::verify`](crate::Verifier::verify) uses).

/// What a bundle's transparency log entry must prove.
///
/// The default, [`TlogRequirement::Proof`], is sigstore-python 4.5's rule. cosign accepts less
/// ([`TlogRequirement::PromiseOrProof`], its default for legacy image signatures, which carry only
/// a SET), or nothing at all with `--insecure-ignore-tlog` ([`TlogRequirement::InsecureSkip`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlogRequirement {
    /// cosign `--insecure-ignore-tlog`: a bundle may have no log entry at all. An entry that is
    /// present is still verified as under [`TlogRequirement::PromiseOrProof`]. Without an entry
    /// nothing shows the signature was public, and nothing gives a verified time but RFC 3161
    /// timestamps: with an identity policy a verified TSA time is still required (the
    /// certificate's validity is checked at it), while a key policy without entry or
    /// timestamps needs no time (keys have no validity period).
    InsecureSkip,
    /// cosign's rule: an inclusion proof with its checkpoint, or else a valid inclusion promise
    /// (the Rekor v1 SET, with the integrated time it binds) suffices.
    PromiseOrProof,
    /// Every entry must carry an inclusion proof and its signed checkpoint (sigstore-python's
    /// `TransparencyLogEntry._validate`); a SET alone is refused with
    /// [`BundleError::MissingInclusionProof`](crate::BundleError::MissingInclusionProof).
    #[default]
    Proof,
}

/// Options for [`Verifier::verify_with`](crate::Verifier::verify_with). The default is the
/// strict behaviour of [`Verifier::verify`](crate::Verifier::verify).
///
/// ```
/// use waxseal_verify::{TlogRequirement, VerifyOptions};
///
/// let cosign = VerifyOptions::default().with_tlog(TlogRequirement::PromiseOrProof);
/// assert_eq!(cosign.tlog, TlogRequirement::PromiseOrProof);
/// assert_eq!(VerifyOptions::default().tlog, TlogRequirement::Proof);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// What the transparency log entry must prove.
    pub tlog: TlogRequirement,
}

impl VerifyOptions {
    /// These options with `tlog` as the log requirement.
    #[must_use]
    pub fn with_tlog(mut self, tlog: TlogRequirement) -> Self {
        self.tlog = tlog;
        self
    }
}
