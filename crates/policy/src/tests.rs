//! Load and evaluation tables over policy-controller-shaped example CIPs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use waxseal_crypto::SigningKey;

use crate::{
    AttestationFact, Facts, NoMatch, Options, PolicySet, RegoLimits, SignatureFact, Source,
};

const GOOGLE: &str = "https://accounts.google.com";
const GITHUB: &str = "https://token.actions.githubusercontent.com";
const IMAGE: &str =
    "registry.local/app@sha256:1111111111111111111111111111111111111111111111111111111111111111";
const VULN: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";

fn key_pem(seed: u8) -> String {
    #[allow(clippy::expect_used)]
    let key = SigningKey::from_ed25519_seed(&[seed; 32]).expect("seeded Ed25519 key");
    key.public_key().to_pem()
}

fn spki(seed: u8) -> Vec<u8> {
    #[allow(clippy::expect_used)]
    let key = SigningKey::from_ed25519_seed(&[seed; 32]).expect("seeded Ed25519 key");
    key.public_key().spki_der().to_vec()
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

fn cip(name: &str, spec: &str) -> String {
    format!(
        "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata:\n  name: {name}\nspec:\n{}",
        indent(spec, 2)
    )
}

fn load(docs: &[String]) -> PolicySet {
    match PolicySet::load(&[Source::new("cip.yaml", docs.join("---\n"))]) {
        Ok(set) => set,
        Err(e) => panic!("load failed:\n{e}"),
    }
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_750_000_000) // 2025-06-15T15:06:40Z
}

fn options() -> Options {
    Options::new(now())
}

fn keyless_spec(glob: &str, identity: &str) -> String {
    format!(
        "images: [{{glob: \"{glob}\"}}]\nauthorities:\n- name: fulcio\n  keyless:\n    identities:\n    - {identity}\n"
    )
}

fn alice() -> SignatureFact {
    SignatureFact::keyless("sig-alice", "alice@example.com", GOOGLE)
}

// ---------------------------------------------------------------- load

struct LoadCase {
    name: &'static str,
    yaml: fn() -> String,
    /// Substrings the error text must contain (file, document index, field, message).
    want: &'static [&'static str],
}

fn with_doc0(spec: &str) -> String {
    // document 0 is fine, so the bad one is document 1
    format!(
        "{}---\n{}",
        cip("ok", &keyless_spec("**", "{issuer: x, subject: someone}")),
        cip("bad", spec)
    )
}

