//! Who may sign commits: the repository's policy file (`.waxseal/git-policy.yaml`), or one
//! identity from flags or git config (`waxseal.identity`, `waxseal.issuer` and their `Regexp`
//! variants).
//!
//! The policy file:
//!
//! ```yaml
//! authorities:                      # any one of them allows a commit
//!   - name: maintainers             # reported as the rule that allowed it
//!     issuer: https://accounts.example.com   # or issuerRegExp
//!     subjectRegExp: .*@example\.com         # or subject
//!     authorEmailMatchesCertificate: true    # optional: author email = certificate email
//! ```
//!
//! Unknown keys are errors. The file is YAML 1.2: `y`/`n`/`on`/`off` are strings, but quote
//! them anyway for readers that still speak YAML 1.1.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;
use waxseal_verify::Matcher;

/// `--certificate-identity[-regexp]` and `--certificate-oidc-issuer[-regexp]`: one allowed
/// signer, as `git configure` stores it and `git verify` checks it.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct IdentityFlags {
    /// The identity allowed to sign (certificate SAN), exactly (git config `waxseal.identity`).
    #[arg(long, conflicts_with = "certificate_identity_regexp")]
    pub(crate) certificate_identity: Option<String>,
    /// The identity as a whole-value regular expression (`waxseal.identityRegexp`).
    #[arg(long)]
    pub(crate) certificate_identity_regexp: Option<String>,
    /// The OIDC issuer allowed, exactly (`waxseal.issuer`).
    #[arg(long, conflicts_with = "certificate_oidc_issuer_regexp")]
    pub(crate) certificate_oidc_issuer: Option<String>,
    /// The issuer as a whole-value regular expression (`waxseal.issuerRegexp`).
    #[arg(long)]
    pub(crate) certificate_oidc_issuer_regexp: Option<String>,
}

impl IdentityFlags {
    /// The policy the flags name, or `None` when none is given.
    pub(crate) fn policy(&self) -> Result<Option<GitPolicy>> {
        let given = [
            &self.certificate_identity,
            &self.certificate_identity_regexp,
            &self.certificate_oidc_issuer,
            &self.certificate_oidc_issuer_regexp,
        ];
        if given.iter().all(|f| f.is_none()) {
            return Ok(None);
        }
        GitPolicy::from_values(
            "the identity flags",
            self.certificate_identity.clone(),
            self.certificate_identity_regexp.clone(),
            self.certificate_oidc_issuer.clone(),
            self.certificate_oidc_issuer_regexp.clone(),
        )
        .map(Some)
    }

    /// The git config entries that store the flags given.
    pub(crate) fn config_entries(&self) -> impl Iterator<Item = (&'static str, String)> + '_ {
        [
            ("waxseal.identity", &self.certificate_identity),
            ("waxseal.identityRegexp", &self.certificate_identity_regexp),
            ("waxseal.issuer", &self.certificate_oidc_issuer),
            ("waxseal.issuerRegexp", &self.certificate_oidc_issuer_regexp),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key, value.clone()?)))
    }
}

/// The default policy file, relative to the repository's top level.
pub(crate) const DEFAULT_POLICY_FILE: &str = ".waxseal/git-policy.yaml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    authorities: Vec<AuthorityFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AuthorityFile {
    name: String,
    issuer: Option<String>,
    #[serde(rename = "issuerRegExp")]
    issuer_regexp: Option<String>,
    subject: Option<String>,
    #[serde(rename = "subjectRegExp")]
    subject_regexp: Option<String>,
    #[serde(default)]
    author_email_matches_certificate: bool,
}

/// One allowed signer.
#[derive(Debug, Clone)]
pub(crate) struct Authority {
    /// Reported as the rule that allowed a commit.
    pub(crate) name: String,
    subject: Matcher,
    issuer: Matcher,
    author_email_matches_certificate: bool,
}

/// Any-of a list of authorities.
#[derive(Debug, Clone)]
pub(crate) struct GitPolicy {
    authorities: Vec<Authority>,
}

/// The signer facts a policy is evaluated over.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Signer<'a> {
    /// The certificate SAN.
    pub(crate) identity: &'a str,
    /// The certificate's OIDC issuer.
    pub(crate) issuer: &'a str,
    /// Every SAN of the certificate (for the author-email rule).
    pub(crate) sans: &'a [String],
    /// The commit's author email, when known.
    pub(crate) author_email: Option<&'a str>,
}

impl GitPolicy {
    /// Parses a policy file's text; `origin` names it in errors.
    pub(crate) fn parse(text: &str, origin: &str) -> Result<Self> {
        let file: PolicyFile = serde_saphyr::from_str(text)
            .with_context(|| format!("{origin} is not a valid policy"))?;
        if file.authorities.is_empty() {
            bail!("{origin}: `authorities` is empty: list at least one allowed signer");
        }
        let mut authorities = Vec::with_capacity(file.authorities.len());
        for (i, a) in file.authorities.into_iter().enumerate() {
            let at = format!("{origin}: authorities[{i}] ({})", a.name);
            if a.name.trim().is_empty() {
                bail!("{origin}: authorities[{i}] has an empty name");
            }
            let subject = matcher(&at, "subject", a.subject, a.subject_regexp)?;
            let issuer = matcher(&at, "issuer", a.issuer, a.issuer_regexp)?;
            authorities.push(Authority {
                name: a.name,
                subject,
                issuer,
                author_email_matches_certificate: a.author_email_matches_certificate,
            });
        }
        Ok(Self { authorities })
    }

