//! End-to-end: the liste blanche through the real binary — `mssd trust-list load|show|check`,
//! refusals that keep the list in force, HTTPS checked against the `[http_client]` anchors only
//! (never `tls.trust_anchors`), and the server's refresh reported by `/metrics` and `mssd
//! doctor`.

use std::time::Duration;

use mssd_e2e::https::HttpsServer;
use mssd_e2e::peers::whitelist_xml;
use mssd_e2e::{Operator, http_get};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const A: &str = "hopital-a.test.mssante.fr";
const SESAN_DN_1: &str = "CN=smtp-1.sesan.santnet.com,OU=1750048886,O=GIP SESAN,ST=Paris (75),C=FR";
const SESAN_DN_2: &str = "CN=smtp-2.sesan.santnet.com,OU=1750048886,O=GIP SESAN,ST=Paris (75),C=FR";

fn list(generated: &str, extra: usize) -> String {
    let mut entries = vec![
        ("15-20.mssante.fr".to_string(), SESAN_DN_1.to_string()),
        ("15-20.mssante.fr".to_string(), SESAN_DN_2.to_string()),
    ];
    for i in 0..extra {
        entries.push((
            format!("op{i}.mssante.fr"),
            format!("CN=mx.op{i}.fr,OU=1{i:09},O=OP {i},ST=Paris (75),C=FR"),
        ));
    }
    let refs: Vec<(&str, &str)> = entries
        .iter()
        .map(|(d, n)| (d.as_str(), n.as_str()))
        .collect();
    whitelist_xml(&refs, generated)
}