const LOAD_CASES: &[LoadCase] = &[
    LoadCase {
        name: "unknown field",
        yaml: || {
            with_doc0(
                "images: [{glob: '**'}]\nauthorities:\n- static: {action: pass}\n  colour: blue\n",
            )
        },
        want: &[
            "cip.yaml[1]",
            "spec.authorities[0]",
            "unknown field `colour`",
        ],
    },
    LoadCase {
        name: "bad glob",
        yaml: || {
            with_doc0(
                "images: [{glob: 'registry.local/[a-z]*'}]\nauthorities:\n- static: {action: pass}\n",
            )
        },
        want: &["cip.yaml[1]", "spec.images[0].glob", "glob is invalid"],
    },
    LoadCase {
        name: "empty images",
        yaml: || with_doc0("images: []\nauthorities:\n- static: {action: pass}\n"),
        want: &["cip.yaml[1]", "spec.images", "missing field"],
    },
    LoadCase {
        name: "bad regexp",
        yaml: || {
            with_doc0(&keyless_spec(
                "**",
                "{issuer: x, subjectRegExp: '(unclosed'}",
            ))
        },
        want: &[
            "cip.yaml[1]",
            "spec.authorities[0].keyless.identities[0].subjectRegExp",
            "regex is invalid",
        ],
    },
    LoadCase {
        name: "issuer and issuerRegExp",
        yaml: || {
            with_doc0(&keyless_spec(
                "**",
                "{issuer: x, issuerRegExp: 'x.*', subject: someone}",
            ))
        },
        want: &[
            "cip.yaml[1]",
            "identities[0]",
            "expected exactly one, got both: issuer, issuerRegExp",
        ],
    },
    LoadCase {
        name: "rego not compiling",
        yaml: || {
            with_doc0(
                "images: [{glob: '**'}]\nauthorities:\n- static: {action: pass}\npolicy:\n  type: rego\n  data: |\n    package sigstore\n    isCompliant {\n",
            )
        },
        want: &[
            "cip.yaml[1]",
            "spec.policy.data",
            "rego policy does not compile",
        ],
    },
    LoadCase {
        name: "rego wrong package",
        yaml: || {
            with_doc0(
                "images: [{glob: '**'}]\nauthorities:\n- static: {action: pass}\npolicy:\n  type: rego\n  data: |\n    package other\n    isCompliant = true\n",
            )
        },
        want: &["cip.yaml[1]", "spec.policy.data", "package sigstore"],
    },
    LoadCase {
        name: "cue",
        yaml: || {
            with_doc0(&format!(
                "{}  attestations:\n  - name: sbom\n    predicateType: spdxjson\n    policy:\n      type: cue\n      data: 'predicateType: \"https://spdx.dev/Document\"'\n",
                keyless_spec("**", "{issuer: x, subject: someone}")
            ))
        },
        want: &[
            "cip.yaml[1]",
            "spec.authorities[0].attestations[0].policy.type",
            "CUE policies are not supported",
            "\"sbom\"",
        ],
    },
    LoadCase {
        name: "kms",
        yaml: || {
            with_doc0(
                "images: [{glob: '**'}]\nauthorities:\n- key: {kms: 'gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k'}\n",
            )
        },
        want: &[
            "cip.yaml[1]",
            "spec.authorities[0].key.kms",
            "not supported offline",
        ],
    },
    LoadCase {
        name: "secretRef",
        yaml: || with_doc0("images: [{glob: '**'}]\nauthorities:\n- key: {secretRef: {name: k}}\n"),
        want: &[
            "cip.yaml[1]",
            "spec.authorities[0].key.secretRef",
            "not supported offline",
        ],
    },
    LoadCase {
        name: "remote policy",
        yaml: || {
            with_doc0(
                "images: [{glob: '**'}]\nauthorities:\n- static: {action: pass}\npolicy:\n  type: rego\n  remote: {url: 'https://example.com/p.rego'}\n",
            )
        },
        want: &["cip.yaml[1]", "spec.policy.remote", "not supported offline"],
    },
    LoadCase {
        name: "zero authority types",
        yaml: || with_doc0("images: [{glob: '**'}]\nauthorities:\n- name: empty\n"),
        want: &[
            "cip.yaml[1]",
            "spec.authorities[0]",
            "expected exactly one, got neither: key, keyless, static",
        ],
    },
    LoadCase {
        name: "two authority types",
        yaml: || {
            with_doc0(
                "images: [{glob: '**'}]\nauthorities:\n- static: {action: pass}\n  keyless: {url: 'https://f', identities: [{issuer: x, subject: someone}]}\n",
            )
        },
        want: &[
            "cip.yaml[1]",
            "spec.authorities[0]",
            "expected exactly one, got both: key, keyless, static",
        ],
    },
    LoadCase {
        name: "static with attestations",
        yaml: || {
            with_doc0(
                "images: [{glob: '**'}]\nauthorities:\n- static: {action: pass}\n  attestations: [{name: a, predicateType: vuln}]\n",
            )
        },
        want: &[
            "cip.yaml[1]",
            "spec.authorities[0]",
            "got both: static, attestations",
        ],
    },
    LoadCase {
        name: "bad PEM",
        yaml: || {
            with_doc0(
                "images: [{glob: '**'}]\nauthorities:\n- key:\n    data: |\n      -----BEGIN PUBLIC KEY-----\n      bm90IGEga2V5\n      -----END PUBLIC KEY-----\n",
            )
        },
        want: &[
            "cip.yaml[1]",
            "spec.authorities[0].key.data",
            "not a usable PEM public key",
        ],
    },
    LoadCase {
        name: "wrong kind",
        yaml: || {
            with_doc0("images: [{glob: '**'}]\n").replace(
                "kind: ClusterImagePolicy\nmetadata:\n  name: bad",
                "kind: ImagePolicy\nmetadata:\n  name: bad",
            )
        },
        want: &["cip.yaml[1]", "kind", "unsupported kind \"ImagePolicy\""],
    },
    LoadCase {
        name: "wrong apiVersion",
        yaml: || {
            let mut docs =
                with_doc0("images: [{glob: '**'}]\nauthorities:\n- static: {action: pass}\n");
            let at = docs.rfind("policy.sigstore.dev/v1beta1").unwrap_or(0);
            docs.replace_range(
                at..at + "policy.sigstore.dev/v1beta1".len(),
                "policy.sigstore.dev/v2",
            );
            docs
        },
        want: &["cip.yaml[1]", "apiVersion", "policy.sigstore.dev/v2"],
    },
    LoadCase {
        name: "duplicate authority names",
        yaml: || {
            with_doc0(
                "images: [{glob: '**'}]\nauthorities:\n- {name: a, static: {action: pass}}\n- {name: a, static: {action: fail}}\n",
            )
        },
        want: &[
            "cip.yaml[1]",
            "spec.authorities[1].name",
            "duplicate authority name \"a\"",
        ],
    },
    LoadCase {
        name: "keyless without identities",
        yaml: || {
            with_doc0(
                "images: [{glob: '**'}]\nauthorities:\n- keyless: {url: 'https://fulcio.sigstore.dev'}\n",
            )
        },
        want: &[
            "cip.yaml[1]",
            "spec.authorities[0].keyless.identities",
            "missing field",
        ],
    },
    LoadCase {
        name: "unknown predicate short name",
        yaml: || {
            with_doc0(&format!(
                "{}  attestations: [{{name: a, predicateType: sbom}}]\n",
                keyless_spec("**", "{issuer: x, subject: someone}")
            ))
        },
        want: &[
            "cip.yaml[1]",
            "attestations[0].predicateType",
            "unsupported predicate type",
        ],
    },
    LoadCase {
        name: "unsupported mode",
        yaml: || {
            with_doc0(
                "images: [{glob: '**'}]\nmode: audit\nauthorities:\n- static: {action: pass}\n",
            )
        },
        want: &["cip.yaml[1]", "spec.mode", "unsupported mode"],
    },
];

