//! Issuing timestamps: TSTInfo (RFC 3161 §2.4.2) inside CMS SignedData (RFC 5652 §5) with the
//! ESS signingCertificateV2 attribute (RFC 5816 §2.2.1).

use std::time::SystemTime;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{GeneralizedTime, Int, ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, AnyRef, Decode, Encode, Tag};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;

use crate::asn1::{
    Accuracy, EssCertIdV2, IssuerSerial, PkiStatusInfo, SigningCertificateV2, TimeStampResp,
    TstInfo,
};
use crate::cert::{unix_seconds, x509_time};

use crate::{Error, TimeStampRequest, TsaKeys, oid};

/// A timestamp authority: the keys and the policy it issues under. Pure: the caller supplies
/// the time and the serial number.
#[derive(Debug)]
pub struct Tsa {
    keys: TsaKeys,
    policy: ObjectIdentifier,
}

impl Tsa {
    /// A TSA issuing under Sigstore's policy OID `1.3.6.1.4.1.57264.2`.
    pub fn new(keys: TsaKeys) -> Self {
        Self {
            keys,
            policy: oid::SIGSTORE_POLICY,
        }
    }

    /// Sets the policy OID (dotted) the TSA issues under and accepts in requests.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedDer`] if `policy` is not a dotted OID.
    pub fn with_policy(mut self, policy: &str) -> Result<Self, Error> {
        self.policy = ObjectIdentifier::new(policy).map_err(|e| Error::MalformedDer {
            structure: "TSAPolicyId",
            reason: e.to_string(),
        })?;
        Ok(self)
    }

    /// The key material.
    pub fn keys(&self) -> &TsaKeys {
        &self.keys
    }

    /// The policy OID, dotted.
    pub fn policy(&self) -> String {
        self.policy.to_string()
    }

    /// Issues a timestamp for `request` at `gen_time` (whole seconds; sub-seconds are dropped)
    /// with TSTInfo serial number `serial` (unsigned big-endian, 1 to 20 bytes, not zero; the
    /// caller MUST NOT reuse one, RFC 3161 §2.4.2 — random 16 bytes are fine). Returns the DER
    /// `TimeStampResp` with status granted.
    ///
    /// The token is SignedData v3 with one SignerInfo (sid issuerAndSerialNumber, SHA-256,
    /// signed attributes contentType, signingTime, messageDigest and signingCertificateV2,
    /// ECDSA-with-SHA256). The TSA certificate is included only when the request's certReq is
    /// set (RFC 3161 §2.4.1); the rest of the chain never is, so a client taking the first
    /// certificate of the SET as the signer (rfc3161-client) gets the right one.
    ///
    /// # Errors
    ///
    /// [`Error::UnacceptedPolicy`] if the request names another policy (a client error);
    /// [`Error::SerialInvalid`]; [`Error::CertificateNotValidAt`] if `gen_time` is outside the
    /// TSA certificate's validity; [`Error::Crypto`] if signing fails.
    pub fn timestamp(
        &self,
        request: &TimeStampRequest,
        gen_time: SystemTime,
        serial: &[u8],
    ) -> Result<Vec<u8>, Error> {
        if let Some(requested) = request.policy_oid()
            && requested != self.policy
        {
            return Err(Error::UnacceptedPolicy {
                requested: requested.to_string(),
                accepted: self.policy.to_string(),
            });
        }
        let serial = positive_int(serial)?;
        let secs = unix_seconds(gen_time)?;
        self.keys.leaf().check_valid_at(0, secs)?;
        self.issue(request, secs, serial)
    }

