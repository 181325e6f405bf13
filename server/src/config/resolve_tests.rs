//! Configuration resolution: defaults, paths, and errors that name the key.

use super::*;

fn load(text: &str) -> Result<Config> {
    from_toml(text, "test.toml", Path::new("/etc/mssd"), false)
}

fn error_of(text: &str) -> String {
    match load(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn embedded_default_is_valid() {
    let c = from_toml(
        super::super::EMBEDDED_TOML,
        "embedded",
        Path::new("/tmp/x"),
        true,
    )
    .unwrap();
    assert_eq!(c.domains, vec!["hopital.test.mssante.fr"]);
    assert_eq!(c.citizen_domain.as_deref(), Some("patient.test.mssante.fr"));
    assert_eq!(c.data_dir, Path::new("/tmp/x/mssd-data"));
    assert_eq!(
        c.tls.certificate,
        Path::new("/tmp/x/mssd-data/pki/server.pem")
    );
    assert_eq!(c.listeners.smtp.unwrap().to_string(), "127.0.0.1:2525");
    assert_eq!(c.listeners.http.unwrap().to_string(), "127.0.0.1:8080");
}

#[test]
fn minimal_file_gets_defaults() {
    let c = load("[server]\ndomains = [\"Hopital-A.MSSante.fr\"]\n").unwrap();
    assert_eq!(c.domains, vec!["hopital-a.mssante.fr"]);
    assert_eq!(c.hostname, "mail.hopital-a.mssante.fr");
    assert_eq!(c.data_dir, Path::new("/var/lib/mssd"));
    assert_eq!(
        c.tls.trust_anchors,
        vec![PathBuf::from("/var/lib/mssd/pki/root.pem")]
    );
    assert_eq!(c.listeners.smtp.unwrap().to_string(), "0.0.0.0:25");
    assert_eq!(c.trust_list.refresh, DEFAULT_REFRESH);
}

#[test]
fn queue_lease_defaults_to_15m_and_refuses_less_than_a_minute() {
    let base = "[server]\ndomains = [\"a.fr\"]\n";
    let c = load(base).unwrap();
    assert_eq!(c.queue.lease, Duration::from_secs(15 * 60));
    let c = load(&format!("{base}[queue]\nlease = \"1h\"\n")).unwrap();
    assert_eq!(c.queue.lease, Duration::from_secs(3600));
    let e = error_of(&format!("{base}[queue]\nlease = \"30s\"\n"));
    assert!(e.contains("queue.lease"), "{e}");
}

#[test]
fn relative_data_dir_resolves_against_the_file() {
    let c = load(
        "[server]\ndomains=[\"a.fr\"]\ndata_dir=\"data\"\n[tls]\ncertificate=\"/abs/c.pem\"\n",
    )
    .unwrap();
    assert_eq!(c.data_dir, Path::new("/etc/mssd/data"));
    assert_eq!(c.tls.certificate, Path::new("/abs/c.pem"));
    assert_eq!(
        c.tls.private_key,
        Path::new("/etc/mssd/data/pki/server.key")
    );
}

#[test]
fn listeners_section_lists_exactly_what_runs() {
    let c = load("[server]\ndomains=[\"a.fr\"]\n[listeners]\nsmtp=\"127.0.0.1:0\"\n").unwrap();
    assert!(c.listeners.smtp.is_some());
    assert!(c.listeners.imap.is_none() && c.listeners.http.is_none());
}

#[test]
fn errors_name_the_key() {
    let cases: &[(&str, &[&str])] = &[
        (
            "[server]\ndomains=[\"a.fr\"]\nbogus=1\n",
            &["unknown field `bogus`", "line 3"],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[tls]\ncertificat=\"x\"\n",
            &["unknown field `certificat`", "line 4"],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[nope]\n",
            &["unknown field `nope`"],
        ),
        ("[server]\n", &["missing field `domains`"]),
        (
            "[server]\ndomains=[]\n",
            &["server.domains", "at least one"],
        ),
        (
            "[server]\ndomains=[\"a.fr\",\"A.fr\"]\n",
            &["server.domains[1]", "twice"],
        ),
        ("[server]\ndomains=[\"a b\"]\n", &["server.domains[0]"]),
        (
            "[server]\ndomains=[\"a.fr\"]\n[listeners]\nsmtp=\"localhost\"\n",
            &["listeners.smtp", "ip:port"],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[trust_list]\nrefresh=\"60\"\n",
            &["trust_list.refresh", "no unit"],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[trust_list]\nrefresh=\"10s\"\n",
            &["trust_list.refresh", "once a minute"],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[tls]\ntrust_anchors=[]\n",
            &["tls.trust_anchors", "system store"],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[tls]\naccepted_policies=[\"x.y\"]\n",
            &["tls.accepted_policies[0]"],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[tls]\nstale_crl=\"sometimes\"\n",
            &["tls.stale_crl", "\"refuse\""],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[tls]\ncrl_urls=[\"ldap://x/crl\"]\n",
            &["tls.crl_urls[0]", "http://"],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[tls]\ncrl_refresh=\"0s\"\n",
            &["tls.crl_refresh", "\"off\""],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[tls]\nocsp=\"ocsp.example\"\n",
            &["tls.ocsp", "http://"],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[tls]\nocsp=\"http://o\"\nocsp_cache=\"10s\"\n",
            &["tls.ocsp_cache", "1m"],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[relay]\nroutes={\"b.fr\"=\"nohost\"}\n",
            &["relay.routes.\"b.fr\"", "host:port"],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[citizen]\ndomain=\"a.fr\"\n",
            &["citizen.domain", "also in server.domains"],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[log]\nformat=\"xml\"\n",
            &["log.format"],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[limits]\nmax_connections=0\n",
            &["limits"],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[auth.oidc]\nissuer=\"https://i\"\njwks=\"j.json\"\n",
            &["auth.oidc.audience", "required"],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[imap]\nlogin_timeout=\"1h\"\n",
            &["imap.login_timeout"],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[citizen]\ndomain=\"p.a2.fr\"\n[citizen.oidc]\nissuer=\"https://i\"\njwks=\"j.json\"\naudience=\"w\"\nauthorization_endpoint=\"http://i/auth\"\ntoken_endpoint=\"https://i/token\"\nclient_id=\"w\"\n",
            &["citizen.oidc.authorization_endpoint", "https://"],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[citizen]\ndomain=\"p.a2.fr\"\n[citizen.oidc]\nissuer=\"https://i\"\njwks=\"j.json\"\naudience=\"w\"\nauthorization_endpoint=\"https://i/auth\"\ntoken_endpoint=\"https://i/token\"\n",
            &["citizen.oidc.client_id", "missing"],
        ),
        (
            "[server]\ndomains=[\"a.fr\"]\n[web]\nmax_body=\"1K\"\n",
            &["web.max_body", "64K"],
        ),
    ];
    for (text, needles) in cases {
        let message = error_of(text);
        for needle in *needles {
            assert!(
                message.contains(needle),
                "{text:?}: {message:?} lacks {needle:?}"
            );
        }
        assert!(message.contains("test.toml"), "{message}");
    }
}
