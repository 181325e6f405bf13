//! `mssd dns records`: the zone lines an operator publishes so that MSSanté peers reach the
//! server (MX) and mail clients find it (SRV of RFC 6186 and RFC 8314, the autoconfig name
//! and the Autodiscover SRV, served by the HTTPS listener).

use std::fmt::Write;
use std::net::SocketAddr;

use mssd_web::autoconfig::ClientSetup;

/// The records for every domain (and the citizens' domain, which receives mail too).
pub fn records(setup: &ClientSetup, https: Option<SocketAddr>) -> String {
    let host = format!("{}.", setup.hostname.trim_end_matches('.'));
    let mut out = String::new();
    let line = |out: &mut String, name: &str, kind: &str, value: &str| {
        let _ = writeln!(out, "{name:<40} IN {kind:<5} {value}");
    };
    for domain in &setup.domains {
        let _ = writeln!(out, "; {domain}");
        line(&mut out, &format!("{domain}."), "MX", &format!("10 {host}"));
        // RFC 6186: a service not offered is published with the target "."; RFC 8314
        // prefers implicit TLS (priority 0) over STARTTLS (priority 10).
        for (service, port, priority) in [
            ("_submissions", setup.submissions, 0),
            ("_submission", setup.submission, 10),
            ("_imaps", setup.imaps, 0),
            ("_imap", setup.imap, 10),
        ] {
            let value = match port {
                Some(port) => format!("{priority} 1 {port} {host}"),
                None => "0 0 0 .".to_owned(),
            };
            line(
                &mut out,
                &format!("{service}._tcp.{domain}."),
                "SRV",
                &value,
            );
        }
        if let Some(https) = https {
            line(&mut out, &format!("autoconfig.{domain}."), "CNAME", &host);
            line(
                &mut out,
                &format!("_autodiscover._tcp.{domain}."),
                "SRV",
                &format!("0 1 {} {host}", https.port()),
            );
        }
    }
    if let Some(citizen) = &setup.citizen_domain {
        let _ = writeln!(
            out,
            "; {citizen} (citizens: mail only, they read it on the web)"
        );
        line(
            &mut out,
            &format!("{citizen}."),
            "MX",
            &format!("10 {host}"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_lines() {
        let setup = ClientSetup {
            hostname: "mail.hopital-a.fr".into(),
            domains: vec!["hopital-a.fr".into()],
            citizen_domain: Some("patient.hopital-a.fr".into()),
            display_name: "x".into(),
            imaps: Some(993),
            imap: None,
            submission: Some(587),
            submissions: Some(465),
        };
        let text = records(&setup, Some("0.0.0.0:443".parse().unwrap()));
        let lines: Vec<Vec<&str>> = text
            .lines()
            .filter(|l| !l.starts_with(';'))
            .map(|l| l.split_whitespace().collect())
            .collect();
        let expected: [&[&str]; 8] = [
            &["hopital-a.fr.", "IN", "MX", "10", "mail.hopital-a.fr."],
            &[
                "_submissions._tcp.hopital-a.fr.",
                "IN",
                "SRV",
                "0",
                "1",
                "465",
                "mail.hopital-a.fr.",
            ],
            &[
                "_submission._tcp.hopital-a.fr.",
                "IN",
                "SRV",
                "10",
                "1",
                "587",
                "mail.hopital-a.fr.",
            ],
            &[
                "_imaps._tcp.hopital-a.fr.",
                "IN",
                "SRV",
                "0",
                "1",
                "993",
                "mail.hopital-a.fr.",
            ],
            &["_imap._tcp.hopital-a.fr.", "IN", "SRV", "0", "0", "0", "."],
            &[
                "autoconfig.hopital-a.fr.",
                "IN",
                "CNAME",
                "mail.hopital-a.fr.",
            ],
            &[
                "_autodiscover._tcp.hopital-a.fr.",
                "IN",
                "SRV",
                "0",
                "1",
                "443",
                "mail.hopital-a.fr.",
            ],
            &[
                "patient.hopital-a.fr.",
                "IN",
                "MX",
                "10",
                "mail.hopital-a.fr.",
            ],
        ];
        assert_eq!(
            lines,
            expected.iter().map(|l| l.to_vec()).collect::<Vec<_>>()
        );
    }
}
