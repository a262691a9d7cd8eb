//! TOML configuration: the documented example, meta-issuer wildcards, and errors.

use waxseal_oidc::{ConfigError, OidcConfig};

use crate::idp::*;

#[test]
fn crate_doc_config_example_parses() {
    let lib = include_str!("../src/lib.rs");
    let start = lib.find("//! ```toml\n").unwrap() + "//! ```toml\n".len();
    let end = start + lib[start..].find("//! ```\n").unwrap();
    let text: String = lib[start..end]
        .lines()
        .map(|l| {
            l.strip_prefix("//! ")
                .or_else(|| l.strip_prefix("//!"))
                .unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config = OidcConfig::from_toml(&text).unwrap();
    assert!(config.issuer(GITHUB_ISSUER).unwrap().rules().is_some());
    assert!(
        config
            .issuer("https://oidc.eks.eu-west-1.amazonaws.com/id/ABC")
            .is_some()
    );
}

#[test]
fn meta_issuer_wildcards_match_one_label() {
    let config = OidcConfig::from_toml(
        r#"
[[meta_issuer]]
url = "https://oidc.eks.*.amazonaws.com/id/*"
type = "kubernetes"
"#,
    )
    .unwrap();
    let cases = [
        (
            "https://oidc.eks.us-west-2.amazonaws.com/id/B02C93B6A2D30341AD01E1B6D48164CB",
            true,
        ),
        (
            "https://oidc.eks.us-west-2.amazonaws.com/id/abc/extra",
            false,
        ),
        ("https://oidc.eks.evil.com/x.amazonaws.com/id/abc", false),
        ("https://oidc.eks..amazonaws.com/id/abc", false),
    ];
    for (iss, want) in cases {
        assert_eq!(config.issuer(iss).is_some(), want, "{iss}");
    }
}

#[test]
fn config_errors_name_the_problem() {
    type ConfigCase = (&'static str, &'static str, fn(&ConfigError) -> bool);
    let cases: &[ConfigCase] = &[
        (
            "unknown type",
            "[[issuer]]\nurl = \"https://a.example\"\ntype = \"magic\"\n",
            |e| matches!(e, ConfigError::UnknownIssuerType { issuer_type, .. } if issuer_type == "magic"),
        ),
        (
            "spiffe without trust domain",
            "[[issuer]]\nurl = \"https://a.example\"\ntype = \"spiffe\"\n",
            |e| {
                matches!(
                    e,
                    ConfigError::MissingField {
                        field: "trust_domain",
                        ..
                    }
                )
            },
        ),
        (
            "bad rule regex",
            "[[issuer]]\nurl = \"https://a.example\"\ntype = \"email\"\n[issuer.rules]\nsan_regex = [\"(\"]\n",
            |e| matches!(e, ConfigError::InvalidRegex { issuer, .. } if issuer == "https://a.example"),
        ),
        (
            "unknown ci provider",
            "[[issuer]]\nurl = \"https://a.example\"\ntype = \"ci-provider\"\nci_provider = \"nope\"\n",
            |e| matches!(e, ConfigError::MissingField { .. }),
        ),
        (
            "bad template",
            "[ci_provider.x]\nsubject_alternative_name_template = \"{{ .a \"\n",
            |e| matches!(e, ConfigError::InvalidTemplate { .. }),
        ),
        (
            "unknown extension",
            "[ci_provider.x]\nsubject_alternative_name_template = \"{{ .a }}\"\nextension_templates = { nope = \"a\" }\n",
            |e| matches!(e, ConfigError::UnknownExtension { .. }),
        ),
        ("not toml", "[[issuer", |e| {
            matches!(e, ConfigError::Toml(_))
        }),
    ];
    for (name, text, want) in cases {
        let err = OidcConfig::from_toml(text).unwrap_err();
        assert!(want(&err), "{name}: {err:?}");
    }
}
