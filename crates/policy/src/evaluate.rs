//! Evaluation, following policy-controller `pkg/webhook/validator.go` `ValidatePolicy`: one
//! passing authority satisfies a policy (OR), then the CIP-level policy runs over the
//! `PolicyResult` of the passing authorities.

use std::cell::OnceCell;

use serde_json::{Map, Value, json};

use crate::decision::{AttestationResult, AuthorityResult, Options, PolicyResult};
use crate::facts::{Facts, SignatureFact, Signer};
use crate::policy::{Authority, AuthorityKind, ClusterImagePolicy, StaticAction};
use crate::rego;

/// Fulcio GitHub workflow extensions and their PolicySignature JSON names
/// (`pkg/webhook/validator_result.go` `GithubExtensions`).
const GITHUB_EXTENSIONS: &[(&str, &str)] = &[
    ("1.3.6.1.4.1.57264.1.2", "githubWorkflowTrigger"),
    ("1.3.6.1.4.1.57264.1.3", "githubWorkflowSha"),
    ("1.3.6.1.4.1.57264.1.4", "githubWorkflowName"),
    ("1.3.6.1.4.1.57264.1.5", "githubWorkflowRepo"),
    ("1.3.6.1.4.1.57264.1.6", "githubWorkflowRef"),
];

/// The result of one CIP, with its messages.
pub(crate) struct CipOutcome {
    pub(crate) result: PolicyResult,
    pub(crate) errors: Vec<String>,
    pub(crate) warnings: Vec<String>,
}

/// The attestation statements of one evaluation as Rego input, each converted the first time a
/// policy reads it and then shared by every policy and authority that reads it again.
pub(crate) struct Statements<'a> {
    facts: &'a Facts,
    converted: Vec<OnceCell<Result<regorus::Value, String>>>,
}

impl<'a> Statements<'a> {
    pub(crate) fn new(facts: &'a Facts) -> Self {
        Self {
            facts,
            converted: facts.attestations.iter().map(|_| OnceCell::new()).collect(),
        }
    }

    /// Attestation `index`'s statement as Rego input.
    fn input(&self, index: usize) -> Result<&regorus::Value, String> {
        let statement = &self.facts.attestations[index].statement;
        match self.converted[index].get_or_init(|| rego::to_input(statement)) {
            Ok(value) => Ok(value),
            Err(e) => Err(e.clone()),
        }
    }
}

pub(crate) fn evaluate_cip(
    cip: &ClusterImagePolicy,
    image: &str,
    statements: &Statements<'_>,
    options: &Options,
) -> CipOutcome {
    let mut authorities = Vec::new();
    let mut matches = Map::new();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for authority in cip.authorities() {
        let (result, matched) =
            evaluate_authority(authority, image, statements, options, &mut warnings);
        match matched {
            Some(m) => {
                matches.insert(authority.name().to_owned(), m);
            }
            None => errors.extend(result.reason.clone()),
        }
        authorities.push(result);
    }
    let mut policy_error = None;
    let mut passed = !matches.is_empty();
    if passed {
        // Other authorities' failures do not matter once one passed.
        errors.clear();
        if let Some(rego) = cip.cip_policy() {
            let input = json!({ "authorityMatches": matches });
            match rego.evaluate(&input, options.now, &options.rego_limits) {
                Ok(ok) => warnings.extend(ok.warnings),
                Err(fail) => {
                    warnings.extend(fail.warnings);
                    let message = format!(
                        "failed evaluating rego policy for type ClusterImagePolicy: {}",
                        fail.error
                    );
                    errors.push(message.clone());
                    policy_error = Some(message);
                    passed = false;
                }
            }
        }
    }
    CipOutcome {
        result: PolicyResult {
            name: cip.name().to_owned(),
            matched: true,
            passed,
            mode: cip.mode(),
            authorities,
            policy_error,
        },
        errors,
        warnings,
    }
}

