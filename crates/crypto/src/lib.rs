//! waxseal-crypto