#[test]
fn cli_loads_shows_checks_and_refuses_without_losing_the_list() {
    let a = Operator::new(BIN, A);
    let dir = a.dir.path();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let v1 = write("v1.xml", &list("2026-11-01T00:00:00Z", 9));
    let out = a.cli(&["trust-list", "load", &v1], None);
    assert!(out.status.success(), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("accepted: list of 2026-11-01"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("10 domains, 11 entries"),
        "{}",
        out.stdout
    );

    let out = a.cli(&["trust-list", "show", "15-20.MSSANTE.fr"], None);
    assert!(
        out.stdout.contains(SESAN_DN_1) && out.stdout.contains(SESAN_DN_2),
        "{}",
        out.stdout
    );
    // Same DN, other spacing, order and case of types: allowed.
    let respelled = "c=FR, st=Paris (75), o=GIP SESAN, ou=1750048886, cn=smtp-2.sesan.santnet.com";
    assert_eq!(
        a.cli(
            &["trust-list", "check", "15-20.mssante.fr", "--dn", respelled],
            None
        )
        .status
        .code(),
        Some(0)
    );
    let other = "CN=smtp-3.sesan.santnet.com,OU=1750048886,O=GIP SESAN,ST=Paris (75),C=FR";
    assert_eq!(
        a.cli(
            &["trust-list", "check", "15-20.mssante.fr", "--dn", other],
            None
        )
        .status
        .code(),
        Some(1)
    );
    assert_eq!(
        a.cli(
            &["trust-list", "check", "inconnu.fr", "--dn", SESAN_DN_1],
            None
        )
        .status
        .code(),
        Some(1)
    );

    // Each refusal keeps v1 in force.
    let truncated = list("2026-11-02T00:00:00Z", 9);
    let cases = [
        (
            "truncated.xml",
            truncated[..truncated.len() / 2].to_string(),
            "refused",
        ),
        ("older.xml", list("2026-10-01T00:00:00Z", 9), "--force"),
        ("shrunk.xml", list("2026-11-03T00:00:00Z", 5), "--force"),
        (
            "empty.xml",
            whitelist_xml(&[], "2026-11-04T00:00:00Z"),
            "refused",
        ),
        ("notxml.xml", "this is not XML".into(), "refused"),
    ];
    for (name, text, needle) in cases {
        let out = a.cli(&["trust-list", "load", &write(name, &text)], None);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", out.stdout);
        assert!(
            out.stderr.contains("the list in force is unchanged") && out.stderr.contains(needle),
            "{name}: {}",
            out.stderr
        );
        let show = a.cli(&["trust-list", "show"], None);
        assert!(
            show.stdout.contains("liste blanche of 2026-11-01")
                && show.stdout.contains("10 domains"),
            "{name}: {}",
            show.stdout
        );
    }
    // --force accepts the shrinking list (never a broken one).
    let out = a.cli(
        &[
            "trust-list",
            "load",
            "--force",
            &dir.join("shrunk.xml").display().to_string(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", out.stderr);
    assert!(
        out.stdout.contains("accepted (forced)") && out.stdout.contains("-4 domains"),
        "{}",
        out.stdout
    );
}

/// The test servers' certificates come from the operators' test hierarchies: A's root is
/// A's IGC-Santé anchor, yet a download is trusted only once `[http_client] anchors` names it.
#[test]
fn https_sources_are_checked_against_the_http_client_anchors_only() {
    let a = Operator::new(BIN, A);
    let stranger = Operator::new(BIN, "ailleurs.test.mssante.fr");
    // An IGC-like certificate of our hierarchy (A's server certificate names 127.0.0.1).
    let ours = HttpsServer::start(
        &a.pki("server.pem"),
        &a.pki("server.key"),
        list("2026-11-01T00:00:00Z", 3).into_bytes(),
    );
    let theirs = HttpsServer::start(
        &stranger.pki("server.pem"),
        &stranger.pki("server.key"),
        list("2026-11-05T00:00:00Z", 3).into_bytes(),
    );

    // The default anchors (the system bundle) do not know the test root.
    let out = a.cli(
        &["trust-list", "load", &ours.url("/listeblanchemssante.xml")],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", out.stdout);
    assert!(
        out.stderr.contains("UnknownIssuer") || out.stderr.contains("ca-certificates.crt"),
        "{}",
        out.stderr
    );
    a.configure("", "[http_client]\nanchors = [\"pki/root.pem\"]\n");
    let out = a.cli(
        &["trust-list", "load", &ours.url("/listeblanchemssante.xml")],
        None,
    );
    assert!(out.status.success(), "{}{}", out.stdout, out.stderr);
    let out = a.cli(
        &[
            "trust-list",
            "load",
            &theirs.url("/listeblanchemssante.xml"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", out.stdout);
    assert!(
        out.stderr.contains("the list in force is unchanged"),
        "{}",
        out.stderr
    );
    let show = a.cli(&["trust-list", "show"], None);
    assert!(
        show.stdout.contains("liste blanche of 2026-11-01"),
        "{}",
        show.stdout
    );
}

#[test]
fn the_server_refreshes_reports_and_keeps_the_last_good_list() {
    let a = Operator::new(BIN, A);
    let source = HttpsServer::start(
        &a.pki("server.pem"),
        &a.pki("server.key"),
        list("2026-11-01T00:00:00Z", 4).into_bytes(),
    );
    a.configure(
        "",
        &format!(
            "[trust_list]\nsource = \"{}\"\n\n[http_client]\nanchors = [\"pki/root.pem\"]\n",
            source.url("/liste.xml")
        ),
    );
    let server = a.start();
    let (_, metrics) = http_get(server.addr("http"), "/metrics");
    assert!(metrics.contains("mssd_trust_list_domains 5\n"), "{metrics}");
    assert!(
        metrics.contains("mssd_trust_list_refresh_total{result=\"accepted\"} 1\n"),
        "{metrics}"
    );
    let (status, _) = server.terminate(Duration::from_secs(20));
    assert!(status.success());

    // Restart with the source broken (truncated): the stored list stays in force, and both
    // /metrics and doctor say the refresh was refused.
    source.set_body(b"<ListeBlancheMSSante xmlns=\"https://listeblanche.mssante.fr/schema\"><DateDeGeneration>2026-11-09T00:00:00Z</DateDeGeneration><ListeDomaines><Domaine>".to_vec());
    let server = a.start();
    let mut metrics = String::new();
    for _ in 0..50 {
        metrics = http_get(server.addr("http"), "/metrics").1;
        if metrics.contains("mssd_trust_list_refresh_total{result=\"refused\"} 1\n") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        metrics.contains("mssd_trust_list_refresh_total{result=\"refused\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("mssd_trust_list_domains 5\n"),
        "the last good list stays: {metrics}"
    );
    let (status, _) = server.terminate(Duration::from_secs(20));
    assert!(status.success());
    let doctor = a.cli(&["doctor"], None);
    assert!(
        doctor.stdout.contains("list of 2026-11-01") && doctor.stdout.contains("5 domains"),
        "{}",
        doctor.stdout
    );
    assert!(
        doctor.stdout.contains("REFUSED (truncated)"),
        "{}",
        doctor.stdout
    );
}
