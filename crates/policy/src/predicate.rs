//! cosign's predicate type short names (`cmd/cosign/cli/options/predicate.go`).

/// The short names accepted in `attestations[].predicateType`, in cosign's spelling.
pub(crate) const SHORT_NAMES: &[&str] = &[
    "custom",
    "cyclonedx",
    "link",
    "openvex",
    "slsaprovenance",
    "slsaprovenance02",
    "slsaprovenance1",
    "spdx",
    "spdxjson",
    "vuln",
];

/// The predicate type URI for a cosign short name, or the value itself when it is a URI;
/// `None` for an unknown short name.
pub(crate) fn resolve(predicate_type: &str) -> Option<&str> {
    let uri = match predicate_type {
        "custom" => "https://cosign.sigstore.dev/attestation/v1",
        "cyclonedx" => "https://cyclonedx.org/bom",
        "link" => "https://in-toto.io/Link/v1",
        "openvex" => "https://openvex.dev/ns",
        "slsaprovenance" | "slsaprovenance02" => "https://slsa.dev/provenance/v0.2",
        "slsaprovenance1" => "https://slsa.dev/provenance/v1",
        "spdx" | "spdxjson" => "https://spdx.dev/Document",
        "vuln" => "https://cosign.sigstore.dev/attestation/vuln/v1",
        other if other.contains(':') => other,
        _ => return None,
    };
    Some(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_short_name_resolves_and_uris_pass_through() {
        for name in SHORT_NAMES {
            assert!(resolve(name).is_some(), "{name}");
        }
        assert_eq!(
            resolve("https://example.com/p/v1"),
            Some("https://example.com/p/v1")
        );
        assert_eq!(resolve("sbom"), None);
    }
}
