//! End-to-end: mail client autoconfiguration on the HTTPS listener, read with Python's
//! standard XML parser and checked the way Thunderbird reads `config-v1.1.xml` (every server
//! with a hostname, a numeric port, a socket type and an authentication it knows, and the
//! ports mssd really listens on); Outlook's Autodiscover answer; an Apple profile; addresses
//! of other domains and citizens refused; and `mssd dns records`.

use mssd_e2e::python::run_python;
use mssd_e2e::submission_world::{A, martin, world};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");

const SCRIPT: &str = r#"
import json, ssl, sys, urllib.request, urllib.error
import xml.etree.ElementTree as ET
root, port, address, citizen = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=root)
ctx.check_hostname = False
base = "https://127.0.0.1:%s" % port
def fetch(path, data=None):
    request = urllib.request.Request(base + path, data=data, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, context=ctx, timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), ""
out = {}
# As Thunderbird's readFromXML: the fields it requires and the values it accepts.
SOCKETS = {"plain", "SSL", "STARTTLS"}
AUTHS = {"password-cleartext", "password-encrypted", "OAuth2", "GSSAPI", "NTLM", "client-IP-address", "TLS-client-cert", "none"}
def thunderbird(text):
    provider = ET.fromstring(text).find("emailProvider")
    servers = []
    for tag in ("incomingServer", "outgoingServer"):
        for s in provider.findall(tag):
            port = int(s.findtext("port"))
            assert s.findtext("hostname"), "hostname"
            assert s.findtext("socketType") in SOCKETS, s.findtext("socketType")
            assert s.findtext("authentication") in AUTHS, s.findtext("authentication")
            assert s.findtext("username") == "%EMAILADDRESS%"
            servers.append([s.get("type"), s.findtext("hostname"), port, s.findtext("socketType")])
    return {"id": provider.get("id"), "domains": [d.text for d in provider.findall("domain")], "servers": servers}
status, ctype, text = fetch("/.well-known/autoconfig/mail/config-v1.1.xml")
out["well_known"] = [status, ctype, thunderbird(text)]
status, ctype, text = fetch("/mail/config-v1.1.xml?emailaddress=" + address)
out["by_address"] = [status, thunderbird(text)]
out["other_domain"] = fetch("/mail/config-v1.1.xml?emailaddress=dr@ailleurs.fr")[0]
out["citizen"] = fetch("/mail/config-v1.1.xml?emailaddress=" + citizen)[0]
request = ('<?xml version="1.0"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">'
           '<Request><EMailAddress>%s</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>' % address)
status, ctype, text = fetch("/autodiscover/autodiscover.xml", request.encode())
ns = {"r": "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"}
protocols = ET.fromstring(text).findall(".//r:Protocol", ns)
out["autodiscover"] = [status, [[p.findtext("r:Type", namespaces=ns), p.findtext("r:Server", namespaces=ns), int(p.findtext("r:Port", namespaces=ns)), p.findtext("r:LoginName", namespaces=ns)] for p in protocols]]
out["autodiscover_bad"] = fetch("/autodiscover/autodiscover.xml", b"<nothing/>")[0]
status, ctype, text = fetch("/apple/mssd.mobileconfig?emailaddress=" + address)
import plistlib
profile = plistlib.loads(text.encode())
account = profile["PayloadContent"][0]
out["apple"] = [status, ctype, account["PayloadType"], account["IncomingMailServerPortNumber"], account["EmailAddress"]]
print(json.dumps(out), flush=True)
"#;

#[test]
fn clients_configure_themselves_from_the_https_listener() {
    let world = world(BIN);
    let root = world.op.pki("root.pem");
    let https = world.server.addr("https").port().to_string();
    let citizen = format!("2790351215189@patient.{A}");
    let printed = run_python(
        SCRIPT,
        &[root.to_str().unwrap(), &https, &martin(), &citizen],
    );
    let out: serde_json::Value = serde_json::from_str(printed.trim()).unwrap();
    let host = format!("mail.{A}");
    let port = |name: &str| world.server.addr(name).port();
    let servers = serde_json::json!([
        ["imap", host, port("imaps"), "SSL"],
        ["imap", host, port("imap"), "STARTTLS"],
        ["smtp", host, port("submissions"), "SSL"],
        ["smtp", host, port("submission"), "STARTTLS"]
    ]);
    assert_eq!(out["well_known"][0], 200, "{out}");
    assert!(
        out["well_known"][1]
            .as_str()
            .unwrap()
            .starts_with("application/xml")
    );
    assert_eq!(out["well_known"][2]["id"], A);
    assert_eq!(out["well_known"][2]["servers"], servers, "{out}");
    assert_eq!(out["by_address"][0], 200);
    assert_eq!(out["by_address"][1]["servers"], servers);
    assert_eq!(out["other_domain"], 404);
    assert_eq!(out["citizen"], 404, "citizens use the web mailbox");
    assert_eq!(
        out["autodiscover"],
        serde_json::json!([
            200,
            [
                ["IMAP", host, port("imaps"), martin()],
                ["SMTP", host, port("submission"), martin()]
            ]
        ])
    );
    assert_eq!(out["autodiscover_bad"], 400);
    assert_eq!(
        out["apple"],
        serde_json::json!([
            200,
            "application/x-apple-aspen-config",
            "com.apple.mail.managed",
            port("imaps"),
            martin()
        ])
    );

    // The zone lines, with the configured ports (here 0: chosen by the system).
    let records = world.op.cli_ok(&["dns", "records"], None).stdout;
    assert!(
        records.contains(&format!("{A}.")) && records.contains(&format!("IN MX    10 {host}.")),
        "{records}"
    );
    for service in [
        "_submissions._tcp",
        "_submission._tcp",
        "_imaps._tcp",
        "_imap._tcp",
        "_autodiscover._tcp",
    ] {
        assert!(
            records.contains(&format!("{service}.{A}.")),
            "{service}: {records}"
        );
    }
    assert!(records.contains(&format!("autoconfig.{A}.")), "{records}");
    assert!(
        records.contains(&format!("patient.{A}.")),
        "the citizens' domain gets an MX: {records}"
    );
}
