//! The binary protobuf encoding (protobuf `encoding.md`) of
//! `dev.sigstore.rekor.v1.TransparencyLogEntry` (protobuf-specs `sigstore_rekor.proto`), which
//! gitsign's offline mode embeds in attribute 1.3.6.1.4.1.57264.3.1.
//!
//! Hand-written rather than generated (`prost`): the message is seven fields deep in three
//! levels, the crate's public API must not expose generated types (STYLE.md API rule 5), and the
//! result maps straight onto `waxseal_bundle`'s protojson [`TransparencyLogEntry`]. Encoding
//! writes fields in field-number order and omits proto3 defaults, as Go's `proto.Marshal`
//! does, so gitsign's bytes are reproduced exactly.
//!
//! Field numbers: `TransparencyLogEntry` log_index 1, log_id 2 (`LogId.key_id` 1), kind_version
//! 3 (kind 1, version 2), integrated_time 4, inclusion_promise 5 (signed_entry_timestamp 1),
//! inclusion_proof 6 (log_index 1, root_hash 2, tree_size 3, hashes 4 repeated, checkpoint 5
//! (envelope 1)), canonicalized_body 7.

use waxseal_bundle::rekor::{
    Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogId, TransparencyLogEntry,
};

use crate::Error;

const VARINT: u8 = 0;
const I64: u8 = 1;
const LEN: u8 = 2;
const I32: u8 = 5;

/// Encodes `entry` as a protobuf `TransparencyLogEntry`.
///
/// `canonicalized_body` is written when non-empty; gitsign clears it before embedding (the
/// verifier rebuilds it), and so does [`crate::build`]. An `integrated_time` of `None` or 0 is
/// omitted (proto3 default).
pub fn encode(entry: &TransparencyLogEntry) -> Vec<u8> {
    let mut out = Vec::new();
    put_int64(&mut out, 1, entry.log_index);
    put_message(&mut out, 2, &{
        let mut m = Vec::new();
        put_bytes(&mut m, 1, &entry.log_id.key_id);
        m
    });
    put_message(&mut out, 3, &{
        let mut m = Vec::new();
        put_bytes(&mut m, 1, entry.kind_version.kind.as_bytes());
        put_bytes(&mut m, 2, entry.kind_version.version.as_bytes());
        m
    });
    put_int64(&mut out, 4, entry.integrated_time.unwrap_or(0));
    if let Some(promise) = &entry.inclusion_promise {
        let mut m = Vec::new();
        put_bytes(&mut m, 1, &promise.signed_entry_timestamp);
        put_message(&mut out, 5, &m);
    }
    if let Some(proof) = &entry.inclusion_proof {
        let mut m = Vec::new();
        put_int64(&mut m, 1, proof.log_index);
        put_bytes(&mut m, 2, &proof.root_hash);
        put_int64(&mut m, 3, proof.tree_size);
        for hash in &proof.hashes {
            // Repeated fields are written even when an element is empty.
            put_key(&mut m, 4, LEN);
            put_varint(&mut m, hash.len() as u64);
            m.extend_from_slice(hash);
        }
        if let Some(checkpoint) = &proof.checkpoint {
            let mut c = Vec::new();
            put_bytes(&mut c, 1, checkpoint.envelope.as_bytes());
            put_message(&mut m, 5, &c);
        }
        put_message(&mut out, 6, &m);
    }
    put_bytes(&mut out, 7, &entry.canonicalized_body);
    out
}

/// Decodes a protobuf `TransparencyLogEntry`. Unknown fields are skipped (proto3); a singular
/// field given twice, a wrong wire type, invalid UTF-8 in a string and any truncation are
/// refused. An absent or zero `integrated_time` reads as `None`.
///
/// # Errors
///
/// [`Error::Protobuf`] naming the offset and the problem.
pub fn decode(bytes: &[u8]) -> Result<TransparencyLogEntry, Error> {
    let mut entry = TransparencyLogEntry::default();
    let mut seen = Seen::default();
    let mut fields = Fields::new(bytes, 0);
    while let Some(field) = fields.next()? {
        seen.once(&field)?;
        match (field.number, field.value) {
            (1, Value::Varint(v)) => entry.log_index = v as i64,
            (2, Value::Bytes(b)) => entry.log_id = log_id(b, field.content)?,
            (3, Value::Bytes(b)) => entry.kind_version = kind_version(b, field.content)?,
            (4, Value::Varint(v)) => entry.integrated_time = Some(v as i64).filter(|t| *t != 0),
            (5, Value::Bytes(b)) => entry.inclusion_promise = Some(promise(b, field.content)?),
            (6, Value::Bytes(b)) => entry.inclusion_proof = Some(proof(b, field.content)?),
            (7, Value::Bytes(b)) => entry.canonicalized_body = b.to_vec(),
            (1..=7, _) => return Err(field.wrong_type()),
            _ => {}
        }
    }
    Ok(entry)
}