#[test]
fn load_errors_name_file_document_and_field() {
    for case in LOAD_CASES {
        let yaml = (case.yaml)();
        let err = match PolicySet::load(&[Source::new("cip.yaml", yaml)]) {
            Ok(_) => panic!("{}: loaded, want an error", case.name),
            Err(e) => e.to_string(),
        };
        for want in case.want {
            assert!(err.contains(want), "{}: {want:?} not in:\n{err}", case.name);
        }
    }
}

#[test]
fn load_collects_every_problem_across_sources() {
    let bad1 = cip(
        "one",
        "images: [{glob: '[x'}]\nauthorities:\n- static: {action: maybe}\n",
    );
    let bad2 = cip("two", "images: []\nauthorities: []\n");
    let err = match PolicySet::load(&[Source::new("a.yaml", bad1), Source::new("b.yaml", bad2)]) {
        Ok(_) => panic!("loaded"),
        Err(e) => e,
    };
    let text = err.to_string();
    assert_eq!(err.len(), 4, "{text}");
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.contains("a.yaml[0]: spec.images[0].glob"), "{text}");
    assert!(
        text.contains("a.yaml[0]: spec.authorities[0].static.action: invalid value: maybe"),
        "{text}"
    );
    assert!(text.contains("b.yaml[0]: spec.images"), "{text}");
    assert!(text.contains("b.yaml[0]: spec.authorities"), "{text}");
}

