//! git objects, `SIGNED MESSAGE` armor, gitsign CMS signatures, the protobuf log entry and
//! gpg-style argv on arbitrary bytes: each parses or fails without panicking; armor that
//! de-armors re-armors to the same DER; a parsed signature rebuilt from its parts parses to the
//! same parts; a decoded log entry re-encodes to bytes that decode to the same entry.
//!
//! `scripts/test` seeds this target with the real gitsign objects of shared/vectors/git.

#![no_main]

use libfuzzer_sys::fuzz_target;
use waxseal_git::{GitSignature, Ident, Mode, SignedObject, armor, build, entry, status};

fn signature(data: &[u8]) {
    let Ok(parsed) = GitSignature::parse(data) else {
        return;
    };
    if parsed.mode() == Mode::LegacyPerFieldOids {
        return;
    }
    let rebuilt = build(
        parsed.signer_certificate(),
        parsed.signed_attributes(),
        parsed.signature(),
        parsed.log_entry(),
        parsed.timestamp_token(),
    )
    .expect("the parts of a parsed signature rebuild");
    let again = GitSignature::from_der(&rebuilt).expect("a rebuilt signature parses");
    assert_eq!(again.signer_certificate(), parsed.signer_certificate());
    assert_eq!(again.signed_attributes(), parsed.signed_attributes());
    assert_eq!(again.signature(), parsed.signature());
    assert_eq!(again.log_entry(), parsed.log_entry());
    assert_eq!(again.timestamp_token(), parsed.timestamp_token());
}

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(object)) = SignedObject::parse(data) {
        let _ = Ident::author(object.payload());
        if let Ok(signed) = object.x509_signature() {
            signature(signed);
        }
    }
    signature(data);
    if let Ok(der) = armor::dearmor(data) {
        let again = armor::dearmor(armor::armor(&der).as_bytes()).expect("armor de-armors");
        assert_eq!(again, der);
    }
    if let Ok(decoded) = entry::decode(data) {
        let again = entry::decode(&entry::encode(&decoded)).expect("an encoded entry decodes");
        assert_eq!(again, decoded);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let args: Vec<&str> = text.split_whitespace().collect();
        let _ = status::Invocation::parse(&args);
    }
});
