//! `[http_client]` and JWKS locations, resolved from whole configuration files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mssd_http_client::Anchors;

use super::super::resolve::from_toml;
use super::super::{CitizenOidcConfig, Config, JwksLocation};
use super::DEFAULT_JWKS_REFRESH;

const HEAD: &str = "[server]\ndomains = [\"a.fr\"]\ndata_dir = \"/srv/mssd\"\n";

fn load(sections: &str) -> crate::error::Result<Config> {
    from_toml(
        &format!("{HEAD}{sections}"),
        "test.toml",
        Path::new("/etc/mssd"),
        false,
    )
}

#[test]
fn anchors_table() {
    let files = |names: &[&str]| Anchors::Files(names.iter().map(PathBuf::from).collect());
    let cases = [
        ("", Anchors::System),
        ("[http_client]\n", Anchors::System),
        ("[http_client]\nanchors = \"system\"\n", Anchors::System),
        ("[http_client]\nanchors = \"webpki\"\n", Anchors::WebPki),
        (
            "[http_client]\nanchors = [\"public/ca.pem\", \"/etc/ssl/x.pem\"]\n",
            files(&["/srv/mssd/public/ca.pem", "/etc/ssl/x.pem"]),
        ),
    ];
    for (sections, expected) in cases {
        let config = load(sections).unwrap_or_else(|e| panic!("{sections:?}: {e}"));
        assert_eq!(config.http_client.anchors, expected, "{sections:?}");
    }
}

#[test]
fn jwks_table() {
    let oidc = |jwks: &str, extra: &str| {
        format!(
            "[auth.oidc]\nissuer = \"https://psc\"\naudience = \"mssd\"\njwks = \"{jwks}\"\n{extra}"
        )
    };
    let citizen = |jwks: &str, extra: &str| {
        format!(
            "[citizen]\ndomain = \"p.b.fr\"\n[citizen.oidc]\nissuer = \"https://idp\"\naudience = \"w\"\njwks = \"{jwks}\"\n{extra}"
        )
    };
    let url = |u: &str| JwksLocation::Url(u.into());
    let file = |p: &str| JwksLocation::File(p.into());
    let hour = DEFAULT_JWKS_REFRESH;
    let cases: Vec<(String, JwksLocation, Duration)> = vec![
        (
            oidc("keys/jwks.json", ""),
            file("/srv/mssd/keys/jwks.json"),
            hour,
        ),
        (
            oidc("/etc/mssd/jwks.json", ""),
            file("/etc/mssd/jwks.json"),
            hour,
        ),
        (
            oidc(
                "https://auth.esante.gouv.fr/certs",
                "jwks_refresh = \"10m\"\n",
            ),
            url("https://auth.esante.gouv.fr/certs"),
            Duration::from_secs(600),
        ),
        (
            citizen("HTTPS://Idp.Example:8443/jwks", ""),
            url("https://idp.example:8443/jwks"),
            hour,
        ),
        (
            citizen("idp.json", "jwks_refresh = \"24h\"\n"),
            file("/srv/mssd/idp.json"),
            Duration::from_secs(86_400),
        ),
    ];
    for (sections, location, refresh) in cases {
        let config = load(&sections).unwrap_or_else(|e| panic!("{sections:?}: {e}"));
        let got = match (&config.oidc, &config.citizen_oidc) {
            (Some(o), _) => (o.jwks.clone(), o.jwks_refresh),
            (
                None,
                Some(CitizenOidcConfig::Issuer {
                    jwks, jwks_refresh, ..
                }),
            ) => (jwks.clone(), *jwks_refresh),
            _ => panic!("{sections:?}: no issuer"),
        };
        assert_eq!(got, (location, refresh), "{sections:?}");
    }
}

#[test]
fn errors_name_the_key() {
    let oidc = |jwks: &str, extra: &str| {
        format!(
            "[auth.oidc]\nissuer = \"https://psc\"\naudience = \"mssd\"\njwks = \"{jwks}\"\n{extra}"
        )
    };
    let cases: Vec<(String, &[&str])> = vec![
        (
            "[http_client]\nanchors = \"mozilla\"\n".into(),
            &["http_client.anchors", "\"mozilla\"", "\"webpki\""],
        ),
        (
            "[http_client]\nanchors = []\n".into(),
            &["http_client.anchors", "trusts nothing"],
        ),
        (
            "[http_client]\nroots = \"system\"\n".into(),
            &["unknown field `roots`"],
        ),
        (
            oidc("http://127.0.0.1:8080/jwks", ""),
            &["auth.oidc.jwks", "plain http is refused"],
        ),
        (
            oidc("ftp://idp/jwks", ""),
            &["auth.oidc.jwks", "only https://"],
        ),
        (oidc("", ""), &["auth.oidc.jwks", "empty"]),
        (
            oidc("https://psc/certs", "jwks_refresh = \"10s\"\n"),
            &["auth.oidc.jwks_refresh", "between 1m and 24h"],
        ),
        (
            oidc("https://psc/certs", "jwks_refresh = \"soon\"\n"),
            &["auth.oidc.jwks_refresh"],
        ),
        (
            "[citizen]\ndomain = \"p.b.fr\"\n[citizen.oidc]\nissuer = \"https://idp\"\naudience = \"w\"\njwks = \"http://idp/jwks\"\n".into(),
            &["citizen.oidc.jwks", "plain http"],
        ),
    ];
    for (sections, needles) in cases {
        let message = match load(&sections) {
            Ok(_) => panic!("expected an error for:\n{sections}"),
            Err(e) => e.to_string(),
        };
        for needle in needles {
            assert!(
                message.contains(needle),
                "{sections:?}: {message:?} lacks {needle:?}"
            );
        }
    }
}