#[test]
fn loads_multi_document_stream_with_v1alpha1_and_v1beta1() {
    let v1alpha1 = cip(
        "alpha",
        "images: [{glob: 'registry.local/**'}]\nauthorities:\n- static: {action: pass}\n",
    )
    .replace("v1beta1", "v1alpha1");
    let text = format!(
        "---\n{v1alpha1}---\n{}---\n",
        cip(
            "beta",
            &format!(
                "images: [{{glob: '**'}}]\nauthorities:\n- key:\n    data: |\n{}",
                indent(&key_pem(1), 6)
            )
        )
    );
    let set = match PolicySet::load(&[Source::new("multi.yaml", text)]) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let names: Vec<&str> = set.policies().iter().map(|p| p.name()).collect();
    assert_eq!(names, ["alpha", "beta"]);
    assert_eq!(
        set.policies()[0].api_version(),
        "policy.sigstore.dev/v1alpha1"
    );
    assert_eq!(set.keys().len(), 1);
    assert_eq!(set.keys()[0].spki_der(), spki(1).as_slice());
    assert_eq!(set.policies()[1].authorities()[0].name(), "authority-0");
}

// ---------------------------------------------------------------- evaluation

#[test]
fn every_matching_policy_must_pass() {
    let set = load(&[
        cip(
            "sig",
            &keyless_spec(
                "registry.local/**",
                "{issuer: https://accounts.google.com, subject: alice@example.com}",
            ),
        ),
        cip(
            "static-fail",
            "images: [{glob: 'registry.local/app*'}]\nauthorities:\n- static: {action: fail, message: frozen}\n",
        ),
        cip(
            "other",
            "images: [{glob: 'ghcr.io/**'}]\nauthorities:\n- static: {action: fail}\n",
        ),
    ]);
    let facts = Facts::new(vec![alice()], vec![]);
    let d = set.evaluate(IMAGE, &facts, &options());
    assert!(!d.allowed());
    assert_eq!(
        d.errors(),
        ["failed policy: static-fail: disallowed by static policy: frozen"]
    );
    assert_eq!(
        d.message(),
        "validation failed: failed policy: static-fail: disallowed by static policy: frozen"
    );
    let matched: Vec<(&str, bool, bool)> = d
        .policies()
        .iter()
        .map(|p| (p.name.as_str(), p.matched, p.passed))
        .collect();
    assert_eq!(
        matched,
        [
            ("sig", true, true),
            ("static-fail", true, false),
            ("other", false, false)
        ]
    );
    // Only the first policy matches another image in the registry.
    let d = set.evaluate(
        "registry.local/db@sha256:1111111111111111111111111111111111111111111111111111111111111111",
        &facts,
        &options(),
    );
    assert!(d.allowed(), "{}", d.message());
}

#[test]
fn one_passing_authority_suffices() {
    let spec = format!(
        "images: [{{glob: '**'}}]\nauthorities:\n- name: release-key\n  key:\n    data: |\n{}- name: ci\n  keyless:\n    identities: [{{issuer: '{GITHUB}', subjectRegExp: '^https://github.com/acme/.*$'}}]\n",
        indent(&key_pem(1), 6)
    );
    let set = load(&[cip("either", &spec)]);
    struct Case {
        name: &'static str,
        sigs: fn() -> Vec<SignatureFact>,
        allowed: bool,
        reason: &'static str,
    }
    let cases = [
        Case {
            name: "key signature",
            sigs: || vec![SignatureFact::key("k", spki(1))],
            allowed: true,
            reason: "",
        },
        Case {
            name: "ci signature by regexp",
            sigs: || {
                vec![SignatureFact::keyless(
                    "c",
                    "https://github.com/acme/app/.github/workflows/r.yml@refs/heads/main",
                    GITHUB,
                )]
            },
            allowed: true,
            reason: "",
        },
        Case {
            name: "wrong key and foreign repo",
            sigs: || {
                vec![
                    SignatureFact::key("k", spki(2)),
                    SignatureFact::keyless(
                        "c",
                        "https://github.com/evil/app/.github/workflows/r.yml@refs/heads/main",
                        GITHUB,
                    ),
                ]
            },
            allowed: false,
            reason: "signature keyless validation failed for authority ci for registry.local/app:v1: no matching signatures: signed with a key, want a certificate; none of the expected identities matched",
        },
        Case {
            name: "no signatures",
            sigs: Vec::new,
            allowed: false,
            reason: "signature key validation failed for authority release-key for registry.local/app:v1: no signatures found",
        },
    ];
    for case in cases {
        let d = set.evaluate(
            "registry.local/app:v1",
            &Facts::new((case.sigs)(), vec![]),
            &options(),
        );
        assert_eq!(d.allowed(), case.allowed, "{}: {}", case.name, d.message());
        if !case.reason.is_empty() {
            assert!(
                d.message().contains(case.reason),
                "{}: {}",
                case.name,
                d.message()
            );
        }
    }
}

