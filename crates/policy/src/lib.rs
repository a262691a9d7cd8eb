//! Offline evaluation of sigstore policy-controller `ClusterImagePolicy` documents over facts
//! the caller has already verified.
//!
//! What it implements: the `ClusterImagePolicy` schema of policy-controller
//! (`policy.sigstore.dev/v1alpha1` and `v1beta1`, `pkg/apis/policy/*/clusterimagepolicy_types.go`)
//! with its admission checks (`*_validation.go`) plus unknown-field refusal; image globs
//! (`pkg/apis/glob/glob.go`); the combination rules of `pkg/webhook/validator.go` (every
//! matching policy must pass, one authority per policy suffices, then the CIP-level policy);
//! `static`, `key` and `keyless` authorities, attestation authorities with Rego policies over
//! in-toto statements, and the CIP-level Rego policy over policy-controller's `PolicyResult`
//! (`pkg/webhook/validator_result.go`); cosign's Rego contract (`pkg/cosign/rego/rego.go`:
//! `package sigstore`, Rego v0, `isCompliant` true or `{result, error, warning}` objects); the
//! `no-match-policy` setting; policy-controller's message wording.
//!
//! What it does **not** do: read files, fetch, or read the clock (the caller passes texts and
//! the evaluation time, [`Options::now`]); verify anything cryptographically (`waxseal-verify`
//! does, and its results come in as [`Facts`]); resolve `secretRef`, `kms`, `remote`,
//! `configMapRef` or `fetchConfigFile` (refused at load as not supported offline); evaluate
//! CUE (refused: no CUE engine exists for Rust); match Kubernetes resources (`spec.match` is
//! recorded only); use `keyless.ca-cert` (refused: use a TrustRoot and `trustRootRef`).
//!
//! Rego runs in [regorus](https://github.com/microsoft/regorus) with three safeguards: a
//! cooperative wall-clock limit checked by the interpreter at every step
//! ([`RegoLimits::time`], default 1 s; regorus's only knob for this, measured with a monotonic
//! clock); `numbers.range`/`numbers.range_step` replaced by versions capped at
//! [`RegoLimits::max_range`] elements, because regorus's own reserve the whole array before
//! any check and abort the process on huge ranges; and `time.now_ns()` replaced to return
//! [`Options::now`] (also at `data.waxseal.now_ns`). A policy hitting a limit fails closed,
//! its error saying `stopped by a limit`. Not bounded: memory (regorus bounds it only with its
//! allocator feature, a global allocator this library must not impose), so a single builtin
//! call that allocates hugely within the time limit is not caught.
//!
//! Identity regular expressions use Rust `regex`, which like Go's `regexp` implements RE2
//! syntax (no backreferences, no lookaround); one difference: Rust's `\d`, `\w`, `\s` and `\b`
//! are Unicode-aware where Go's are ASCII, so write `[0-9]` for an ASCII digit. Like cosign,
//! matching is unanchored (`regexp.MatchString`): anchor with `^…$`.
//!
//! ```
//! use std::time::SystemTime;
//! use waxseal_policy::{Facts, Options, PolicySet, SignatureFact, Source};
//!
//! let yaml = r#"
//! apiVersion: policy.sigstore.dev/v1beta1
//! kind: ClusterImagePolicy
//! metadata: {name: release}
//! spec:
//!   images: [{glob: "registry.local/**"}]
//!   authorities:
//!   - keyless:
//!       url: https://fulcio.sigstore.dev
//!       identities: [{issuer: https://accounts.google.com, subject: alice@example.com}]
//! "#;
//! let policies = PolicySet::load(&[Source::new("cip.yaml", yaml)])?;
//! let facts = Facts::new(
//!     vec![
//!         SignatureFact::keyless("id", "alice@example.com", "https://accounts.google.com")
//!             .with_ca_uri("https://fulcio.sigstore.dev"),
//!     ],
//!     vec![],
//! );
//! let decision = policies.evaluate("registry.local/app:v1", &facts, &Options::new(SystemTime::now()));
//! assert!(decision.allowed(), "{}", decision.message());
//! # Ok::<(), waxseal_policy::LoadErrors>(())
//! ```

mod decision;
mod document;
mod error;
mod evaluate;
mod facts;
mod glob;
mod load;
mod policy;
mod predicate;
mod rego;

pub use decision::{AttestationResult, AuthorityResult, Decision, NoMatch, Options, PolicyResult};
pub use error::{LoadError, LoadErrorKind, LoadErrors, Location};
pub use facts::{AttestationFact, Facts, SignatureFact, Signer};
pub use policy::{
    Attestation, Authority, AuthorityKind, ClusterImagePolicy, Identity, KeyAuthority,
    KeylessAuthority, Matcher, Mode, ResourceMatch, SignatureSource, Source, StaticAction,
    StaticAuthority, TimestampAuthority, TransparencyLog,
};
pub use rego::RegoLimits;

