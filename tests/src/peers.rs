//! Test material for trust decisions: a peer operator hierarchy whose keys the test holds
//! (to issue valid, expired and revoked certificates), the liste blanche XML, and signed
//! Pro Santé Connect-style tokens with their JWKS.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use mssd_certs::{IssuedCert, LeafSpec, TestCa};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use time::{Duration, OffsetDateTime};

/// A peer operator's CA (root + ORGANISATIONS intermediate) held by the test.
pub struct PeerCa {
    pub root: TestCa,
    pub intermediate: TestCa,
}

impl PeerCa {
    /// Names differ from `mssd pki init`'s: CRLs are matched to CAs by issuer name, and two
    /// different CAs with one name cannot both be trusted (IGC-Santé names are unique).
    pub fn new() -> PeerCa {
        let root = TestCa::root("TEST AC RACINE PAIR").expect("root");
        let intermediate = root
            .intermediate("TEST AC PAIR ORGANISATIONS")
            .expect("intermediate");
        PeerCa { root, intermediate }
    }

    /// An MTA certificate `CN=<cn>,OU=…,O=…,ST=Paris (75),C=FR`, serverAuth + clientAuth.
    pub fn mta(
        &self,
        cn: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> IssuedCert {
        let mut spec = LeafSpec::new(&[
            ("CN", cn),
            ("OU", "1990000002"),
            ("O", "CLINIQUE PEER"),
            ("ST", "Paris (75)"),
            ("C", "FR"),
        ]);
        spec.dns_names = vec![cn.to_string()];
        spec.server_auth = true;
        spec.client_auth = true;
        spec.not_before = not_before;
        spec.not_after = not_after;
        self.intermediate.issue(&spec).expect("issue")
    }

    pub fn valid_mta(&self, cn: &str) -> IssuedCert {
        let now = OffsetDateTime::now_utc();
        self.mta(cn, now - Duration::days(1), now + Duration::days(365))
    }

    /// Writes `cert` (with the intermediate) and its key; returns (chain path, key path).
    pub fn write(
        &self,
        dir: &Path,
        name: &str,
        cert: &IssuedCert,
    ) -> (std::path::PathBuf, std::path::PathBuf) {
        let chain = dir.join(format!("{name}.pem"));
        let key = dir.join(format!("{name}.key"));
        std::fs::write(
            &chain,
            format!("{}{}", cert.cert_pem, self.intermediate.cert_pem()),
        )
        .unwrap();
        std::fs::write(&key, &cert.key_pem).unwrap();
        (chain, key)
    }

    /// Writes the root and a CRL of the intermediate revoking `revoked`.
    pub fn write_root_and_crl(
        &self,
        dir: &Path,
        revoked: &[&IssuedCert],
    ) -> (std::path::PathBuf, std::path::PathBuf) {
        let root = dir.join("peer-root.pem");
        std::fs::write(&root, self.root.cert_pem()).unwrap();
        let now = OffsetDateTime::now_utc();
        let serials: Vec<&[u8]> = revoked.iter().map(|c| c.serial.as_slice()).collect();
        let crl = self
            .intermediate
            .crl(&serials, now - Duration::hours(1), now + Duration::days(7))
            .expect("crl");
        let crl_path = dir.join("peer-crl.pem");
        std::fs::write(&crl_path, crl.pem).unwrap();
        (root, crl_path)
    }
}

impl Default for PeerCa {
    fn default() -> Self {
        Self::new()
    }
}

/// The ANS liste blanche format, listing (domain, operator certificate DN) pairs.
pub fn whitelist_xml(entries: &[(&str, &str)], generated: &str) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListeBlancheMSSante xmlns=\"https://listeblanche.mssante.fr/schema\">\n<DateDeGeneration>{generated}</DateDeGeneration>\n<ListeDomaines>\n"
    );
    for (domain, dn) in entries {
        xml.push_str(&format!(
            "<Domaine><Nom>{domain}</Nom><Description>test</Description><DNCertificatOperateur>{dn}</DNCertificatOperateur><ResponsableContact>-</ResponsableContact><SupportContact>-</SupportContact><DateMAJ>{generated}</DateMAJ></Domaine>\n"
        ));
    }
    xml.push_str("</ListeDomaines>\n</ListeBlancheMSSante>\n");
    xml
}

/// An ES256 key that signs tokens, with its JWKS.
pub struct TokenIssuer {
    key: EcdsaKeyPair,
    pub issuer: String,
    pub kid: String,
}

impl TokenIssuer {
    pub fn new(issuer: &str) -> TokenIssuer {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        TokenIssuer {
            key,
            issuer: issuer.to_string(),
            kid: "test-key".into(),
        }
    }

    pub fn jwks_json(&self) -> String {
        let point = self.key.public_key().as_ref();
        let (x, y) = (&point[1..33], &point[33..65]);
        serde_json::json!({ "keys": [{ "kty": "EC", "crv": "P-256", "kid": self.kid, "alg": "ES256", "use": "sig", "x": B64URL.encode(x), "y": B64URL.encode(y) }] }).to_string()
    }

    /// A compact JWS with the given claims.
    pub fn sign(&self, claims: &serde_json::Value) -> String {
        let header = serde_json::json!({ "alg": "ES256", "typ": "JWT", "kid": self.kid });
        let input = format!(
            "{}.{}",
            B64URL.encode(header.to_string()),
            B64URL.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", B64URL.encode(signature.as_ref()))
    }

    /// Claims of a Pro Santé Connect-style access token for `id_nat_ps`.
    pub fn claims(&self, id_nat_ps: &str, audience: &str, expires_in: i64) -> serde_json::Value {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        serde_json::json!({ "iss": self.issuer, "aud": audience, "iat": now, "exp": now + expires_in, "SubjectNameID": id_nat_ps, "preferred_username": id_nat_ps, "acr": "eidas1" })
    }
}

/// The SASL XOAUTH2 initial response, base64.
pub fn xoauth2(user: &str, token: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(format!("user={user}\x01auth=Bearer {token}\x01\x01"))
}

/// The SASL PLAIN initial response, base64.
pub fn plain(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"))
}
