//! Which issuers a CA accepts, and how each one's tokens become identities. The shape follows
//! sigstore/fulcio `pkg/config/config.go` (`OIDCIssuers`, `MetaIssuers`, `CIIssuerMetadata`),
//! written as TOML; the format is documented in the crate docs.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Deserialize;

use crate::ci::{self, CiProvider};
use crate::error::ConfigError;
use crate::rules::IssuanceRules;

/// The audience Sigstore clients request and Fulcio expects by default.
pub const DEFAULT_CLIENT_ID: &str = "sigstore";

/// How an issuer's tokens map to a certificate identity (Fulcio's `type`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IssuerType {
    /// Template-driven CI identity (`ci-provider`), with the provider's name
    /// (`github-workflow`, `gitlab-pipeline` or one defined under `[ci_provider.NAME]`).
    CiProvider {
        /// The provider name.
        name: String,
    },
    /// `email`: SAN rfc822Name from the verified `email` claim.
    Email,
    /// `github-workflow`: GitHub Actions, the same mapping as `ci-provider` `github-workflow`.
    GithubWorkflow,
    /// `gitlab-pipeline`: GitLab CI, the same mapping as `ci-provider` `gitlab-pipeline`.
    GitlabPipeline,
    /// `kubernetes`: SAN URI `https://kubernetes.io/namespaces/NS/serviceaccounts/SA`.
    Kubernetes,
    /// `spiffe`: SAN URI = `sub`, which must be a SPIFFE ID in `trust_domain`.
    Spiffe {
        /// The trust domain (`example.com`).
        trust_domain: String,
    },
    /// `uri`: SAN URI = `sub`, which must have the scheme and host of `subject_domain`.
    Uri {
        /// The allowed URI prefix (`https://ci.example.com`).
        subject_domain: String,
    },
    /// `username`: SAN otherName (OID 1.3.6.1.4.1.57264.1.7) `sub!subject_domain`.
    Username {
        /// The domain appended to the username (`example.com`).
        subject_domain: String,
    },
}

impl IssuerType {
    /// The Fulcio type name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::CiProvider { .. } => "ci-provider",
            Self::Email => "email",
            Self::GithubWorkflow => "github-workflow",
            Self::GitlabPipeline => "gitlab-pipeline",
            Self::Kubernetes => "kubernetes",
            Self::Spiffe { .. } => "spiffe",
            Self::Uri { .. } => "uri",
            Self::Username { .. } => "username",
        }
    }

    /// The claim a proof of possession signs, as Fulcio's configuration endpoint reports it:
    /// `email` for email issuers, `sub` for the others. (waxseal checks `email` whenever the
    /// token has one, else `sub`, as sigstore-js signs.)
    pub fn challenge_claim(&self) -> &'static str {
        match self {
            Self::Email => "email",
            _ => "sub",
        }
    }

    /// The SPIFFE trust domain of a `spiffe` issuer.
    pub fn spiffe_trust_domain(&self) -> Option<&str> {
        match self {
            Self::Spiffe { trust_domain } => Some(trust_domain),
            _ => None,
        }
    }
}

/// One accepted issuer (or, inside [`OidcConfig`]'s meta-issuers, a URL pattern with `*`).
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    url: String,
    client_id: String,
    issuer_type: IssuerType,
    rules: Option<IssuanceRules>,
}

impl IssuerConfig {
    /// An issuer at `url` with client id [`DEFAULT_CLIENT_ID`] and no issuance rules.
    pub fn new(url: &str, issuer_type: IssuerType) -> Self {
        Self {
            url: url.to_owned(),
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            issuer_type,
            rules: None,
        }
    }

    /// Sets the client id that the token's `aud` must contain.
    #[must_use]
    pub fn with_client_id(mut self, client_id: &str) -> Self {
        self.client_id = client_id.to_owned();
        self
    }

    /// Restricts which identities of this issuer may get certificates.
    #[must_use]
    pub fn with_rules(mut self, rules: IssuanceRules) -> Self {
        self.rules = Some(rules);
        self
    }

    /// The issuer URL (for a meta-issuer, the pattern).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The client id that `aud` must contain.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// How tokens map to identities.
    pub fn issuer_type(&self) -> &IssuerType {
        &self.issuer_type
    }

    /// The issuance rules, if any.
    pub fn rules(&self) -> Option<&IssuanceRules> {
        self.rules.as_ref()
    }
}

/// The accepted issuers: exact URLs, meta-issuer patterns, and CI provider templates.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    issuers: BTreeMap<String, IssuerConfig>,
    meta_issuers: Vec<(Regex, IssuerConfig)>,
    ci_providers: BTreeMap<String, CiProvider>,
}

