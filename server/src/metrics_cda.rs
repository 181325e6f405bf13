//! The health document families of `/metrics`.

use mssd_smtp::cda_counters::CdaCounters;

/// Counters of health documents read at scrape time.
#[derive(Debug, Default, Clone)]
pub struct CdaFigures {
    pub xdm_messages: u64,
    pub documents: u64,
    pub documents_qualified_ins: u64,
    pub malformed: u64,
    pub refused: u64,
    pub header_mismatches: u64,
    pub routed: u64,
    pub by_code: Vec<(String, u64)>,
}

impl CdaFigures {
    pub fn read(c: &CdaCounters) -> Self {
        let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        CdaFigures {
            xdm_messages: load(&c.xdm_messages),
            documents: load(&c.documents),
            documents_qualified_ins: load(&c.documents_qualified_ins),
            malformed: load(&c.malformed),
            refused: load(&c.refused),
            header_mismatches: load(&c.header_mismatches),
            routed: load(&c.routed),
            by_code: c.by_code(),
        }
    }

    /// The counter families: name, help, samples (labels, value).
    pub fn families(&self) -> Vec<Family> {
        let one = |v: u64| vec![(String::new(), v as f64)];
        let mut families: Vec<Family> = [
            ("mssd_cda_xdm_messages_total", "messages carrying an IHE_XDM.zip that was read", self.xdm_messages),
            ("mssd_cda_documents_total", "CDA documents read in XDM messages", self.documents),
            ("mssd_cda_documents_qualified_ins_total", "CDA documents with a complete INS under an accepted OID", self.documents_qualified_ins),
            ("mssd_cda_malformed_total", "messages whose XDM archive could not be read", self.malformed),
            ("mssd_cda_refused_total", "messages or recipients refused for their documents (malformed, header mismatch, MASQUE_PS)", self.refused),
            ("mssd_cda_header_mismatches_total", "messages whose X-MSS-CODECDA or X-MSS-INS disagreed with the documents", self.header_mismatches),
            ("mssd_cda_routed_total", "routing decisions applied ([[cda.routes]])", self.routed),
        ]
        .into_iter()
        .map(|(name, help, value)| (name, help, one(value)))
        .collect();
        let by_code = self
            .by_code
            .iter()
            .map(|(code, n)| (format!("code=\"{}\"", escape_label(code)), *n as f64))
            .collect();
        families.push((
            "mssd_cda_documents_by_code_total",
            "CDA documents by document code (LOINC)",
            by_code,
        ));
        families
    }
}

/// One metric family: name, help text, samples (labels, value).
pub type Family = (&'static str, &'static str, Vec<(String, f64)>);

/// Prometheus label value escaping: backslash, double quote and line feed.
pub(crate) fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