/// Evaluates one authority: its result, and its `AuthorityMatch` JSON when it passed.
fn evaluate_authority(
    authority: &Authority,
    image: &str,
    statements: &Statements<'_>,
    options: &Options,
    warnings: &mut Vec<String>,
) -> (AuthorityResult, Option<Value>) {
    let facts = statements.facts;
    let name = authority.name().to_owned();
    let mut result = AuthorityResult {
        name: name.clone(),
        passed: false,
        reason: None,
        signatures: Vec::new(),
        attestations: Vec::new(),
    };
    let kind = match authority.kind() {
        AuthorityKind::Static(s) => {
            return match s.action {
                StaticAction::Pass => {
                    result.passed = true;
                    (result, Some(json!({ "static": true })))
                }
                StaticAction::Fail => {
                    result.reason = Some(match s.message.as_deref() {
                        Some(m) if !m.is_empty() => format!("disallowed by static policy: {m}"),
                        _ => "disallowed by static policy".to_owned(),
                    });
                    (result, None)
                }
            };
        }
        AuthorityKind::Key(_) => "key",
        AuthorityKind::Keyless(_) => "keyless",
    };

    if authority.attestations().is_empty() {
        let mut reasons = Vec::new();
        let matched: Vec<&SignatureFact> = facts
            .signatures
            .iter()
            .filter(|s| match signer_matches(authority, s) {
                Ok(()) => true,
                Err(r) => {
                    reasons.push(r);
                    false
                }
            })
            .collect();
        if matched.is_empty() {
            let detail = if facts.signatures.is_empty() {
                "no signatures found".to_owned()
            } else {
                reasons.dedup();
                format!("no matching signatures: {}", reasons.join("; "))
            };
            result.reason = Some(format!(
                "signature {kind} validation failed for authority {name} for {image}: {detail}"
            ));
            return (result, None);
        }
        result.passed = true;
        result.signatures = matched.iter().map(|s| s.id.clone()).collect();
        let signatures: Vec<Value> = matched.iter().map(|s| policy_signature(s)).collect();
        return (result, Some(json!({ "signatures": signatures })));
    }

    // The attestation path: attestations signed by this authority's signer.
    let mut reasons = Vec::new();
    let verified: Vec<_> = facts
        .attestations
        .iter()
        .enumerate()
        .filter(|(_, a)| match signer_matches(authority, &a.signature) {
            Ok(()) => true,
            Err(r) => {
                reasons.push(r);
                false
            }
        })
        .collect();
    if verified.is_empty() {
        let reason = if facts.attestations.is_empty() {
            format!("no matching attestations for authority {name} for {image}")
        } else {
            reasons.dedup();
            format!(
                "attestation {kind} validation failed for authority {name} for {image}: no matching attestations: {}",
                reasons.join("; ")
            )
        };
        result.reason = Some(reason);
        return (result, None);
    }
    let mut by_name = Map::new();
    let mut first_failure = None;
    for wanted in authority.attestations() {
        let of_type: Vec<_> = verified
            .iter()
            .filter(|(_, a)| a.predicate_type == wanted.predicate_type_uri())
            .collect();
        let mut att = AttestationResult {
            name: wanted.name().to_owned(),
            predicate_type: wanted.predicate_type_uri().to_owned(),
            passed: false,
            reason: None,
        };
        if of_type.is_empty() {
            att.reason = Some(format!(
                "no matching attestations with type {}",
                wanted.predicate_type()
            ));
        } else if let Some(rego) = wanted.rego() {
            // policy-controller: every statement of the type must pass the policy.
            for (index, _) in &of_type {
                let evaluated = statements
                    .input(*index)
                    .map_err(|error| rego::NotCompliant {
                        error,
                        warnings: Vec::new(),
                    })
                    .and_then(|input| {
                        rego.evaluate_input(input, options.now, &options.rego_limits)
                    });
                match evaluated {
                    Ok(ok) => warnings.extend(ok.warnings),
                    Err(fail) => {
                        warnings.extend(fail.warnings);
                        att.reason = Some(format!(
                            "failed evaluating rego policy for type {}: {}",
                            wanted.name(),
                            fail.error
                        ));
                        break;
                    }
                }
            }
        }
        if att.reason.is_none() {
            att.passed = true;
            let list: Vec<Value> = of_type
                .iter()
                .map(|(_, a)| {
                    let mut v = policy_signature(&a.signature);
                    if let Some(obj) = v.as_object_mut() {
                        obj.insert(
                            "predicateType".to_owned(),
                            Value::from(a.predicate_type.clone()),
                        );
                    }
                    v
                })
                .collect();
            by_name.insert(wanted.name().to_owned(), Value::Array(list));
        } else if first_failure.is_none() {
            first_failure = att.reason.clone();
        }
        result.attestations.push(att);
    }
    if let Some(reason) = first_failure {
        result.reason = Some(reason);
        return (result, None);
    }
    result.passed = true;
    (result, Some(json!({ "attestations": by_name })))
}