impl OidcConfig {
    /// Builds a configuration from exact issuers and meta-issuer patterns, with the built-in
    /// `github-workflow` and `gitlab-pipeline` CI providers.
    ///
    /// # Errors
    ///
    /// [`ConfigError::DuplicateIssuer`], [`ConfigError::InvalidIssuerUrl`], or
    /// [`ConfigError::MissingField`] for a `ci-provider` issuer naming an unknown provider.
    pub fn new(
        issuers: Vec<IssuerConfig>,
        meta_issuers: Vec<IssuerConfig>,
    ) -> Result<Self, ConfigError> {
        Self::with_ci_providers(issuers, meta_issuers, ci::builtin()?)
    }

    fn with_ci_providers(
        issuers: Vec<IssuerConfig>,
        meta_issuers: Vec<IssuerConfig>,
        ci_providers: BTreeMap<String, CiProvider>,
    ) -> Result<Self, ConfigError> {
        let check = |issuer: &IssuerConfig| -> Result<(), ConfigError> {
            if !(issuer.url.starts_with("https://") || issuer.url.starts_with("http://")) {
                return Err(ConfigError::InvalidIssuerUrl {
                    url: issuer.url.clone(),
                });
            }
            if let IssuerType::CiProvider { name } = &issuer.issuer_type
                && !ci_providers.contains_key(name)
            {
                return Err(ConfigError::MissingField {
                    issuer: issuer.url.clone(),
                    issuer_type: format!("ci-provider {name}"),
                    field: "ci_provider metadata",
                });
            }
            Ok(())
        };
        let mut exact = BTreeMap::new();
        for issuer in issuers {
            check(&issuer)?;
            let url = issuer.url.clone();
            if exact.insert(url.clone(), issuer).is_some() {
                return Err(ConfigError::DuplicateIssuer { url });
            }
        }
        let mut meta = Vec::new();
        for issuer in meta_issuers {
            check(&issuer)?;
            meta.push((meta_regex(&issuer.url)?, issuer));
        }
        Ok(Self {
            issuers: exact,
            meta_issuers: meta,
            ci_providers,
        })
    }

    /// Parses the TOML format documented in the crate docs.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Toml`] for syntax or shape errors, and the errors of [`OidcConfig::new`],
    /// [`ConfigError::UnknownIssuerType`], [`ConfigError::MissingField`],
    /// [`ConfigError::InvalidRegex`], [`ConfigError::InvalidTemplate`],
    /// [`ConfigError::UnknownExtension`].
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))?;
        let mut ci_providers = ci::builtin()?;
        for (name, provider) in &raw.ci_provider {
            let provider = CiProvider::new(
                name,
                provider.default_template_values.clone(),
                &provider.extension_templates,
                &provider.subject_alternative_name_template,
            )?;
            ci_providers.insert(name.clone(), provider);
        }
        let issuers = raw
            .issuer
            .into_iter()
            .map(RawIssuer::into_config)
            .collect::<Result<Vec<_>, _>>()?;
        let meta_issuers = raw
            .meta_issuer
            .into_iter()
            .map(RawIssuer::into_config)
            .collect::<Result<Vec<_>, _>>()?;
        Self::with_ci_providers(issuers, meta_issuers, ci_providers)
    }

    /// Adds an exact issuer unless one with its URL is already configured (a configuration
    /// file's own entry for an issuer wins). Returns whether it was added.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidIssuerUrl`] for a URL that is not http(s).
    pub fn add_default_issuer(&mut self, issuer: IssuerConfig) -> Result<bool, ConfigError> {
        if !(issuer.url.starts_with("https://") || issuer.url.starts_with("http://")) {
            return Err(ConfigError::InvalidIssuerUrl { url: issuer.url });
        }
        if self.issuers.contains_key(&issuer.url) {
            return Ok(false);
        }
        self.issuers.insert(issuer.url.clone(), issuer);
        Ok(true)
    }

    /// Every accepted issuer, exact ones first; `true` marks a meta-issuer pattern.
    pub fn issuers(&self) -> impl Iterator<Item = (bool, &IssuerConfig)> {
        self.issuers
            .values()
            .map(|i| (false, i))
            .chain(self.meta_issuers.iter().map(|(_, i)| (true, i)))
    }

    /// The configuration for a token's `iss`: the exact issuer if configured, else the first
    /// meta-issuer whose pattern matches.
    pub fn issuer(&self, iss: &str) -> Option<&IssuerConfig> {
        self.issuers.get(iss).or_else(|| {
            self.meta_issuers
                .iter()
                .find(|(pattern, _)| pattern.is_match(iss))
                .map(|(_, issuer)| issuer)
        })
    }

    pub(crate) fn ci_provider(&self, name: &str) -> Option<&CiProvider> {
        self.ci_providers.get(name)
    }
}

