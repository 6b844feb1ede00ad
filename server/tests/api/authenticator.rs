//! A software passkey authenticator for the HTTP tests: a real P-256 key per credential,
//! real CBOR attestation objects ("none" attestation) and real ECDSA assertions over
//! what a browser would send, so the server's WebAuthn checks run unchanged. Each knob
//! below breaks one thing an attacker (or a broken authenticator) could: the user
//! verification flag, the signature counter, the user handle, the origin.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use crypto_glue::ecdsa_p256::{
    new_key, EcdsaP256PrivateKey, EcdsaP256Signature, EcdsaP256SigningKey,
};
use crypto_glue::s256::Sha256;
use crypto_glue::traits::{Digest, Signer, ToSec1Point};
use serde_json::{json, Value};

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;

/// A discoverable credential made by [`Authenticator::create`].
#[derive(Clone)]
pub struct Credential {
    pub id: Vec<u8>,
    key: EcdsaP256PrivateKey,
    pub rp_id: String,
    pub user_handle: Vec<u8>,
    pub counter: u32,
}

/// How the authenticator behaves at its next operation.
#[derive(Clone)]
pub struct Authenticator {
    /// The origin the "browser" reports in clientDataJSON.
    pub origin: String,
    /// Whether it verified the user (PIN, biometrics): the UV flag.
    pub verify_user: bool,
    /// Whether its credentials are synced (backup eligible and backed up).
    pub synced: bool,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// CBOR byte string header + bytes.
fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    match bytes.len() {
        n if n < 24 => out.push(0x40 | n as u8),
        n if n < 256 => out.extend([0x58, n as u8]),
        n => out.extend([0x59, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(bytes);
}

/// CBOR text string header + text (short strings only).
fn cbor_text(out: &mut Vec<u8>, text: &str) {
    assert!(text.len() < 24);
    out.push(0x60 | text.len() as u8);
    out.extend_from_slice(text.as_bytes());
}

impl Credential {
    /// The public key as a COSE_Key (EC2, P-256, ES256).
    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.public_key().to_sec1_point(false);
        let (x, y) = (point.x().expect("x"), point.y().expect("y"));
        let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        cbor_bytes(&mut out, x);
        out.push(0x22);
        cbor_bytes(&mut out, y);
        out
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        let signing = EcdsaP256SigningKey::from(&self.key);
        let signature: EcdsaP256Signature = signing.sign(message);
        signature.to_der().as_bytes().to_vec()
    }
}

impl Authenticator {
    pub fn new(origin: &str) -> Self {
        Authenticator {
            origin: origin.to_string(),
            verify_user: true,
            synced: false,
        }
    }

    fn flags(&self) -> u8 {
        let mut flags = UP;
        if self.verify_user {
            flags |= UV;
        }
        if self.synced {
            flags |= BE | BS;
        }
        flags
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": false,
        }))
        .unwrap()
    }

    /// `navigator.credentials.create` for `options` (the server's JSON): a new credential
    /// and the `PublicKeyCredential` JSON the browser would send back.
    pub fn create(&self, options: &Value) -> (Credential, String) {
        let pk = &options["publicKey"];
        let rp_id = pk["rp"]["id"].as_str().expect("rp.id").to_string();
        let challenge = pk["challenge"].as_str().expect("challenge");
        let user_handle = unb64(pk["user"]["id"].as_str().expect("user.id"));
        let mut id = vec![0u8; 16];
        getrandom::fill(&mut id).unwrap();
        let credential = Credential {
            id,
            key: new_key(),
            rp_id: rp_id.clone(),
            user_handle,
            counter: 0,
        };
        let mut auth_data = sha256(rp_id.as_bytes());
        auth_data.push(self.flags() | AT);
        auth_data.extend(credential.counter.to_be_bytes());
        auth_data.extend([0u8; 16]); // AAGUID: none
        auth_data.extend((credential.id.len() as u16).to_be_bytes());
        auth_data.extend(&credential.id);
        auth_data.extend(credential.cose_key());
        let mut attestation = vec![0xa3];
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        attestation.push(0xa0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);
        let client_data = self.client_data("webauthn.create", challenge);
        let json = json!({
            "id": b64(&credential.id),
            "rawId": b64(&credential.id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(&client_data),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        });
        (credential, json.to_string())
    }

    /// `navigator.credentials.get` for `options` with `credential`: the assertion JSON.
    /// The counter goes up by one first (as a real authenticator's does).
    pub fn get(&self, credential: &mut Credential, options: &Value) -> String {
        credential.counter += 1;
        self.assert(
            credential,
            options,
            credential.counter,
            &credential.user_handle.clone(),
        )
    }

    /// An assertion with the given counter and user handle, whatever they should be.
    pub fn assert(
        &self,
        credential: &Credential,
        options: &Value,
        counter: u32,
        user_handle: &[u8],
    ) -> String {
        let challenge = options["publicKey"]["challenge"]
            .as_str()
            .expect("challenge");
        let mut auth_data = sha256(credential.rp_id.as_bytes());
        auth_data.push(self.flags());
        auth_data.extend(counter.to_be_bytes());
        let client_data = self.client_data("webauthn.get", challenge);
        let mut signed = auth_data.clone();
        signed.extend(sha256(&client_data));
        let json = json!({
            "id": b64(&credential.id),
            "rawId": b64(&credential.id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(&credential.sign(&signed)),
                "userHandle": b64(user_handle),
            },
            "clientExtensionResults": {},
        });
        json.to_string()
    }
}
