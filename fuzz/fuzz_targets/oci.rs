//! OCI manifests, indexes, referrers indexes, cosign simple-signing payloads, Rekor bundle
//! annotations, containers/image signature files and image references on arbitrary bytes: each
//! parses or fails without panicking; a parsed simple-signing payload re-encodes to bytes that
//! parse to the same claims, a parsed manifest document re-encodes to JSON that parses again,
//! and a parsed image reference prints as a reference that parses to the same one.

#![no_main]

use libfuzzer_sys::fuzz_target;
use waxseal_oci::{
    Index, LegacySignature, ManifestDocument, Reference, RekorBundle, SimpleSigning, media_type,
};

fuzz_target!(|data: &[u8]| {
    for header in [None, Some(media_type::OCI_MANIFEST), Some(media_type::OCI_INDEX)] {
        if let Ok(document) = ManifestDocument::parse(header, data) {
            let json = match &document {
                ManifestDocument::Manifest(m) => m.to_json(),
                ManifestDocument::Index(i) => i.to_json(),
                _ => continue,
            };
            ManifestDocument::parse(None, &json).expect("a written manifest document parses");
        }
    }
    let _ = Index::parse_referrers(data);
    if let Ok(payload) = SimpleSigning::parse(data) {
        let again = SimpleSigning::parse(&payload.to_bytes()).expect("written payload parses");
        assert_eq!(again.manifest_digest(), payload.manifest_digest());
        assert_eq!(again.docker_reference(), payload.docker_reference());
    }
    let _ = RekorBundle::parse(data);
    let _ = LegacySignature::from_containers_image_file(data);
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(reference) = Reference::parse(text)
    {
        let again = Reference::parse(&reference.to_string()).expect("a printed reference parses");
        assert_eq!(again, reference);
    }
});