fn log_id(bytes: &[u8], base: usize) -> Result<LogId, Error> {
    let mut key_id = Vec::new();
    let mut seen = Seen::default();
    let mut fields = Fields::new(bytes, base);
    while let Some(field) = fields.next()? {
        seen.once(&field)?;
        match (field.number, field.value) {
            (1, Value::Bytes(b)) => key_id = b.to_vec(),
            (1, _) => return Err(field.wrong_type()),
            _ => {}
        }
    }
    Ok(LogId::new(key_id))
}

fn kind_version(bytes: &[u8], base: usize) -> Result<KindVersion, Error> {
    let (mut kind, mut version) = (String::new(), String::new());
    let mut seen = Seen::default();
    let mut fields = Fields::new(bytes, base);
    while let Some(field) = fields.next()? {
        seen.once(&field)?;
        match (field.number, field.value) {
            (1, Value::Bytes(b)) => kind = field.string(b)?,
            (2, Value::Bytes(b)) => version = field.string(b)?,
            (1 | 2, _) => return Err(field.wrong_type()),
            _ => {}
        }
    }
    Ok(KindVersion::new(kind, version))
}

fn promise(bytes: &[u8], base: usize) -> Result<InclusionPromise, Error> {
    let mut set = Vec::new();
    let mut seen = Seen::default();
    let mut fields = Fields::new(bytes, base);
    while let Some(field) = fields.next()? {
        seen.once(&field)?;
        match (field.number, field.value) {
            (1, Value::Bytes(b)) => set = b.to_vec(),
            (1, _) => return Err(field.wrong_type()),
            _ => {}
        }
    }
    Ok(InclusionPromise::new(set))
}

fn proof(bytes: &[u8], base: usize) -> Result<InclusionProof, Error> {
    let mut proof = InclusionProof::default();
    let mut seen = Seen::default();
    let mut fields = Fields::new(bytes, base);
    while let Some(field) = fields.next()? {
        if field.number != 4 {
            seen.once(&field)?;
        }
        match (field.number, field.value) {
            (1, Value::Varint(v)) => proof.log_index = v as i64,
            (2, Value::Bytes(b)) => proof.root_hash = b.to_vec(),
            (3, Value::Varint(v)) => proof.tree_size = v as i64,
            (4, Value::Bytes(b)) => proof.hashes.push(b.to_vec()),
            (5, Value::Bytes(b)) => proof.checkpoint = Some(checkpoint(b, field.content)?),
            (1..=5, _) => return Err(field.wrong_type()),
            _ => {}
        }
    }
    Ok(proof)
}

fn checkpoint(bytes: &[u8], base: usize) -> Result<Checkpoint, Error> {
    let mut envelope = String::new();
    let mut seen = Seen::default();
    let mut fields = Fields::new(bytes, base);
    while let Some(field) = fields.next()? {
        seen.once(&field)?;
        match (field.number, field.value) {
            (1, Value::Bytes(b)) => envelope = field.string(b)?,
            (1, _) => return Err(field.wrong_type()),
            _ => {}
        }
    }
    Ok(Checkpoint::new(envelope))
}

/// Field numbers already read in one message (all known singular fields are below 64).
#[derive(Default)]
struct Seen(u64);

impl Seen {
    fn once(&mut self, field: &Field<'_>) -> Result<(), Error> {
        if field.number >= 64 {
            return Ok(());
        }
        let bit = 1u64 << field.number;
        if self.0 & bit != 0 {
            return Err(Error::Protobuf {
                offset: field.offset,
                reason: format!("field {} appears more than once", field.number),
            });
        }
        self.0 |= bit;
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

struct Field<'a> {
    number: u64,
    value: Value<'a>,
    /// Offset of the field's key, from the start of the whole message.
    offset: usize,
    /// Offset of a length-delimited field's content (nested messages count from it).
    content: usize,
}

impl Field<'_> {
    fn wrong_type(&self) -> Error {
        Error::Protobuf {
            offset: self.offset,
            reason: format!("field {} has the wrong wire type", self.number),
        }
    }

    fn string(&self, bytes: &[u8]) -> Result<String, Error> {
        String::from_utf8(bytes.to_vec()).map_err(|_| Error::Protobuf {
            offset: self.offset,
            reason: format!("string field {} is not UTF-8", self.number),
        })
    }
}

