//! XML parsing shared by METADATA.XML and CDA documents: roxmltree refuses any DTD (so no
//! entity can be declared, let alone expanded), and the node count is bounded.

use roxmltree::{Document, Node, ParsingOptions};

use crate::error::{CdaError, Result};

/// Parses `bytes` (UTF-8) as `file`.
pub fn parse<'a>(file: &str, text: &'a str, max_nodes: u32) -> Result<Document<'a>> {
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: max_nodes,
        // No DTD means no entity declaration: nothing for a resolver to resolve.
        entity_resolver: None,
    };
    Document::parse_with_options(text, options).map_err(|e| CdaError::Xml {
        file: file.to_string(),
        reason: match e {
            roxmltree::Error::DtdDetected => "a DTD or entity declaration is not allowed".into(),
            roxmltree::Error::NodesLimitReached => format!("more than {max_nodes} XML nodes"),
            other => other.to_string(),
        },
    })
}

/// The bytes as UTF-8 text, without a byte-order mark.
pub fn text<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| CdaError::Xml {
        file: file.to_string(),
        reason: format!("not UTF-8 ({e})"),
    })
}

/// Element children of `node` named `name` in namespace `ns`.
pub fn children<'a, 'input: 'a>(
    node: Node<'a, 'input>,
    ns: &'a str,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'input>> + 'a {
    node.children().filter(move |c| {
        c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == Some(ns)
    })
}

/// The first element child of `node` named `name` in namespace `ns`.
pub fn child<'a, 'input: 'a>(
    node: Node<'a, 'input>,
    ns: &'a str,
    name: &'a str,
) -> Option<Node<'a, 'input>> {
    children(node, ns, name).next()
}

/// Follows a path of element names from `node`, taking the first match at each step.
pub fn path<'a, 'input: 'a>(
    node: Node<'a, 'input>,
    ns: &'a str,
    names: &[&'a str],
) -> Option<Node<'a, 'input>> {
    names.iter().try_fold(node, |at, name| child(at, ns, name))
}

/// The text content of `node` with runs of white space collapsed to one space.
pub fn collapsed_text(node: Node<'_, '_>) -> String {
    let mut out = String::new();
    for piece in node
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
    {
        for word in piece.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

/// A non-empty trimmed attribute value.
pub fn attr<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    node.attribute(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}