    /// Builds and signs the response; the caller has checked policy and validity.
    pub(crate) fn issue(
        &self,
        request: &TimeStampRequest,
        secs: u64,
        serial: Int,
    ) -> Result<Vec<u8>, Error> {
        let leaf = self.keys.leaf();
        let whole = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        let tst = TstInfo {
            version: 1,
            policy: self.policy,
            message_imprint: request.imprint().clone(),
            serial_number: serial,
            gen_time: GeneralizedTime::from_system_time(whole)
                .map_err(|_| Error::TimeOutOfRange { unix_seconds: secs })?,
            accuracy: Some(Accuracy {
                seconds: Some(1),
                millis: None,
                micros: None,
            }),
            ordering: false,
            nonce: request.nonce_int().cloned(),
            tsa: Some(GeneralName::DirectoryName(leaf.subject().clone())),
            extensions: None,
        };
        let tst_der = tst.to_der().map_err(Error::encode("TSTInfo"))?;
        let der_err = Error::encode("SignedData");

        let ess = SigningCertificateV2 {
            certs: vec![EssCertIdV2 {
                hash_algorithm: None, // DEFAULT id-sha256
                cert_hash: OctetString::new(waxseal_crypto::sha256(&leaf.der).to_vec())
                    .map_err(&der_err)?,
                issuer_serial: Some(IssuerSerial {
                    issuer: vec![GeneralName::DirectoryName(leaf.issuer().clone())],
                    serial_number: Int::new(leaf.serial()).map_err(&der_err)?,
                }),
            }],
            policies: None,
        };
        let attribute = |oid, value: Any| -> Result<Attribute, Error> {
            Ok(Attribute {
                oid,
                values: SetOfVec::try_from(vec![value]).map_err(Error::encode("Attribute"))?,
            })
        };
        let signed_attrs = SetOfVec::try_from(vec![
            attribute(oid::CONTENT_TYPE, to_any(&oid::TST_INFO)?)?,
            attribute(oid::SIGNING_TIME, to_any(&x509_time(whole)?)?)?,
            attribute(
                oid::MESSAGE_DIGEST,
                to_any(
                    &OctetString::new(waxseal_crypto::sha256(&tst_der).to_vec())
                        .map_err(&der_err)?,
                )?,
            )?,
            attribute(oid::SIGNING_CERTIFICATE_V2, to_any(&ess)?)?,
        ])
        .map_err(&der_err)?;
        // RFC 5652 §5.4: the signature covers the DER of the attributes with a SET OF tag.
        let signature = self
            .keys
            .signing_key()
            .sign(&signed_attrs.to_der().map_err(&der_err)?)?;

        let sha256 = AlgorithmIdentifierOwned {
            oid: oid::SHA256,
            parameters: None,
        };
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: leaf.issuer().clone(),
                serial_number: leaf.parsed.tbs_certificate().serial_number().clone(),
            }),
            digest_alg: sha256.clone(),
            signed_attrs: Some(signed_attrs),
            signature_algorithm: AlgorithmIdentifierOwned {
                oid: oid::ECDSA_WITH_SHA256,
                parameters: None,
            },
            signature: OctetString::new(signature).map_err(&der_err)?,
            unsigned_attrs: None,
        };
        let certificates = if request.cert_req() {
            Some(CertificateSet(
                SetOfVec::try_from(vec![CertificateChoices::Certificate(leaf.parsed.clone())])
                    .map_err(&der_err)?,
            ))
        } else {
            None
        };
        let signed_data = SignedData {
            version: CmsVersion::V3,
            digest_algorithms: SetOfVec::try_from(vec![sha256]).map_err(&der_err)?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: oid::TST_INFO,
                econtent: Some(Any::new(Tag::OctetString, tst_der).map_err(&der_err)?),
            },
            certificates,
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info]).map_err(&der_err)?),
        };
        let content_info = ContentInfo {
            content_type: oid::SIGNED_DATA,
            content: to_any(&signed_data)?,
        };
        let token = content_info
            .to_der()
            .map_err(Error::encode("ContentInfo"))?;
        TimeStampResp {
            status: PkiStatusInfo {
                status: 0, // granted
                status_string: None,
                fail_info: None,
            },
            time_stamp_token: Some(AnyRef::from_der(&token).map_err(Error::encode("ContentInfo"))?),
        }
        .to_der()
        .map_err(Error::encode("TimeStampResp"))
    }
}

/// An unsigned big-endian serial as a positive INTEGER.
fn positive_int(serial: &[u8]) -> Result<Int, Error> {
    let invalid = Error::SerialInvalid { len: serial.len() };
    let start = serial.iter().position(|&b| b != 0);
    let (Some(start), 1..=20) = (start, serial.len()) else {
        return Err(invalid);
    };
    let trimmed = serial.get(start..).unwrap_or_default();
    let mut bytes = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
        bytes.push(0);
    }
    bytes.extend_from_slice(trimmed);
    Int::new(&bytes).map_err(|_| invalid)
}

/// Re-reads an encodable value as `Any`.
fn to_any<T: Encode>(value: &T) -> Result<Any, Error> {
    let der = value.to_der().map_err(Error::encode("Attribute"))?;
    Any::from_der(&der).map_err(Error::encode("Attribute"))
}
