//! The allow-list sanitiser for HTML that comes from outside: a message's HTML body, a
//! CDA document's narrative. ammonia (html5ever) parses it as a browser would and keeps
//! only listed elements and attributes: no script, no style, no event handler, no
//! `javascript:` URL, no form; links open elsewhere without referrer; remote images are
//! dropped unless the reader asked for them.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The sanitised HTML and whether remote images were taken out.
pub struct Sanitised {
    pub html: String,
    pub remote_images_blocked: bool,
}

pub fn message_html(html: &str, allow_remote_images: bool) -> Sanitised {
    let blocked = Arc::new(AtomicBool::new(false));
    let seen = blocked.clone();
    let mut builder = ammonia::Builder::default();
    builder
        .url_schemes(HashSet::from(["http", "https", "mailto", "data"]))
        .link_rel(Some("noopener noreferrer nofollow"))
        // A relative URL in a mail would point at this server: none are kept.
        .url_relative(ammonia::UrlRelative::Deny)
        .set_tag_attribute_value("a", "target", "_blank")
        .attribute_filter(move |element, attribute, value| {
            if element == "img" && attribute == "src" {
                let lower = value.trim_start().to_ascii_lowercase();
                if lower.starts_with("data:") {
                    // Only images, never data: HTML or script.
                    return lower.starts_with("data:image/").then(|| value.into());
                }
                if !allow_remote_images {
                    seen.store(true, Ordering::Relaxed);
                    return None;
                }
            }
            if attribute == "href" && value.trim_start().to_ascii_lowercase().starts_with("data:") {
                return None;
            }
            Some(value.into())
        });
    let html = builder.clean(html).to_string();
    Sanitised {
        html,
        remote_images_blocked: blocked.load(Ordering::Relaxed),
    }
}

/// Escapes text for an HTML element or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_html_is_made_inert() {
        let cases = [
            ("<script>alert(1)</script><p>ok</p>", "<p>ok</p>"),
            ("<a href=\"javascript:alert(1)\">x</a>", "<a>x</a>"),
            ("<img src=x onerror=alert(1)>", "<img>"),
            (
                "<p style=\"background:url(http://e.example/t)\">s</p>",
                "<p>s</p>",
            ),
            ("<iframe src=\"https://e.example\"></iframe>t", "t"),
            (
                "<form action=\"https://e.example\"><input name=p></form>",
                "",
            ),
            (
                "<a href=\"data:text/html,<script>x</script>\">d</a>",
                "<a>d</a>",
            ),
        ];
        for (input, want) in cases {
            // Attribute order is the sanitiser's: the two it always adds are taken out.
            let html = message_html(input, false)
                .html
                .replace(" target=\"_blank\"", "")
                .replace(" rel=\"noopener noreferrer nofollow\"", "");
            assert_eq!(html, want, "{input}");
        }
    }

    #[test]
    fn remote_images_only_when_asked() {
        let html = "<img src=\"https://tracker.example/p.gif\" alt=\"t\">";
        let blocked = message_html(html, false);
        assert!(blocked.remote_images_blocked);
        assert!(!blocked.html.contains("tracker"), "{}", blocked.html);
        let shown = message_html(html, true);
        assert!(!shown.remote_images_blocked);
        assert!(shown.html.contains("https://tracker.example/p.gif"));
        let inline = message_html("<img src=\"data:image/png;base64,AAAA\">", false);
        assert!(inline.html.contains("data:image/png"));
        assert!(
            !message_html("<img src=\"data:text/html,x\">", false)
                .html
                .contains("data:")
        );
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