use glob::ImageRef;

/// A validated set of ClusterImagePolicies.
#[derive(Debug, Clone)]
pub struct PolicySet {
    policies: Vec<ClusterImagePolicy>,
}

impl PolicySet {
    /// Parses and validates every document of every source: kind `ClusterImagePolicy`,
    /// apiVersion `policy.sigstore.dev/v1alpha1` or `v1beta1`, policy-controller's admission
    /// checks, and each Rego policy compiled. Empty documents are skipped.
    ///
    /// # Errors
    ///
    /// Every problem found, each naming file, document index and field
    /// ([`LoadErrors`]); also when the sources hold no policy at all.
    pub fn load(sources: &[Source]) -> Result<Self, LoadErrors> {
        let mut policies = Vec::new();
        let mut errors = Vec::new();
        for source in sources {
            load::load_source(source, &mut policies, &mut errors);
        }
        if errors.is_empty() {
            Ok(Self { policies })
        } else {
            Err(LoadErrors::new(errors))
        }
    }

    /// The policies, in source and document order.
    pub fn policies(&self) -> &[ClusterImagePolicy] {
        &self.policies
    }

    /// The keys of every `key` authority, so the caller can verify bundles signed by them.
    pub fn keys(&self) -> Vec<waxseal_crypto::PublicKey> {
        let mut keys: Vec<waxseal_crypto::PublicKey> = Vec::new();
        for authority in self.policies.iter().flat_map(|p| p.authorities()) {
            if let AuthorityKind::Key(k) = authority.kind()
                && !keys.iter().any(|seen| seen.spki_der() == k.key.spki_der())
            {
                keys.push(k.key.clone());
            }
        }
        keys
    }

    /// Every `trustRootRef` an authority names (keyless, ctlog or rfc3161timestamp), sorted
    /// and deduplicated: the caller verifies under each.
    pub fn trust_root_refs(&self) -> Vec<String> {
        let mut refs: Vec<String> = self
            .policies
            .iter()
            .flat_map(|p| p.authorities())
            .filter_map(|a| a.trust_root_ref().map(str::to_owned))
            .collect();
        refs.sort();
        refs.dedup();
        refs
    }

    /// The policies whose globs match `image` (e.g. `registry.local/app@sha256:…`); none when
    /// `image` is not a valid reference.
    pub fn matching(&self, image: &str) -> Vec<&ClusterImagePolicy> {
        match ImageRef::parse(image) {
            Ok(image) => self.matching_ref(&image),
            Err(_) => Vec::new(),
        }
    }

    fn matching_ref(&self, image: &ImageRef) -> Vec<&ClusterImagePolicy> {
        self.policies
            .iter()
            .filter(|p| p.globs().iter().any(|g| g.matches(image)))
            .collect()
    }

    /// Evaluates every matching policy over `facts`. An invalid image reference is denied
    /// whatever the no-match policy.
    pub fn evaluate(&self, image: &str, facts: &Facts, options: &Options) -> Decision {
        let mut decision = Decision {
            image: image.to_owned(),
            allowed: false,
            errors: Vec::new(),
            warnings: Vec::new(),
            policies: Vec::new(),
        };
        let parsed = match ImageRef::parse(image) {
            Ok(parsed) => parsed,
            Err(reason) => {
                decision
                    .errors
                    .push(format!("{image} is not a valid image reference: {reason}"));
                return decision;
            }
        };
        let matching = self.matching_ref(&parsed);
        let statements = evaluate::Statements::new(facts);
        for policy in &self.policies {
            if matching.iter().any(|m| std::ptr::eq(*m, policy)) {
                let outcome = evaluate::evaluate_cip(policy, image, &statements, options);
                decision.warnings.extend(outcome.warnings);
                if !outcome.result.passed {
                    let lines = outcome
                        .errors
                        .iter()
                        .map(|e| format!("failed policy: {}: {e}", policy.name()));
                    match policy.mode() {
                        Mode::Warn => decision.warnings.extend(lines),
                        Mode::Enforce => decision.errors.extend(lines),
                    }
                }
                decision.policies.push(outcome.result);
            } else {
                decision.policies.push(PolicyResult {
                    name: policy.name().to_owned(),
                    matched: false,
                    passed: false,
                    mode: policy.mode(),
                    authorities: Vec::new(),
                    policy_error: None,
                });
            }
        }
        if matching.is_empty() {
            let message = format!("no matching policies: {image}");
            match options.no_match {
                NoMatch::Allow => {}
                NoMatch::Warn => decision.warnings.push(message),
                NoMatch::Deny => decision.errors.push(message),
            }
        }
        decision.allowed = decision.errors.is_empty();
        decision
    }
}

#[cfg(test)]
mod tests;