#[test]
fn regex_identities_are_unanchored_like_cosign() {
    let set = load(&[cip(
        "re",
        &keyless_spec(
            "**",
            "{issuerRegExp: 'accounts\\.google', subjectRegExp: '@example\\.com'}",
        ),
    )]);
    let d = set.evaluate(IMAGE, &Facts::new(vec![alice()], vec![]), &options());
    assert!(d.allowed(), "{}", d.message());
}

#[test]
fn warn_mode_failures_become_warnings() {
    let set = load(&[
        cip(
            "audit",
            &format!(
                "mode: warn\n{}",
                keyless_spec("**", "{issuer: x, subject: bob}")
            ),
        ),
        cip(
            "pass",
            "images: [{glob: '**'}]\nauthorities:\n- static: {action: pass}\n",
        ),
    ]);
    let d = set.evaluate(IMAGE, &Facts::new(vec![alice()], vec![]), &options());
    assert!(d.allowed(), "{}", d.message());
    assert!(d.errors().is_empty());
    assert_eq!(d.warnings().len(), 1, "{:?}", d.warnings());
    assert!(
        d.warnings()[0].starts_with(
            "failed policy: audit: signature keyless validation failed for authority fulcio"
        ),
        "{:?}",
        d.warnings()
    );
}

#[test]
fn trust_root_ref_tlog_and_timestamps_are_required() {
    let spec = "images: [{glob: '**'}]\nauthorities:\n- name: private\n  keyless:\n    url: https://fulcio.internal\n    trustRootRef: internal\n    identities: [{issuer: https://dex.internal, subject: ci@internal}]\n  rfc3161timestamp: {trustRootRef: internal}\n";
    let set = load(&[cip("private", spec)]);
    assert_eq!(set.trust_root_refs(), ["internal"]);
    let base = || {
        SignatureFact::keyless("s", "ci@internal", "https://dex.internal")
            .with_ca_uri("https://fulcio.internal")
    };
    let cases: [(&str, SignatureFact, bool, &str); 5] = [
        (
            "all there",
            base()
                .with_trust_root("internal")
                .with_rfc3161_timestamps(1),
            true,
            "",
        ),
        (
            "default root",
            base().with_rfc3161_timestamps(1),
            false,
            "verified under trust root (default), want internal",
        ),
        (
            "no timestamp",
            base().with_trust_root("internal"),
            false,
            "no verified RFC 3161 timestamp",
        ),
        (
            "no tlog",
            base()
                .with_trust_root("internal")
                .with_rfc3161_timestamps(1)
                .with_tlog_verified(false),
            false,
            "no verified transparency log entry",
        ),
        (
            "other CA",
            base()
                .with_trust_root("internal")
                .with_rfc3161_timestamps(1)
                .with_ca_uri("https://fulcio.sigstore.dev"),
            false,
            "certificate issued by https://fulcio.sigstore.dev, want https://fulcio.internal",
        ),
    ];
    for (name, fact, allowed, reason) in cases {
        let d = set.evaluate(IMAGE, &Facts::new(vec![fact], vec![]), &options());
        assert_eq!(d.allowed(), allowed, "{name}: {}", d.message());
        assert!(d.message().contains(reason), "{name}: {}", d.message());
    }
}

