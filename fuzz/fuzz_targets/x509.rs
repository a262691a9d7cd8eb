//! Fulcio-profile parsing on arbitrary bytes: `CertificationRequest::from_der` / `from_pem`,
//! `parse_leaf`, `parse_sct_list` and `SignedCertificateTimestamp::from_bytes` must never panic.
//! A parsed SCT encodes back to its input; a parsed SCT list (alone or in a leaf) encodes with
//! `encode_sct_list` to bytes that parse back to the same list.

#![no_main]

use libfuzzer_sys::fuzz_target;
use waxseal_x509::{
    Certificate, CertificationRequest, SignedCertificateTimestamp, encode_sct_list, parse_leaf,
    parse_sct_list,
};

fn assert_list_round_trip(scts: &[SignedCertificateTimestamp]) {
    let encoded = encode_sct_list(scts).expect("a parsed SCT list must encode");
    let reparsed = parse_sct_list(&encoded).expect("encode_sct_list output must parse");
    assert_eq!(reparsed, scts, "SCT list did not round-trip");
    for sct in scts {
        let bytes = sct.to_bytes().expect("a parsed SCT must encode");
        assert_eq!(
            SignedCertificateTimestamp::from_bytes(&bytes).as_ref(),
            Ok(sct),
            "SCT did not round-trip"
        );
        let _ = sct.leaf_index();
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = CertificationRequest::from_der(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = CertificationRequest::from_pem(text);
    }
    if let Ok(info) = parse_leaf(data) {
        assert_eq!(
            info.scts.is_empty(),
            info.precert_tbs.is_empty(),
            "precert_tbs must be present exactly when SCTs are"
        );
        if !info.scts.is_empty() {
            assert_list_round_trip(&info.scts);
        }
        let _ = info.oidc_issuer();
        Certificate::from_der(data.to_vec()).expect("a parsed leaf is a certificate");
    }
    if let Ok(scts) = parse_sct_list(data) {
        assert_list_round_trip(&scts);
    }
    if let Ok(sct) = SignedCertificateTimestamp::from_bytes(data) {
        assert_eq!(
            sct.to_bytes().expect("a parsed SCT must encode"),
            data,
            "SCT did not round-trip"
        );
        let _ = sct.leaf_index();
    }
});
