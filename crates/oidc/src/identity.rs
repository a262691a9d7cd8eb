//! Verified claims → what goes in the certificate, as Fulcio's principals do
//! (sigstore/fulcio `pkg/identity/{email,github,gitlab,ciprovider,kubernetes,spiffe,uri,username}`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::ci::CiProvider;
use crate::config::IssuerType;
use crate::error::{IdentityError, Refused};
use crate::rules::IssuanceRules;

/// OID of the issuer extension holding the raw issuer URL (deprecated, still read by
/// sigstore-python).
pub const OID_ISSUER: &str = "1.3.6.1.4.1.57264.1.1";
/// OID of the username otherName SAN.
pub const OID_OTHER_NAME_SAN: &str = "1.3.6.1.4.1.57264.1.7";
/// OID of the issuer extension holding the issuer URL as a DER UTF8String.
pub const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
/// OID of the extension holding the token's `sub` as a DER UTF8String.
pub const OID_TOKEN_SUBJECT: &str = "1.3.6.1.4.1.57264.1.24";

/// The certificate's one Subject Alternative Name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubjectAlternativeName {
    /// `rfc822Name` (email issuers).
    Email(String),
    /// `otherName` with type id [`OID_OTHER_NAME_SAN`] and a UTF8String value (username issuers).
    OtherName(String),
    /// `uniformResourceIdentifier` (CI, SPIFFE, URI and Kubernetes issuers).
    Uri(String),
}

impl SubjectAlternativeName {
    /// The name's text.
    pub fn value(&self) -> &str {
        match self {
            Self::Email(v) | Self::OtherName(v) | Self::Uri(v) => v,
        }
    }
}

/// What a verified token puts in a certificate.
#[derive(Debug, Clone)]
pub struct Identity {
    issuer: String,
    subject: String,
    san: SubjectAlternativeName,
    extensions: Vec<(String, String)>,
    claims: BTreeMap<String, String>,
    rules: Option<IssuanceRules>,
}

impl Identity {
    /// The token issuer (`iss`), for OIDs .1 and .8.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The token subject (`sub`), for OID .24.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The SAN.
    pub fn san(&self) -> &SubjectAlternativeName {
        &self.san
    }

    /// `(oid, value)` pairs in OID order: .1 and .8 (issuer), the CI extensions .2–.6 and
    /// .9–.23 that have a non-empty value, and .24 (subject). The CA encodes the deprecated
    /// .1–.6 as the raw bytes of the value and every other one as a DER UTF8String (Fulcio
    /// `pkg/certificate/extensions.go`; `factDeprecatedExtensionIs` in
    /// `pkg/identity/ciprovider/principal_test.go`).
    pub fn extensions(&self) -> &[(String, String)] {
        &self.extensions
    }