#[test]
fn empty_ctlog_disables_the_tlog_requirement() {
    let spec = format!(
        "images: [{{glob: '**'}}]\nauthorities:\n- key:\n    data: |\n{}  ctlog: {{}}\n",
        indent(&key_pem(3), 6)
    );
    let set = load(&[cip("offline-key", &spec)]);
    let fact = SignatureFact::key("k", spki(3)).with_tlog_verified(false);
    let d = set.evaluate(IMAGE, &Facts::new(vec![fact], vec![]), &options());
    assert!(d.allowed(), "{}", d.message());
}

const VULN_POLICY: &str = r#"package sigstore
isCompliant[response] {
  scanned := time.parse_rfc3339_ns(input.predicate.metadata.scanFinishedOn)
  fresh := time.now_ns() - scanned < 7 * 24 * 60 * 60 * 1000000000
  criticals := [v | v := input.predicate.scanner.result.vulnerabilities[_]; v.severity == "CRITICAL"]
  result := fresh == true
  response := {
    "result": result,
    "error": sprintf("scan finished %v is older than 7 days", [input.predicate.metadata.scanFinishedOn]),
    "warning": sprintf("%d critical vulnerabilities", [count(criticals)]),
  }
}
"#;

fn vuln_spec() -> String {
    format!(
        "{}  attestations:\n  - name: scan\n    predicateType: vuln\n    policy:\n      type: rego\n      data: |\n{}",
        keyless_spec(
            "**",
            "{issuer: https://accounts.google.com, subject: alice@example.com}"
        ),
        indent(VULN_POLICY, 8)
    )
}

fn scan(finished: &str) -> AttestationFact {
    AttestationFact::from_statement(
        alice(),
        json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": VULN,
            "subject": [{"name": "registry.local/app", "digest": {"sha256": "11"}}],
            "predicate": {
                "metadata": {"scanFinishedOn": finished},
                "scanner": {"result": {"vulnerabilities": [{"id": "CVE-1", "severity": "CRITICAL"}]}}
            }
        }),
    )
}

#[test]
fn attestation_missing_failing_and_passing() {
    let set = load(&[cip("scanned", &vuln_spec())]);
    // missing: only a signature, no attestation
    let d = set.evaluate(IMAGE, &Facts::new(vec![alice()], vec![]), &options());
    assert!(
        d.message()
            .contains("no matching attestations for authority fulcio"),
        "{}",
        d.message()
    );
    // wrong type only
    let mut other = scan("2025-06-14T00:00:00Z");
    other.predicate_type = "https://spdx.dev/Document".to_owned();
    let d = set.evaluate(IMAGE, &Facts::new(vec![], vec![other]), &options());
    assert!(
        d.message()
            .contains("no matching attestations with type vuln"),
        "{}",
        d.message()
    );
    // stale scan: the policy compares with the injected now
    let d = set.evaluate(
        IMAGE,
        &Facts::new(vec![], vec![scan("2025-06-01T00:00:00Z")]),
        &options(),
    );
    assert!(!d.allowed());
    assert!(
        d.message().contains("failed evaluating rego policy for type scan: policy is not compliant for query 'isCompliant = data.sigstore.isCompliant' with errors: scan finished 2025-06-01T00:00:00Z is older than 7 days"),
        "{}",
        d.message()
    );
    // fresh scan passes with the policy's warning
    let d = set.evaluate(
        IMAGE,
        &Facts::new(vec![], vec![scan("2025-06-14T00:00:00Z")]),
        &options(),
    );
    assert!(d.allowed(), "{}", d.message());
    assert_eq!(d.warnings(), ["1 critical vulnerabilities"]);
    // the same fresh scan, evaluated a month later, is stale
    let later = Options::new(now() + Duration::from_secs(30 * 24 * 3600));
    let d = set.evaluate(
        IMAGE,
        &Facts::new(vec![], vec![scan("2025-06-14T00:00:00Z")]),
        &later,
    );
    assert!(!d.allowed(), "time.now_ns must follow Options::now");
    // signed by someone else
    let mut foreign = scan("2025-06-14T00:00:00Z");
    foreign.signature = SignatureFact::keyless("x", "mallory@example.com", GOOGLE);
    let d = set.evaluate(IMAGE, &Facts::new(vec![], vec![foreign]), &options());
    assert!(
        d.message()
            .contains("attestation keyless validation failed for authority fulcio"),
        "{}",
        d.message()
    );
}

