//! The configuration documents mail clients fetch, built from what the server listens on:
//! Thunderbird's `config-v1.1.xml`, Outlook's Autodiscover (POX) answer and an Apple
//! configuration profile. No I/O; every value is escaped.

use crate::client_setup::ClientSetup;
use crate::mailbox::sanitize::escape;

/// Thunderbird's autoconfig (`clientConfig` 1.1): implicit TLS first, then STARTTLS.
pub fn thunderbird(setup: &ClientSetup, domain: &str) -> String {
    let host = escape(&setup.hostname);
    let server = |kind: &str, tag: &str, port: Option<u16>, socket: &str| {
        port.map(|port| {
            format!(
                "    <{tag} type=\"{kind}\">\n      <hostname>{host}</hostname>\n      \
                 <port>{port}</port>\n      <socketType>{socket}</socketType>\n      \
                 <authentication>password-cleartext</authentication>\n      \
                 <username>%EMAILADDRESS%</username>\n    </{tag}>\n"
            )
        })
    };
    let servers: String = [
        server("imap", "incomingServer", setup.imaps, "SSL"),
        server("imap", "incomingServer", setup.imap, "STARTTLS"),
        server("smtp", "outgoingServer", setup.submissions, "SSL"),
        server("smtp", "outgoingServer", setup.submission, "STARTTLS"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let domain = escape(domain);
    let name = escape(&setup.display_name);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n  \
         <emailProvider id=\"{domain}\">\n    <domain>{domain}</domain>\n    \
         <displayName>{name}</displayName>\n    <displayShortName>{name}</displayShortName>\n\
         {servers}  </emailProvider>\n</clientConfig>\n"
    )
}

/// Outlook's Autodiscover answer (POX, `outlook/responseschema/2006a`) for `address`.
pub fn autodiscover(setup: &ClientSetup, address: &str) -> String {
    let host = escape(&setup.hostname);
    let login = escape(address);
    let mut protocols = String::new();
    if let Some((port, ssl)) = setup
        .imaps
        .map(|p| (p, "on"))
        .or(setup.imap.map(|p| (p, "off")))
    {
        protocols.push_str(&format!(
            "      <Protocol>\n        <Type>IMAP</Type>\n        <Server>{host}</Server>\n        \
             <Port>{port}</Port>\n        <DomainRequired>off</DomainRequired>\n        \
             <LoginName>{login}</LoginName>\n        <SPA>off</SPA>\n        <SSL>{ssl}</SSL>\n        \
             {}<AuthRequired>on</AuthRequired>\n      </Protocol>\n",
            if ssl == "off" { "<Encryption>TLS</Encryption>\n        " } else { "" }
        ));
    }
    if let Some((port, encryption)) = setup
        .submission
        .map(|p| (p, "TLS"))
        .or(setup.submissions.map(|p| (p, "SSL")))
    {
        protocols.push_str(&format!(
            "      <Protocol>\n        <Type>SMTP</Type>\n        <Server>{host}</Server>\n        \
             <Port>{port}</Port>\n        <DomainRequired>off</DomainRequired>\n        \
             <LoginName>{login}</LoginName>\n        <SPA>off</SPA>\n        \
             <Encryption>{encryption}</Encryption>\n        <AuthRequired>on</AuthRequired>\n        \
             <UsePOPAuth>off</UsePOPAuth>\n        <SMTPLast>off</SMTPLast>\n      </Protocol>\n"
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover \
         xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\n  \
         <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">\n    \
         <Account>\n      <AccountType>email</AccountType>\n      <Action>settings</Action>\n\
         {protocols}    </Account>\n  </Response>\n</Autodiscover>\n"
    )
}

/// The `EMailAddress` of an Autodiscover request, if it parses and carries one.
pub fn autodiscover_address(request: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(request).ok()?;
    doc.descendants()
        .find(|n| n.has_tag_name("EMailAddress"))
        .and_then(|n| n.text())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty() && t.len() <= 320)
}

/// An Apple configuration profile (`com.apple.mail.managed`) for `address`. The UUIDs are
/// derived from the address and the host, so the same profile replaces itself.
pub fn apple_profile(setup: &ClientSetup, address: &str) -> String {
    use sha2::{Digest, Sha256};
    let uuid = |salt: &str| {
        let h = Sha256::digest(format!("{salt}\n{}\n{address}", setup.hostname).as_bytes());
        let x = hex::encode(&h[..16]);
        format!(
            "{}-{}-{}-{}-{}",
            &x[..8],
            &x[8..12],
            &x[12..16],
            &x[16..20],
            &x[20..32]
        )
    };
    let string = |key: &str, value: &str| {
        format!(
            "      <key>{key}</key>\n      <string>{}</string>\n",
            escape(value)
        )
    };
    let integer = |key: &str, value: u16| {
        format!("      <key>{key}</key>\n      <integer>{value}</integer>\n")
    };
    let boolean = |key: &str, value: bool| format!("      <key>{key}</key>\n      <{value}/>\n");
    let (in_port, in_ssl) = setup
        .imaps
        .map(|p| (p, true))
        .or(setup.imap.map(|p| (p, false)))
        .unwrap_or((993, true));
    let (out_port, out_ssl) = setup
        .submission
        .map(|p| (p, true))
        .or(setup.submissions.map(|p| (p, true)))
        .unwrap_or((587, true));
    let payload: String = [
        string("EmailAccountDescription", &setup.display_name),
        string("EmailAccountType", "EmailTypeIMAP"),
        string("EmailAddress", address),
        string("IncomingMailServerAuthentication", "EmailAuthPassword"),
        string("IncomingMailServerHostName", &setup.hostname),
        integer("IncomingMailServerPortNumber", in_port),
        boolean("IncomingMailServerUseSSL", in_ssl),
        string("IncomingMailServerUsername", address),
        string("OutgoingMailServerAuthentication", "EmailAuthPassword"),
        string("OutgoingMailServerHostName", &setup.hostname),
        integer("OutgoingMailServerPortNumber", out_port),
        boolean("OutgoingMailServerUseSSL", out_ssl),
        string("OutgoingMailServerUsername", address),
        boolean("OutgoingPasswordSameAsIncomingPassword", true),
        string("PayloadDisplayName", address),
        string(
            "PayloadIdentifier",
            &format!("{}.mail.account", setup.hostname),
        ),
        string("PayloadType", "com.apple.mail.managed"),
        string("PayloadUUID", &uuid("account")),
        integer("PayloadVersion", 1),
    ]
    .concat();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \
         \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n  \
         <key>PayloadContent</key>\n  <array>\n    <dict>\n{payload}    </dict>\n  </array>\n\
         {}{}{}{}{}</dict>\n</plist>\n",
        string("PayloadDisplayName", &setup.display_name).replace("      ", "  "),
        string("PayloadIdentifier", &format!("{}.mail", setup.hostname)).replace("      ", "  "),
        string("PayloadType", "Configuration").replace("      ", "  "),
        string("PayloadUUID", &uuid("profile")).replace("      ", "  "),
        integer("PayloadVersion", 1).replace("      ", "  "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> ClientSetup {
        ClientSetup {
            hostname: "mail.hopital-a.fr".into(),
            domains: vec!["hopital-a.fr".into()],
            citizen_domain: Some("patient.hopital-a.fr".into()),
            display_name: "Hôpital A <MSSanté>".into(),
            imaps: Some(993),
            imap: Some(143),
            submission: Some(587),
            submissions: None,
        }
    }

    #[test]
    fn domains_served() {
        let s = setup();
        for (input, expected) in [
            ("dr@hopital-a.fr", Some("hopital-a.fr")),
            ("dr@HOPITAL-A.FR", Some("hopital-a.fr")),
            ("2790351215189@patient.hopital-a.fr", None),
            ("dr@ailleurs.fr", None),
            ("no-at-sign", None),
        ] {
            assert_eq!(s.domain_of(input), expected, "{input}");
        }
        assert_eq!(s.served("autoconfig.hopital-a.fr"), Some("hopital-a.fr"));
    }

    #[test]
    fn documents_parse_and_say_what_clients_read() {
        let s = setup();
        let xml = thunderbird(&s, "hopital-a.fr");
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let servers: Vec<(String, String, String)> = doc
            .descendants()
            .filter(|n| n.has_tag_name("incomingServer") || n.has_tag_name("outgoingServer"))
            .map(|n| {
                let text = |tag: &str| {
                    n.children()
                        .find(|c| c.has_tag_name(tag))
                        .and_then(|c| c.text())
                        .unwrap_or_default()
                        .to_owned()
                };
                (
                    n.attribute("type").unwrap().to_owned(),
                    text("port"),
                    text("socketType"),
                )
            })
            .collect();
        let expected = [
            ("imap", "993", "SSL"),
            ("imap", "143", "STARTTLS"),
            ("smtp", "587", "STARTTLS"),
        ];
        let expected: Vec<(String, String, String)> = expected
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect();
        assert_eq!(servers, expected);
        assert!(xml.contains("Hôpital A &lt;MSSanté&gt;"));

        let pox = autodiscover(&s, "dr@hopital-a.fr");
        let doc = roxmltree::Document::parse(&pox).unwrap();
        let types: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("Type"))
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(types, ["IMAP", "SMTP"]);

        let request = "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\"><Request><EMailAddress> dr@hopital-a.fr </EMailAddress><AcceptableResponseSchema>x</AcceptableResponseSchema></Request></Autodiscover>";
        assert_eq!(
            autodiscover_address(request).as_deref(),
            Some("dr@hopital-a.fr")
        );
        assert_eq!(autodiscover_address("<not xml"), None);

        let profile = apple_profile(&s, "dr@hopital-a.fr");
        let doc = roxmltree::Document::parse_with_options(
            &profile,
            roxmltree::ParsingOptions {
                allow_dtd: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(
            doc.descendants()
                .any(|n| n.text() == Some("com.apple.mail.managed"))
        );
        assert_eq!(
            apple_profile(&s, "dr@hopital-a.fr"),
            profile,
            "stable UUIDs"
        );
    }
}
