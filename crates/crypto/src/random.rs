//! Randomness from the operating system's CSPRNG (through aws-lc-rs).

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::error::Error;

/// Fills `out` with cryptographically secure random bytes.
///
/// # Errors
///
/// [`Error::RandomnessUnavailable`] if the system generator fails.
pub fn random_bytes(out: &mut [u8]) -> Result<(), Error> {
    SystemRandom::new()
        .fill(out)
        .map_err(|_| Error::RandomnessUnavailable)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fills_distinct_values() {
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        super::random_bytes(&mut a).unwrap();
        super::random_bytes(&mut b).unwrap();
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 32]);
    }
}
