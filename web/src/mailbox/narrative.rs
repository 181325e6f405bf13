//! An N3 document's sections as HTML: each section's title and its narrative block
//! (`section/text`: paragraphs, lists, tables, styled content), nested sections in turn.
//! CDA narrative elements are mapped one by one to their HTML counterparts; anything else
//! gives its text only. Every attribute is dropped but table spans; text is escaped; the
//! result then goes through the allow-list sanitiser. The tree parser refuses DTDs and
//! bounds its nodes.

use roxmltree::{Document, Node, ParsingOptions};

use super::sanitize::{self, escape};

const HL7: &str = "urn:hl7-org:v3";
/// Nesting past this is flattened to text (a hostile document cannot blow the stack).
const MAX_DEPTH: usize = 32;

/// `None` when the XML cannot be read (the caller falls back to the section summary).
pub fn render(xml: &[u8], max_nodes: u32) -> Option<String> {
    let text = std::str::from_utf8(xml).ok()?;
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: max_nodes,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, options).ok()?;
    let body = doc.descendants().find(|n| is(n, "structuredBody"))?;
    let mut html = String::new();
    for section in children(body, "component").flat_map(|c| children(c, "section")) {
        section_html(section, 2, &mut html);
    }
    Some(sanitize::message_html(&html, false).html)
}

fn is(node: &Node, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace() == Some(HL7)
}

fn children<'a, 'i>(node: Node<'a, 'i>, name: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(move |c| is(c, name))
}

fn section_html(section: Node, level: usize, html: &mut String) {
    let heading = level.min(6);
    html.push_str("<div>");
    if let Some(title) = children(section, "title").next() {
        let title = collapse(&text_of(title));
        if !title.is_empty() {
            html.push_str(&format!("<h{heading}>{}</h{heading}>", escape(&title)));
        }
    }
    if let Some(text) = children(section, "text").next() {
        narrative(text, html, 0);
    }
    if level < MAX_DEPTH {
        for sub in children(section, "component").flat_map(|c| children(c, "section")) {
            section_html(sub, level + 1, html);
        }
    }
    html.push_str("</div>");
}

fn text_of(node: Node) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The HTML element a CDA narrative element maps to, if any.
fn html_name(node: &Node) -> Option<&'static str> {
    if node.tag_name().namespace() != Some(HL7) {
        return None;
    }
    Some(match node.tag_name().name() {
        "paragraph" => "p",
        "list" if node.attribute("listType") == Some("ordered") => "ol",
        "list" => "ul",
        "item" => "li",
        "table" => "table",
        "caption" => "caption",
        "thead" => "thead",
        "tbody" => "tbody",
        "tfoot" => "tfoot",
        "tr" => "tr",
        "th" => "th",
        "td" => "td",
        "br" => "br",
        "sub" => "sub",
        "sup" => "sup",
        "content" | "linkHtml" | "footnote" | "footnoteRef" => "span",
        _ => return None,
    })
}

fn narrative(node: Node, html: &mut String, depth: usize) {
    for child in node.children() {
        if child.is_text() {
            html.push_str(&escape(child.text().unwrap_or("")));
            continue;
        }
        if !child.is_element() {
            continue;
        }
        if depth >= MAX_DEPTH {
            html.push_str(&escape(&text_of(child)));
            continue;
        }
        match html_name(&child) {
            Some("br") => html.push_str("<br>"),
            Some(name) => {
                html.push('<');
                html.push_str(name);
                for span in ["colspan", "rowspan"] {
                    if let Some(n) = child.attribute(span).and_then(|v| v.parse::<u16>().ok()) {
                        html.push_str(&format!(" {span}=\"{n}\""));
                    }
                }
                html.push('>');
                narrative(child, html, depth + 1);
                html.push_str(&format!("</{name}>"));
            }
            // renderMultiMedia and unknown elements: their text, never a reference.
            None => narrative(child, html, depth + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> String {
        format!(
            r#"<ClinicalDocument xmlns="urn:hl7-org:v3"><component><structuredBody><component><section><title>Résultats</title><text>{text}</text><component><section><title>Sous-partie</title><text><paragraph>b</paragraph></text></section></component></section></component></structuredBody></component></ClinicalDocument>"#
        )
    }

    #[test]
    fn narrative_elements_map_to_html_and_nothing_else_passes() {
        let cases = [
            ("<paragraph>a &amp; b</paragraph>", "<p>a &amp; b</p>"),
            (
                "<list listType=\"ordered\"><item>1</item></list>",
                "<ol><li>1</li></ol>",
            ),
            (
                "<table><tbody><tr><th>TSH</th><td colspan=\"2\" onclick=\"x\">1,2</td></tr></tbody></table>",
                "<table><tbody><tr><th>TSH</th><td colspan=\"2\">1,2</td></tr></tbody></table>",
            ),
            (
                "<content styleCode=\"Bold\">gras</content><br/>",
                "<span>gras</span><br>",
            ),
            (
                "<linkHtml href=\"javascript:alert(1)\">lien</linkHtml>",
                "<span>lien</span>",
            ),
            ("<renderMultiMedia referencedObject=\"x\"/>texte", "texte"),
            (
                "&lt;script&gt;alert(1)&lt;/script&gt;",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
        ];
        for (input, want) in cases {
            let html = render(doc(input).as_bytes(), 10_000).unwrap();
            assert!(html.contains(want), "{input}: {html}");
            assert!(
                html.contains("<h2>Résultats</h2>") && html.contains("<h3>Sous-partie</h3>"),
                "{html}"
            );
        }
    }

    #[test]
    fn dtds_and_huge_trees_are_refused() {
        let dtd = format!("<!DOCTYPE x [<!ENTITY e \"boom\">]>{}", doc("&e;"));
        assert!(render(dtd.as_bytes(), 10_000).is_none());
        assert!(render(doc("<paragraph>x</paragraph>").as_bytes(), 5).is_none());
    }
}
