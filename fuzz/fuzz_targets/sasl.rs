//! SASL messages as clients send them (PLAIN, LOGIN, EXTERNAL, XOAUTH2, OAUTHBEARER), and the
//! exchange state machine stepped through base64 lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mssd_auth::sasl::{
    Mechanism, SaslExchange, parse_external, parse_login_field, parse_oauthbearer, parse_plain,
    parse_xoauth2,
};

const MECHANISMS: [Mechanism; 5] = [
    Mechanism::Plain,
    Mechanism::Login,
    Mechanism::External,
    Mechanism::Xoauth2,
    Mechanism::OauthBearer,
];

fuzz_target!(|data: &[u8]| {
    let _ = parse_plain(data);
    let _ = parse_xoauth2(data);
    let _ = parse_oauthbearer(data);
    let _ = parse_external(data);
    let _ = parse_login_field("username", data);
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let mechanism = MECHANISMS[usize::from(first) % MECHANISMS.len()];
    let mut lines = rest.split(|&b| b == b'\n');
    let initial = if first & 0x80 != 0 {
        lines.next()
    } else {
        None
    };
    let (mut exchange, _) = SaslExchange::start(mechanism, initial);
    for line in lines.take(8) {
        let _ = exchange.step(line);
    }
});