#[test]
fn cip_policy_can_fail_passing_authorities() {
    let spec = format!(
        "{}  attestations: [{{name: scan, predicateType: '{VULN}'}}]\npolicy:\n  type: rego\n  data: |\n    package sigstore\n    isCompliant {{\n      input.authorityMatches.fulcio.attestations.scan[_].githubWorkflowRepo == \"acme/app\"\n    }}\n",
        keyless_spec(
            "**",
            "{issuer: https://accounts.google.com, subject: alice@example.com}"
        )
    );
    let set = load(&[cip("repo", &spec)]);
    let mut att = scan("2025-06-14T00:00:00Z");
    att.signature = alice().with_extension("1.3.6.1.4.1.57264.1.5", "acme/other");
    let d = set.evaluate(IMAGE, &Facts::new(vec![], vec![att.clone()]), &options());
    assert!(!d.allowed());
    assert_eq!(
        d.errors(),
        [
            "failed policy: repo: failed evaluating rego policy for type ClusterImagePolicy: policy is not compliant for query 'isCompliant = data.sigstore.isCompliant'"
        ]
    );
    assert!(d.policies()[0].authorities[0].passed);
    att.signature = alice().with_extension("1.3.6.1.4.1.57264.1.5", "acme/app");
    let d = set.evaluate(IMAGE, &Facts::new(vec![], vec![att]), &options());
    assert!(d.allowed(), "{}", d.message());
}

#[test]
fn cip_policy_sees_policy_result_shape() {
    // N-of-M at the CIP level: both authorities must have matched.
    let spec = format!(
        "images: [{{glob: '**'}}]\nauthorities:\n- name: a\n  key:\n    data: |\n{}- name: b\n  static: {{action: pass}}\npolicy:\n  type: rego\n  data: |\n    package sigstore\n    isCompliant {{\n      input.authorityMatches.a.signatures[0].id == \"k1\"\n      input.authorityMatches.b.static == true\n    }}\n",
        indent(&key_pem(4), 6)
    );
    let set = load(&[cip("both", &spec)]);
    let d = set.evaluate(
        IMAGE,
        &Facts::new(vec![SignatureFact::key("k1", spki(4))], vec![]),
        &options(),
    );
    assert!(d.allowed(), "{}", d.message());
    let d = set.evaluate(IMAGE, &Facts::default(), &options());
    assert!(!d.allowed(), "authority a did not match");
}

#[test]
fn no_match_policy_deny_allow_warn() {
    let set = load(&[cip(
        "ghcr",
        "images: [{glob: 'ghcr.io/**'}]\nauthorities:\n- static: {action: pass}\n",
    )]);
    let facts = Facts::default();
    let d = set.evaluate(IMAGE, &facts, &options());
    assert!(!d.allowed());
    assert_eq!(
        d.message(),
        format!("validation failed: no matching policies: {IMAGE}")
    );
    let d = set.evaluate(IMAGE, &facts, &options().with_no_match(NoMatch::Allow));
    assert!(d.allowed() && d.warnings().is_empty());
    let d = set.evaluate(IMAGE, &facts, &options().with_no_match(NoMatch::Warn));
    assert!(d.allowed());
    assert_eq!(d.warnings(), [format!("no matching policies: {IMAGE}")]);
    let d = set.evaluate(
        "Not A Reference!",
        &facts,
        &options().with_no_match(NoMatch::Allow),
    );
    assert!(
        !d.allowed(),
        "invalid references are denied whatever no_match says"
    );
}