    /// Reads and parses the policy file at `path`.
    pub(crate) fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("couldn't read the policy {}", path.display()))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// One authority named `name`.
    pub(crate) fn single(name: &str, subject: Matcher, issuer: Matcher) -> Self {
        Self {
            authorities: vec![Authority {
                name: name.to_owned(),
                subject,
                issuer,
                author_email_matches_certificate: false,
            }],
        }
    }

    /// A policy from `--certificate-identity[-regexp]` / `--certificate-oidc-issuer[-regexp]`
    /// style values; `what` names their source in errors and reports.
    pub(crate) fn from_values(
        what: &str,
        identity: Option<String>,
        identity_regexp: Option<String>,
        issuer: Option<String>,
        issuer_regexp: Option<String>,
    ) -> Result<Self> {
        let subject = matcher(what, "identity", identity, identity_regexp)?;
        let issuer = matcher(what, "issuer", issuer, issuer_regexp)?;
        Ok(Self::single(what, subject, issuer))
    }

    /// The first authority that allows `signer`, or why none does.
    pub(crate) fn allow(&self, signer: &Signer<'_>) -> std::result::Result<&str, String> {
        let mut reasons = Vec::new();
        for a in &self.authorities {
            if !a.subject.matches(signer.identity) {
                reasons.push(format!("{}: identity is not {}", a.name, a.subject));
                continue;
            }
            if !a.issuer.matches(signer.issuer) {
                reasons.push(format!("{}: issuer is not {}", a.name, a.issuer));
                continue;
            }
            if a.author_email_matches_certificate {
                let Some(email) = signer.author_email else {
                    reasons.push(format!("{}: the author email is unknown", a.name));
                    continue;
                };
                if !signer.sans.iter().any(|s| s.eq_ignore_ascii_case(email)) {
                    reasons.push(format!(
                        "{}: author email {email} is not the certificate's",
                        a.name
                    ));
                    continue;
                }
            }
            return Ok(&a.name);
        }
        Err(format!(
            "signer {} ({}) is not allowed: {}",
            signer.identity,
            signer.issuer,
            reasons.join("; ")
        ))
    }
}

/// Exactly one of an exact value and a regular expression.
fn matcher(
    at: &str,
    field: &'static str,
    exact: Option<String>,
    regexp: Option<String>,
) -> Result<Matcher> {
    match (exact, regexp) {
        (Some(value), None) => Ok(Matcher::exact(value)),
        (None, Some(pattern)) => Matcher::regex(field, &pattern)
            .with_context(|| format!("{at}: bad {field} regular expression")),
        (Some(_), Some(_)) => bail!("{at}: give {field} or its regular expression, not both"),
        (None, None) => bail!("{at}: no {field} given (exact or regular expression)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        name: &'static str,
        yaml: &'static str,
        identity: &'static str,
        author: Option<&'static str>,
        allowed_by: std::result::Result<&'static str, &'static str>,
    }

    const POLICY: &str = "authorities:
  - name: alice
    issuer: https://issuer.test
    subject: alice@example.com
  - name: team
    issuerRegExp: https://issuer\\.test
    subjectRegExp: .*@team\\.test
    authorEmailMatchesCertificate: true
";

    const CASES: &[Case] = &[
        Case {
            name: "exact rule",
            yaml: POLICY,
            identity: "alice@example.com",
            author: None,
            allowed_by: Ok("alice"),
        },
        Case {
            name: "regexp rule with matching author",
            yaml: POLICY,
            identity: "bob@team.test",
            author: Some("bob@team.test"),
            allowed_by: Ok("team"),
        },
        Case {
            name: "author email differs",
            yaml: POLICY,
            identity: "bob@team.test",
            author: Some("mallory@team.test"),
            allowed_by: Err("author email mallory@team.test is not the certificate's"),
        },
        Case {
            name: "unknown signer",
            yaml: POLICY,
            identity: "eve@evil.test",
            author: None,
            allowed_by: Err("signer eve@evil.test (https://issuer.test) is not allowed"),
        },
    ];

    #[test]
    fn evaluates_authorities_in_order() {
        for case in CASES {
            let policy = GitPolicy::parse(case.yaml, "policy").unwrap();
            let sans = [case.identity.to_owned()];
            let signer = Signer {
                identity: case.identity,
                issuer: "https://issuer.test",
                sans: &sans,
                author_email: case.author,
            };
            match (policy.allow(&signer), case.allowed_by) {
                (Ok(rule), Ok(want)) => assert_eq!(rule, want, "{}", case.name),
                (Err(reason), Err(want)) => {
                    assert!(reason.contains(want), "{}: {reason}", case.name);
                }
                (got, want) => panic!("{}: got {got:?}, want {want:?}", case.name),
            }
        }
    }

    #[test]
    fn rejects_bad_policy_files() {
        for (yaml, needle) in [
            ("authorities: []", "is empty"),
            ("authorities:\n  - name: a\n    issuer: i\n", "no subject"),
            (
                "authorities:\n  - name: a\n    issuer: i\n    subject: s\n    colour: red\n",
                "not a valid policy",
            ),
            (
                "authorities:\n  - name: a\n    issuer: i\n    subject: s\n    subjectRegExp: s\n",
                "not both",
            ),
            (
                "authorities:\n  - name: a\n    issuer: i\n    subjectRegExp: '('\n",
                "bad subject regular expression",
            ),
            ("authority: []", "not a valid policy"),
        ] {
            let err = GitPolicy::parse(yaml, "policy").unwrap_err();
            assert!(format!("{err:#}").contains(needle), "{yaml}: {err:#}");
        }
    }
}