/// Whether `fact`'s signer satisfies `authority`, or why not.
fn signer_matches(authority: &Authority, fact: &SignatureFact) -> Result<(), String> {
    let want_root = authority.trust_root_ref();
    if fact.trust_root.as_deref() != want_root {
        return Err(format!(
            "verified under trust root {}, want {}",
            fact.trust_root.as_deref().unwrap_or("(default)"),
            want_root.unwrap_or("(default)")
        ));
    }
    if authority.requires_tlog() && !fact.tlog_verified {
        return Err("no verified transparency log entry".to_owned());
    }
    if authority.rfc3161timestamp().is_some() && fact.rfc3161_timestamps == 0 {
        return Err("no verified RFC 3161 timestamp".to_owned());
    }
    match (authority.kind(), &fact.signer) {
        (AuthorityKind::Key(k), Signer::Key { spki_der }) => {
            if k.key.spki_der() == spki_der.as_slice() {
                Ok(())
            } else {
                Err("signed by a different key".to_owned())
            }
        }
        (AuthorityKind::Key(_), _) => Err("signed with a certificate, want a key".to_owned()),
        (
            AuthorityKind::Keyless(k),
            Signer::Keyless {
                subject,
                issuer,
                ca_uri,
                ..
            },
        ) => {
            // A `url` names the CA: the trusted root's CA that chained the certificate must
            // say it is that one (a CA without a `uri` is not).
            if let Some(want) = k.url.as_deref() {
                match ca_uri.as_deref() {
                    Some(got) if want.trim_end_matches('/') == got.trim_end_matches('/') => {}
                    Some(got) => return Err(format!("certificate issued by {got}, want {want}")),
                    None => {
                        return Err(format!(
                            "certificate issued by a CA without a uri in the trusted root, want {want}"
                        ));
                    }
                }
            }
            if k.identities.iter().any(|id| id.matches(subject, issuer)) {
                Ok(())
            } else {
                Err(format!(
                    "none of the expected identities matched what was in the certificate, got subjects [{subject}] with issuer {issuer}"
                ))
            }
        }
        (AuthorityKind::Keyless(_), _) => Err("signed with a key, want a certificate".to_owned()),
        (AuthorityKind::Static(_), _) => Ok(()),
    }
}

/// policy-controller's `PolicySignature` JSON for a fact.
fn policy_signature(fact: &SignatureFact) -> Value {
    let mut obj = Map::new();
    if !fact.id.is_empty() {
        obj.insert("id".to_owned(), Value::from(fact.id.clone()));
    }
    if let Signer::Keyless {
        subject,
        issuer,
        extensions,
        ..
    } = &fact.signer
    {
        obj.insert("subject".to_owned(), Value::from(subject.clone()));
        obj.insert("issuer".to_owned(), Value::from(issuer.clone()));
        for (oid, key) in GITHUB_EXTENSIONS {
            if let Some(v) = extensions.get(*oid).filter(|v| !v.is_empty()) {
                obj.insert((*key).to_owned(), Value::from(v.clone()));
            }
        }
    }
    Value::Object(obj)
}
