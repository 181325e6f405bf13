//! `[store]`, resolved from whole configuration files.

use std::path::{Path, PathBuf};

use mssd_http_client::Anchors;

use super::super::resolve::from_toml;
use super::super::{Config, PostgresSettings, StoreBackend};
use super::DEFAULT_POOL_SIZE;

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
fn backends() {
    let postgres = |url: &str, password_file: Option<&str>, pool_size, anchors| {
        StoreBackend::Postgres(PostgresSettings {
            url: url.into(),
            password_file: password_file.map(PathBuf::from),
            pool_size,
            anchors,
        })
    };
    let cases = [
        ("", StoreBackend::Sqlite),
        ("[store]\nbackend = \"sqlite\"\n", StoreBackend::Sqlite),
        (
            "[store]\nbackend = \"postgres\"\nurl = \"postgresql://mssd@db/mssd\"\n",
            postgres(
                "postgresql://mssd@db/mssd",
                None,
                DEFAULT_POOL_SIZE,
                Anchors::System,
            ),
        ),
        (
            "[store]\nbackend = \"postgres\"\nurl = \"postgresql://mssd@db/mssd?sslmode=require\"\n\
             password_file = \"db.pass\"\npool_size = 4\nanchors = [\"db-ca.pem\"]\n",
            postgres(
                "postgresql://mssd@db/mssd?sslmode=require",
                Some("/srv/mssd/db.pass"),
                4,
                Anchors::Files(vec![PathBuf::from("/srv/mssd/db-ca.pem")]),
            ),
        ),
    ];
    for (sections, expected) in cases {
        let config = load(sections).unwrap_or_else(|e| panic!("{sections:?}: {e}"));
        assert_eq!(config.store, expected, "{sections:?}");
    }
}

#[test]
fn mistakes_say_what_to_fix() {
    let cases = [
        (
            "[store]\nbackend = \"mysql\"\n",
            "use \"sqlite\" or \"postgres\"",
        ),
        ("[store]\nbackend = \"postgres\"\n", "store.url"),
        (
            "[store]\nbackend = \"postgres\"\nurl = \"postgresql://mssd:secret@db/mssd\"\n",
            "password_file",
        ),
        (
            "[store]\nbackend = \"postgres\"\nurl = \"postgresql://mssd@db\"\n",
            "names no database",
        ),
        (
            "[store]\nbackend = \"postgres\"\nurl = \"postgresql://mssd@db/m\"\npool_size = 0\n",
            "1 to 512",
        ),
        (
            "[store]\nbackend = \"postgres\"\nurl = \"postgresql://mssd@db/m\"\nanchors = []\n",
            "trusts nothing",
        ),
        (
            "[store]\nurl = \"postgresql://mssd@db/m\"\n",
            "only for backend",
        ),
        (
            "[store]\nbackend = \"postgres\"\nurl = \"not a url ://\"\n",
            "store.url",
        ),
        ("[store]\nbakend = \"postgres\"\n", "bakend"),
    ];
    for (sections, expected) in cases {
        let err = load(sections).expect_err(sections).to_string();
        assert!(err.contains(expected), "{sections:?}: {err}");
        assert!(
            !err.contains("secret"),
            "{sections:?} shows the password: {err}"
        );
    }
}