    /// A top-level claim as a string (numbers and booleans as JSON text), for rules and logs.
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).map(String::as_str)
    }

    /// Checks the issuer's issuance rules; an issuer without rules admits every identity.
    ///
    /// # Errors
    ///
    /// [`Refused`] naming the rule that refused.
    pub fn check_rules(&self) -> Result<(), Refused> {
        match &self.rules {
            Some(rules) => rules.check(self),
            None => Ok(()),
        }
    }

    /// Maps verified claims to an identity.
    pub(crate) fn from_claims(
        issuer_type: &IssuerType,
        ci: Option<&CiProvider>,
        rules: Option<IssuanceRules>,
        issuer: &str,
        subject: &str,
        claims: &Map<String, Value>,
    ) -> Result<Self, IdentityError> {
        let strings = stringify(claims);
        let missing = |claim: &str| IdentityError::MissingClaim {
            claim: claim.to_owned(),
            issuer: issuer.to_owned(),
        };
        let ci_error = |e: CiError| match e {
            CiError::Missing(claim) => missing(&claim),
            CiError::SanNotUri(san) => IdentityError::CiSanNotUri { san },
        };
        let mut extensions = Vec::new();
        let san = match issuer_type {
            IssuerType::Email => {
                let email = strings.get("email").ok_or_else(|| missing("email"))?;
                SubjectAlternativeName::Email(email.clone())
            }
            IssuerType::CiProvider { name } => {
                let provider =
                    ci.ok_or_else(|| IdentityError::UnknownCiProvider { name: name.clone() })?;
                ci_identity(provider, &[], &strings, &mut extensions).map_err(ci_error)?
            }
            IssuerType::GithubWorkflow | IssuerType::GitlabPipeline => {
                let name = match issuer_type {
                    IssuerType::GithubWorkflow => crate::ci::GITHUB_WORKFLOW,
                    _ => crate::ci::GITLAB_PIPELINE,
                };
                let provider = ci.ok_or_else(|| IdentityError::UnknownCiProvider {
                    name: name.to_owned(),
                })?;
                // Fulcio pkg/identity/gitlabcom: the instance URL is the issuer (self-hosted
                // GitLab), where the ci-provider template defaults to https://gitlab.com.
                let base = issuer.trim_end_matches('/');
                let overrides: &[(&str, &str)] = match issuer_type {
                    IssuerType::GitlabPipeline => &[("url", base)],
                    _ => &[],
                };
                ci_identity(provider, overrides, &strings, &mut extensions).map_err(ci_error)?
            }
            IssuerType::Kubernetes => {
                // Fulcio pkg/identity/kubernetes/principal.go
                let k8s = claims
                    .get("kubernetes.io")
                    .and_then(Value::as_object)
                    .ok_or_else(|| missing("kubernetes.io"))?;
                let namespace = k8s
                    .get("namespace")
                    .and_then(Value::as_str)
                    .ok_or_else(|| missing("kubernetes.io.namespace"))?;
                let account = k8s
                    .get("serviceaccount")
                    .and_then(|s| s.get("name"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| missing("kubernetes.io.serviceaccount.name"))?;
                SubjectAlternativeName::Uri(format!(
                    "https://kubernetes.io/namespaces/{namespace}/serviceaccounts/{account}"
                ))
            }
            IssuerType::Spiffe { trust_domain } => {
                let in_domain = subject
                    .strip_prefix("spiffe://")
                    .and_then(|rest| rest.strip_prefix(trust_domain.as_str()))
                    .is_some_and(|path| path.is_empty() || path.starts_with('/'));
                if !in_domain {
                    return Err(IdentityError::SpiffeSubjectOutsideTrustDomain {
                        subject: subject.to_owned(),
                        trust_domain: trust_domain.clone(),
                    });
                }
                SubjectAlternativeName::Uri(subject.to_owned())
            }
            IssuerType::Uri { subject_domain } => {
                if scheme_and_host(subject).is_none()
                    || scheme_and_host(subject) != scheme_and_host(subject_domain)
                {
                    return Err(IdentityError::UriSubjectOutsideDomain {
                        subject: subject.to_owned(),
                        subject_domain: subject_domain.clone(),
                    });
                }
                SubjectAlternativeName::Uri(subject.to_owned())
            }
            IssuerType::Username { subject_domain } => {
                if subject.contains('!') {
                    return Err(IdentityError::UsernameContainsSeparator {
                        subject: subject.to_owned(),
                    });
                }
                SubjectAlternativeName::OtherName(format!("{subject}!{subject_domain}"))
            }
        };
        extensions.push((OID_ISSUER.to_owned(), issuer.to_owned()));
        extensions.push((OID_ISSUER_V2.to_owned(), issuer.to_owned()));
        extensions.push((OID_TOKEN_SUBJECT.to_owned(), subject.to_owned()));
        extensions.sort_by_key(|(oid, _)| last_arc(oid));
        Ok(Self {
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
            san,
            extensions,
            claims: strings,
            rules,
        })
    }
}

/// Fulcio `ciprovider` `Embed`: claims override defaults; empty values are left out (Fulcio
/// `Extensions.Render`). `Err` names the missing claim.
fn ci_identity(
    provider: &CiProvider,
    defaults: &[(&str, &str)],
    claims: &BTreeMap<String, String>,
    extensions: &mut Vec<(String, String)>,
) -> Result<SubjectAlternativeName, CiError> {
    let mut data = provider.defaults.clone();
    data.extend(
        defaults
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    data.extend(claims.iter().map(|(k, v)| (k.clone(), v.clone())));
    let san = provider.san.render(&data).map_err(CiError::Missing)?;
    // Fulcio: url.Parse(subjectAlternativeName) must succeed; we require an absolute URI.
    if scheme_and_host(&san).is_none() {
        return Err(CiError::SanNotUri(san));
    }
    for (oid, template) in &provider.extensions {
        let value = template.render(&data).map_err(CiError::Missing)?;
        if !value.is_empty() {
            extensions.push(((*oid).to_owned(), value));
        }
    }
    Ok(SubjectAlternativeName::Uri(san))
}

fn stringify(claims: &Map<String, Value>) -> BTreeMap<String, String> {
    claims
        .iter()
        .filter_map(|(k, v)| {
            let text = match v {
                Value::Null => return None,
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some((k.clone(), text))
        })
        .collect()
}

enum CiError {
    Missing(String),
    SanNotUri(String),
}

/// `("https", "host[:port]")` of an absolute URL without userinfo.
fn scheme_and_host(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    if scheme.is_empty() || host.is_empty() || host.contains('@') {
        return None;
    }
    Some((scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
}

fn last_arc(oid: &str) -> u64 {
    oid.rsplit('.')
        .next()
        .and_then(|arc| arc.parse().ok())
        .unwrap_or(u64::MAX)
}
