//! Issuance rules: which identities of an issuer may get a certificate (DESIGN.md §5, "only
//! workflow X of repository Y from issuer Z"). Not a Fulcio feature; Fulcio admits every
//! identity of a configured issuer, which is what an issuer without rules does here too.

use std::collections::BTreeMap;

use regex::Regex;

use crate::error::{ConfigError, Refused};
use crate::identity::Identity;

/// Allow-lists for one issuer. All configured conditions must hold:
///
/// - `san`: if any exact SANs or SAN regexes are given, the certificate SAN must equal one of the
///   exact values or fully match one of the regexes;
/// - `claims.NAME`: claim `NAME` (as a string) must equal one of the listed values;
/// - `claims_regex.NAME`: claim `NAME` must fully match the regex.
///
/// Regexes are anchored: `acme/.*` means `^(?:acme/.*)$`.
#[derive(Debug, Clone, Default)]
pub struct IssuanceRules {
    san_exact: Vec<String>,
    san_regex: Vec<Regex>,
    claims: BTreeMap<String, Vec<String>>,
    claims_regex: BTreeMap<String, Regex>,
}

impl IssuanceRules {
    /// Rules that allow everything; add conditions with the other constructors.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also allows the SAN `san` exactly.
    #[must_use]
    pub fn allow_san(mut self, san: &str) -> Self {
        self.san_exact.push(san.to_owned());
        self
    }

    /// Also allows SANs fully matching `pattern`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidRegex`] if `pattern` does not compile.
    pub fn allow_san_regex(mut self, pattern: &str) -> Result<Self, ConfigError> {
        self.san_regex.push(anchored(pattern, "rules.san_regex")?);
        Ok(self)
    }

    /// Requires claim `name` to equal one of `values`.
    #[must_use]
    pub fn require_claim(mut self, name: &str, values: &[&str]) -> Self {
        self.claims.insert(
            name.to_owned(),
            values.iter().map(|v| (*v).to_owned()).collect(),
        );
        self
    }

    /// Requires claim `name` to fully match `pattern`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidRegex`] if `pattern` does not compile.
    pub fn require_claim_regex(mut self, name: &str, pattern: &str) -> Result<Self, ConfigError> {
        let regex = anchored(pattern, &format!("rules.claims_regex.{name}"))?;
        self.claims_regex.insert(name.to_owned(), regex);
        Ok(self)
    }

    /// Checks `identity` against these rules.
    ///
    /// # Errors
    ///
    /// [`Refused`] naming the first rule that did not hold, in the order SAN, `claims`,
    /// `claims_regex` (each by claim name).
    pub fn check(&self, identity: &Identity) -> Result<(), Refused> {
        let san = identity.san().value();
        if (!self.san_exact.is_empty() || !self.san_regex.is_empty())
            && !self.san_exact.iter().any(|s| s == san)
            && !self.san_regex.iter().any(|r| r.is_match(san))
        {
            return Err(Refused {
                rule: "rules.san".to_owned(),
                actual: san.to_owned(),
            });
        }
        for (name, allowed) in &self.claims {
            let actual = identity.claim(name);
            if !actual.is_some_and(|a| allowed.iter().any(|v| v == a)) {
                return Err(Refused {
                    rule: format!("rules.claims.{name}"),
                    actual: actual.unwrap_or_default().to_owned(),
                });
            }
        }
        for (name, regex) in &self.claims_regex {
            let actual = identity.claim(name);
            if !actual.is_some_and(|a| regex.is_match(a)) {
                return Err(Refused {
                    rule: format!("rules.claims_regex.{name}"),
                    actual: actual.unwrap_or_default().to_owned(),
                });
            }
        }
        Ok(())
    }
}

/// Compiles `^(?:pattern)$`; the issuer URL in the error is filled in by the config loader.
fn anchored(pattern: &str, rule: &str) -> Result<Regex, ConfigError> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| ConfigError::InvalidRegex {
        issuer: String::new(),
        rule: rule.to_owned(),
        reason: e.to_string(),
    })
}