/// Iterates over a message's fields.
struct Fields<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8], base: usize) -> Self {
        Self {
            bytes,
            pos: 0,
            base,
        }
    }

    fn error(&self, reason: impl Into<String>) -> Error {
        Error::Protobuf {
            offset: self.base + self.pos,
            reason: reason.into(),
        }
    }

    fn varint(&mut self) -> Result<u64, Error> {
        let mut value = 0u64;
        for i in 0..10 {
            let byte = *self
                .bytes
                .get(self.pos)
                .ok_or_else(|| self.error("truncated varint"))?;
            self.pos += 1;
            if i == 9 && byte > 1 {
                return Err(self.error("varint longer than 64 bits"));
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error("varint longer than 10 bytes"))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], Error> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| self.error(format!("truncated: {len} bytes announced")))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn next(&mut self) -> Result<Option<Field<'a>>, Error> {
        if self.pos == self.bytes.len() {
            return Ok(None);
        }
        let offset = self.base + self.pos;
        let mut content = offset;
        let key = self.varint()?;
        let number = key >> 3;
        if number == 0 {
            return Err(self.error("field number 0"));
        }
        let value = match (key & 7) as u8 {
            VARINT => Value::Varint(self.varint()?),
            I64 => {
                self.take(8)?;
                Value::Fixed
            }
            LEN => {
                let len = usize::try_from(self.varint()?)
                    .map_err(|_| self.error("length does not fit in memory"))?;
                content = self.base + self.pos;
                Value::Bytes(self.take(len)?)
            }
            I32 => {
                self.take(4)?;
                Value::Fixed
            }
            other => return Err(self.error(format!("unsupported wire type {other} (groups)"))),
        };
        Ok(Some(Field {
            number,
            value,
            offset,
            content,
        }))
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_key(out: &mut Vec<u8>, number: u64, wire_type: u8) {
    put_varint(out, (number << 3) | u64::from(wire_type));
}

/// An int64 field; omitted when zero (proto3). Negative values are ten-byte varints.
fn put_int64(out: &mut Vec<u8>, number: u64, value: i64) {
    if value != 0 {
        put_key(out, number, VARINT);
        put_varint(out, value as u64);
    }
}

/// A bytes or string field; omitted when empty (proto3).
fn put_bytes(out: &mut Vec<u8>, number: u64, value: &[u8]) {
    if !value.is_empty() {
        put_key(out, number, LEN);
        put_varint(out, value.len() as u64);
        out.extend_from_slice(value);
    }
}

/// A message field, written even when empty (message fields have presence).
fn put_message(out: &mut Vec<u8>, number: u64, encoded: &[u8]) {
    put_key(out, number, LEN);
    put_varint(out, encoded.len() as u64);
    out.extend_from_slice(encoded);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TransparencyLogEntry {
        let mut entry = TransparencyLogEntry::new(
            22_784_639,
            LogId::new(vec![0xc0; 32]),
            KindVersion::new("hashedrekord", "0.0.1"),
            Vec::new(),
        );
        entry.integrated_time = Some(1_685_981_480);
        entry.inclusion_promise = Some(InclusionPromise::new(vec![0x30, 0x44, 1]));
        entry.inclusion_proof = Some(InclusionProof::new(
            18_621_208,
            vec![0x23; 32],
            18_621_209,
            vec![vec![1; 32], vec![2; 32]],
            Checkpoint::new("rekor.sigstore.dev - 1\n2\nabc=\n\n— rekor sig\n"),
        ));
        entry
    }

    #[test]
    fn round_trips() {
        let entry = sample();
        let bytes = encode(&entry);
        assert_eq!(decode(&bytes).unwrap(), entry);
        // Field 1, varint 22784639 (as gitsign's sample starts: 08 ff d4 ee 0a).
        assert_eq!(&bytes[..5], &[0x08, 0xff, 0xd4, 0xee, 0x0a]);
        let mut with_body = entry.clone();
        with_body.canonicalized_body = b"{}".to_vec();
        assert_eq!(decode(&encode(&with_body)).unwrap(), with_body);
        let mut v2 = entry;
        v2.integrated_time = None;
        v2.inclusion_promise = None;
        v2.log_index = -1;
        assert_eq!(decode(&encode(&v2)).unwrap(), v2);
    }

    #[test]
    fn skips_unknown_fields_and_refuses_malformed_ones() {
        let mut bytes = encode(&sample());
        // Field 15, varint 1; field 16, fixed64; field 17, fixed32.
        bytes.extend_from_slice(&[0x78, 0x01, 0x81, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]);
        bytes.extend_from_slice(&[0x8d, 0x01, 0, 0, 0, 0]);
        assert_eq!(decode(&bytes).unwrap(), sample());
        const BAD: &[(&str, &[u8])] = &[
            ("duplicate log_index", &[0x08, 0x01, 0x08, 0x02]),
            ("log_index as bytes", &[0x0a, 0x00]),
            ("truncated varint", &[0x08, 0x80]),
            ("truncated length", &[0x12, 0x05, 0x0a]),
            ("group", &[0x0b]),
            ("field zero", &[0x00, 0x00]),
            ("kind not UTF-8", &[0x1a, 0x03, 0x0a, 0x01, 0xff]),
            (
                "varint too long",
                &[
                    0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
                ],
            ),
        ];
        for (name, bytes) in BAD {
            assert!(
                matches!(decode(bytes), Err(Error::Protobuf { .. })),
                "{name}"
            );
        }
    }

    #[test]
    fn never_panics_on_truncations_and_bit_flips() {
        let bytes = encode(&sample());
        for len in 0..bytes.len() {
            let _ = decode(&bytes[..len]);
        }
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut flipped = bytes.clone();
                flipped[i] ^= 1 << bit;
                let _ = decode(&flipped);
            }
        }
    }
}