/// Fulcio `pkg/config/config.go` `metaRegex`: quote the URL, then each `*` matches
/// `[-_a-zA-Z0-9]+` (one DNS label or path segment, never a `.` or `/`).
fn meta_regex(pattern: &str) -> Result<Regex, ConfigError> {
    let quoted: Vec<String> = pattern.split('*').map(regex::escape).collect();
    let source = format!("^{}$", quoted.join("[-_a-zA-Z0-9]+"));
    Regex::new(&source).map_err(|e| ConfigError::InvalidRegex {
        issuer: pattern.to_owned(),
        rule: "meta_issuer.url".to_owned(),
        reason: e.to_string(),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    issuer: Vec<RawIssuer>,
    #[serde(default)]
    meta_issuer: Vec<RawIssuer>,
    #[serde(default)]
    ci_provider: BTreeMap<String, RawCiProvider>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIssuer {
    url: String,
    client_id: Option<String>,
    #[serde(rename = "type")]
    issuer_type: String,
    ci_provider: Option<String>,
    trust_domain: Option<String>,
    subject_domain: Option<String>,
    rules: Option<RawRules>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCiProvider {
    #[serde(default)]
    default_template_values: BTreeMap<String, String>,
    #[serde(default)]
    extension_templates: BTreeMap<String, String>,
    subject_alternative_name_template: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    san: Vec<String>,
    #[serde(default)]
    san_regex: Vec<String>,
    #[serde(default)]
    claims: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    claims_regex: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl RawIssuer {
    fn into_config(self) -> Result<IssuerConfig, ConfigError> {
        let missing = |field| ConfigError::MissingField {
            issuer: self.url.clone(),
            issuer_type: self.issuer_type.clone(),
            field,
        };
        let issuer_type = match self.issuer_type.as_str() {
            "email" => IssuerType::Email,
            "github-workflow" => IssuerType::GithubWorkflow,
            "gitlab-pipeline" => IssuerType::GitlabPipeline,
            "kubernetes" => IssuerType::Kubernetes,
            "ci-provider" => IssuerType::CiProvider {
                name: self
                    .ci_provider
                    .clone()
                    .ok_or_else(|| missing("ci_provider"))?,
            },
            "spiffe" => IssuerType::Spiffe {
                trust_domain: self
                    .trust_domain
                    .clone()
                    .ok_or_else(|| missing("trust_domain"))?,
            },
            "uri" => IssuerType::Uri {
                subject_domain: self
                    .subject_domain
                    .clone()
                    .ok_or_else(|| missing("subject_domain"))?,
            },
            "username" => IssuerType::Username {
                subject_domain: self
                    .subject_domain
                    .clone()
                    .ok_or_else(|| missing("subject_domain"))?,
            },
            other => {
                return Err(ConfigError::UnknownIssuerType {
                    issuer: self.url.clone(),
                    issuer_type: other.to_owned(),
                });
            }
        };
        let mut config = IssuerConfig::new(&self.url, issuer_type);
        if let Some(client_id) = &self.client_id {
            config = config.with_client_id(client_id);
        }
        if let Some(raw) = self.rules {
            let with_issuer = |e: ConfigError| match e {
                ConfigError::InvalidRegex { rule, reason, .. } => ConfigError::InvalidRegex {
                    issuer: self.url.clone(),
                    rule,
                    reason,
                },
                other => other,
            };
            let mut rules = IssuanceRules::new();
            for san in &raw.san {
                rules = rules.allow_san(san);
            }
            for pattern in &raw.san_regex {
                rules = rules.allow_san_regex(pattern).map_err(with_issuer)?;
            }
            for (name, values) in &raw.claims {
                let values: Vec<&str> = match values {
                    OneOrMany::One(v) => vec![v.as_str()],
                    OneOrMany::Many(vs) => vs.iter().map(String::as_str).collect(),
                };
                rules = rules.require_claim(name, &values);
            }
            for (name, pattern) in &raw.claims_regex {
                rules = rules
                    .require_claim_regex(name, pattern)
                    .map_err(with_issuer)?;
            }
            config = config.with_rules(rules);
        }
        Ok(config)
    }
}