#[test]
fn rego_result_set_failure_keeps_error_and_warning() {
    let spec = "images: [{glob: '**'}]\nauthorities:\n- static: {action: pass}\npolicy:\n  type: rego\n  data: |\n    package sigstore\n    isCompliant[r] {\n      r := {\"result\": false, \"error\": \"nope\", \"warning\": \"heads up\"}\n    }\n";
    let set = load(&[cip("set", spec)]);
    let d = set.evaluate(IMAGE, &Facts::default(), &options());
    assert!(!d.allowed());
    assert!(
        d.message().ends_with("with errors: nope"),
        "{}",
        d.message()
    );
    assert_eq!(d.warnings(), ["heads up"]);
}

fn bomb(body: &str) -> PolicySet {
    let spec = format!(
        "images: [{{glob: '**'}}]\nauthorities:\n- static: {{action: pass}}\npolicy:\n  type: rego\n  data: |\n    package sigstore\n{}",
        indent(body, 4)
    );
    load(&[cip("bomb", &spec)])
}

#[test]
fn rego_huge_range_is_stopped_by_the_limit() {
    let set = bomb("isCompliant {\n  count([x | x := numbers.range(1, 100000000000)[_]]) > 0\n}\n");
    let d = set.evaluate(IMAGE, &Facts::default(), &options());
    assert!(!d.allowed(), "fails closed");
    assert!(
        d.message().contains("stopped by a limit"),
        "{}",
        d.message()
    );
}

#[test]
fn rego_long_loop_is_stopped_by_the_time_limit() {
    let set = bomb(
        "isCompliant {\n  count([x | some i, j; x := numbers.range(1, 20000)[i] * numbers.range(1, 20000)[j]]) > 0\n}\n",
    );
    let opts =
        options().with_rego_limits(RegoLimits::default().with_time(Duration::from_millis(100)));
    let d = set.evaluate(IMAGE, &Facts::default(), &opts);
    assert!(!d.allowed(), "fails closed");
    assert!(
        d.message().contains("stopped by a limit"),
        "{}",
        d.message()
    );
}

#[test]
fn decision_serializes_for_json_output() {
    let set = load(&[cip(
        "s",
        "images: [{glob: '**'}]\nauthorities:\n- static: {action: fail}\n",
    )]);
    let d = set.evaluate(IMAGE, &Facts::default(), &options());
    let v = match serde_json::to_value(&d) {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(v["allowed"], json!(false));
    assert_eq!(
        v["policies"][0]["authorities"][0]["reason"],
        json!("disallowed by static policy")
    );
    assert_eq!(v["policies"][0]["mode"], json!("enforce"));
}

#[test]
fn keyless_url_names_the_ca_that_issued_the_certificate() {
    let spec = "images: [{glob: '**'}]\nauthorities:\n- name: fulcio\n  keyless:\n    url: https://fulcio.example\n    identities: [{issuer: 'https://accounts.google.com', subject: alice@example.com}]\n";
    let set = load(&[cip("url", spec)]);
    for (name, fact, allowed) in [
        (
            "the named CA",
            alice().with_ca_uri("https://fulcio.example/"),
            true,
        ),
        (
            "another CA",
            alice().with_ca_uri("https://fulcio.other"),
            false,
        ),
        ("a CA without a uri", alice(), false),
    ] {
        let decision = set.evaluate(IMAGE, &Facts::new(vec![fact], vec![]), &options());
        assert_eq!(
            decision.allowed(),
            allowed,
            "{name}: {}",
            decision.message()
        );
    }
    // Without `url`, any CA of the trusted root the signature verified under.
    let set = load(&[cip(
        "no-url",
        &keyless_spec(
            "**",
            "{issuer: 'https://accounts.google.com', subject: alice@example.com}",
        ),
    )]);
    let decision = set.evaluate(IMAGE, &Facts::new(vec![alice()], vec![]), &options());
    assert!(decision.allowed(), "{}", decision.message());
}
