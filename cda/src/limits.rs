//! Hard bounds on what an XDM package may make us read, each checked before the bytes behind
//! it are expanded. Operators set them under `[cda]`; the defaults fit real packages (a few
//! documents of at most a few MB each) with a wide margin.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct XdmLimits {
    /// Entries in the zip (README, INDEX, METADATA, the documents, a stylesheet...).
    pub max_entries: usize,
    /// Uncompressed bytes of one entry, declared and actual.
    pub max_entry_size: u64,
    /// Uncompressed bytes of the whole archive, declared and actual.
    pub max_total_size: u64,
    /// Uncompressed / compressed size of one entry. Text compresses about 10:1; a bomb
    /// compresses a thousandfold.
    pub max_ratio: u64,
    /// XML nodes in one METADATA.XML or CDA document.
    pub max_xml_nodes: u32,
}

impl Default for XdmLimits {
    fn default() -> Self {
        XdmLimits {
            max_entries: 100,
            max_entry_size: 20 * 1024 * 1024,
            max_total_size: 50 * 1024 * 1024,
            max_ratio: 100,
            max_xml_nodes: 1_000_000,
        }
    }
}
