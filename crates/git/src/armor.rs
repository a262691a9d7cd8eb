//! The `SIGNED MESSAGE` armor gitsign writes around the DER SignedData (Go `pem.Encode`:
//! 64-column base64, a final newline), which git stores and detects by its first line.

use waxseal_crypto::pem;

use crate::Error;

/// The PEM label of a CMS signature in git (gpgsm's and smimesign's too).
pub const LABEL: &str = "SIGNED MESSAGE";

/// The largest signature accepted (a gitsign signature with a proof and a timestamp is under
/// 10 KiB).
pub const MAX_SIGNATURE_SIZE: usize = 1 << 20;

/// Armors a DER SignedData as gitsign does.
pub fn armor(der: &[u8]) -> String {
    pem::encode(LABEL, der)
}

/// The DER inside one `SIGNED MESSAGE` block.
///
/// # Errors
///
/// [`Error::TooLarge`] beyond [`MAX_SIGNATURE_SIZE`], [`Error::Armor`] if it is not exactly
/// one such block of valid base64.
pub fn dearmor(text: &[u8]) -> Result<Vec<u8>, Error> {
    check_size(text.len())?;
    let text = std::str::from_utf8(text).map_err(|_| Error::Armor {
        reason: "not UTF-8 text".to_owned(),
    })?;
    pem::decode(text, LABEL).map_err(|e| Error::Armor {
        reason: e.to_string(),
    })
}

/// The DER of a signature given armored (as git passes it) or already as DER (a `SEQUENCE`,
/// first byte 0x30).
///
/// # Errors
///
/// As [`dearmor`].
pub fn signature_der(signature: &[u8]) -> Result<Vec<u8>, Error> {
    check_size(signature.len())?;
    if signature.first() == Some(&0x30) {
        Ok(signature.to_vec())
    } else {
        dearmor(signature)
    }
}

fn check_size(size: usize) -> Result<(), Error> {
    if size > MAX_SIGNATURE_SIZE {
        return Err(Error::TooLarge {
            size,
            limit: MAX_SIGNATURE_SIZE,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn armors_in_64_columns_with_final_newline() {
        let der = vec![0x30u8; 100];
        let text = armor(&der);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.first(), Some(&"-----BEGIN SIGNED MESSAGE-----"));
        assert_eq!(lines.last(), Some(&"-----END SIGNED MESSAGE-----"));
        assert!(lines[1..lines.len() - 1].iter().all(|l| l.len() <= 64));
        assert_eq!(lines[1].len(), 64);
        assert!(text.ends_with("-----\n"));
        assert_eq!(dearmor(text.as_bytes()).unwrap(), der);
        assert_eq!(signature_der(text.as_bytes()).unwrap(), der);
        assert_eq!(signature_der(&der).unwrap(), der);
    }

    #[test]
    fn refuses_other_blocks() {
        for bad in [
            "-----BEGIN PGP SIGNATURE-----\nAAAA\n-----END PGP SIGNATURE-----\n",
            "-----BEGIN SIGNED MESSAGE-----\n!!!!\n-----END SIGNED MESSAGE-----\n",
            "-----BEGIN SIGNED MESSAGE-----\nAAAA\n",
            "",
        ] {
            assert!(
                matches!(dearmor(bad.as_bytes()), Err(Error::Armor { .. })),
                "{bad:?}"
            );
        }
        assert!(matches!(
            dearmor(&vec![b'A'; MAX_SIGNATURE_SIZE + 1]),
            Err(Error::TooLarge { .. })
        ));
    }

    #[test]
    fn never_panics_on_truncations_and_bit_flips() {
        let text = armor(&[0x30, 0x03, 0x02, 0x01, 0x01]).into_bytes();
        for len in 0..text.len() {
            let _ = dearmor(&text[..len]);
        }
        for i in 0..text.len() {
            for bit in 0..8 {
                let mut flipped = text.clone();
                flipped[i] ^= 1 << bit;
                let _ = signature_der(&flipped);
            }
        }
    }
}
