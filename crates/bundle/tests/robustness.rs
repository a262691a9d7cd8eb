//! Arbitrary and mutated input never panics: every failure is an `Err`.

use proptest::prelude::*;
use waxseal_bundle::rekor;
use waxseal_crypto::{Algorithm, sha256};

use crate::support::{Signer, bytes, hashedrekord_v1, hashedrekord_v2};

fn valid_requests() -> Vec<Vec<u8>> {
    let signer = Signer::certified(Algorithm::EcdsaP256Sha256);
    let signature = signer.sign(b"a");
    vec![
        bytes(&hashedrekord_v1(
            &signature,
            &signer.pem(),
            "sha256",
            &hex::encode(sha256(b"a")),
        )),
        bytes(&hashedrekord_v2(
            &sha256(b"a"),
            &signature,
            signer.v2_verifier(),
        )),
    ]
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = rekor::validate_v1(&input);
        let _ = rekor::validate_v2(&input);
    }

    #[test]
    fn mutated_requests_never_panic(index in 0usize..4000, value in any::<u8>(), which in 0usize..2) {
        let mut request = valid_requests().swap_remove(which);
        let len = request.len();
        request[index % len] = value;
        let _ = rekor::validate_v1(&request);
        let _ = rekor::validate_v2(&request);
    }
}
