//! The page skeleton: French, landmarks (header, nav, main), a skip link, one stylesheet
//! of our own; no inline script or style (the CSP forbids them).

use crate::mailbox::sanitize::escape;

/// The signed-in reader, for the header: who, and the CSRF token of the sign-out form.
pub struct Reader<'a> {
    pub address: &'a str,
    pub csrf: &'a str,
}

pub fn document(title: &str, reader: Option<&Reader<'_>>, main: &str) -> String {
    let nav = match reader {
        Some(r) => format!(
            r#"<nav aria-label="Navigation principale"><ul>
<li><a href="/boite">Messages</a></li>
<li><a href="/documents">Documents de santé</a></li>
</ul>
<form method="post" action="/deconnexion" class="signout">
<input type="hidden" name="csrf" value="{}">
<span class="who">{}</span>
<button type="submit" id="sign-out">Se déconnecter</button>
</form></nav>"#,
            escape(r.csrf),
            escape(&short_address(r.address)),
        ),
        None => String::new(),
    };
    format!(
        r##"<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{} — Messagerie de santé</title>
<link rel="stylesheet" href="/static/mssd.css">
</head>
<body>
<a class="skip" href="#contenu">Aller au contenu</a>
<header class="site"><p class="brand"><a href="/">Messagerie de santé</a></p>{nav}</header>
<main id="contenu" tabindex="-1">
{main}
</main>
<footer class="site"><p>Messagerie sécurisée de santé (espace de confiance MSSanté).</p></footer>
</body>
</html>
"##,
        escape(title),
    )
}

/// A citizen's address is `<INS>@…`: the header shows only its last digits.
fn short_address(address: &str) -> String {
    match address.split_once('@') {
        Some((local, _)) if local.len() == 15 && local.bytes().all(|b| b.is_ascii_digit()) => {
            format!("Citoyen ···{}", &local[11..])
        }
        _ => address.to_string(),
    }
}

pub const STYLESHEET: &str = r#":root{--ink:#161616;--muted:#3a3a3a;--brand:#000091;--line:#929292;--bg:#f6f6f6;--ok:#18753c;--err:#ce0500;--warn:#b34000}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--ink);background:#fff}
a{color:var(--brand)}
a:focus,button:focus,input:focus,textarea:focus,select:focus,main:focus{outline:3px solid #0a76f6;outline-offset:2px}
.skip{position:absolute;left:-9999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:10}
header.site{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem 1rem;padding:.75rem 1rem;border-bottom:3px solid var(--brand)}
.brand{margin:0;font-weight:700;font-size:1.15rem}.brand a{text-decoration:none;color:var(--ink)}
nav{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem}
nav ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:0;padding:0}
.signout{display:flex;align-items:center;gap:.5rem;flex-wrap:wrap}.who{color:var(--muted)}
main{max-width:60rem;margin:0 auto;padding:1rem}
footer.site{border-top:1px solid var(--line);padding:1rem;color:var(--muted);font-size:.9rem}
h1{font-size:1.6rem;line-height:1.25}h2{font-size:1.3rem}h3{font-size:1.1rem}
button,.button{display:inline-block;font:inherit;padding:.5rem 1rem;border:2px solid var(--brand);background:var(--brand);color:#fff;border-radius:4px;cursor:pointer;text-decoration:none;min-height:44px}
button.secondary,.button.secondary{background:#fff;color:var(--brand)}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],textarea{width:100%;font:inherit;padding:.5rem;border:1px solid var(--ink);border-radius:4px}
textarea{min-height:8rem}
.card{border:1px solid var(--line);border-radius:6px;padding:1rem;margin:1rem 0;background:#fff}
.test-banner{background:#ffe9e6;border:3px dashed var(--err);color:#6e0000;padding:.75rem;margin:0 0 1rem;border-radius:4px}
.notice{border-left:4px solid var(--brand);background:var(--bg);padding:.5rem 1rem}
.error{border-left:4px solid var(--err);background:#ffe9e6;padding:.5rem 1rem}
.success{border-left:4px solid var(--ok);background:#dffee6;padding:.5rem 1rem}
ul.messages,ul.documents{list-style:none;margin:0;padding:0}
ul.messages li,ul.documents li{border-bottom:1px solid var(--line);padding:.6rem 0}
ul.messages a,ul.documents a{display:block;text-decoration:none}
.unread .subject{font-weight:700}
.meta{color:var(--muted);font-size:.92rem;display:block}
.subject{display:block;overflow-wrap:anywhere}
dl.headers{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dl.headers dt{font-weight:600}dl.headers dd{margin:0;overflow-wrap:anywhere}
.body-text{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--bg);padding:1rem;border-radius:4px}
iframe.body-html{width:100%;min-height:20rem;border:1px solid var(--line)}
iframe.pdf{width:100%;height:70vh;border:1px solid var(--line)}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:1rem 0}
.actions form{margin:0}
.pager{display:flex;gap:1rem;margin:1rem 0}
.status{display:inline-block;padding:0 .4rem;border:1px solid var(--muted);border-radius:3px;font-size:.85rem}
.narrative div{margin-bottom:1rem}
.sr{position:absolute;left:-9999px;width:1px;height:1px;overflow:hidden}
@media (max-width:30rem){header.site{padding:.5rem}main{padding:.75rem}h1{font-size:1.35rem}dl.headers{grid-template-columns:1fr}}
"#;
