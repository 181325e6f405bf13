//! The XDM zip read with hard bounds: the entry count comes from the end-of-central-directory
//! record before the zip library allocates anything for entries; names, declared sizes and
//! ratios are checked from the central directory before anything is expanded; expansion
//! stops at the declared size (a lying header cannot make us read more).

use std::io::{Cursor, Read};

use zip::{CompressionMethod, ZipArchive};

use crate::entry_name;
use crate::error::{CdaError, Result};
use crate::limits::XdmLimits;

/// One file of the archive, expanded.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The files of an archive (directories left out), in archive order.
#[derive(Debug, Clone, Default)]
pub struct Archive {
    pub entries: Vec<Entry>,
}

impl Archive {
    /// The entry named `name`, compared without regard to ASCII case (XDM readers must
    /// accept `metadata.xml` as well as `METADATA.XML`).
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
    }
}

const LOCAL_HEADER_MAGIC: &[u8] = b"PK\x03\x04";
const EOCD_MAGIC: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
const ZIP64_LOCATOR_MAGIC: [u8; 4] = [0x50, 0x4b, 0x06, 0x07];
const ZIP64_EOCD_MAGIC: [u8; 4] = [0x50, 0x4b, 0x06, 0x06];
/// The EOCD record is 22 bytes followed by a comment of at most 65,535 bytes.
const EOCD_SEARCH: usize = 22 + 65_535;

/// Reads `zip` within `limits`.
pub fn read(zip: &[u8], limits: &XdmLimits) -> Result<Archive> {
    let declared_entries = entry_count(zip)?;
    if declared_entries > limits.max_entries as u64 {
        return Err(CdaError::TooManyEntries {
            found: usize::try_from(declared_entries).unwrap_or(usize::MAX),
            limit: limits.max_entries,
        });
    }
    let mut archive =
        ZipArchive::new(Cursor::new(zip)).map_err(|e| CdaError::Zip(e.to_string()))?;
    if archive.len() > limits.max_entries {
        return Err(CdaError::TooManyEntries {
            found: archive.len(),
            limit: limits.max_entries,
        });
    }
    let plan = plan(&mut archive, limits)?;
    let mut out = Archive::default();
    let mut total = 0u64;
    for (index, name, declared) in plan {
        let bytes = expand(&mut archive, index, &name, declared)?;
        total += bytes.len() as u64;
        if total > limits.max_total_size {
            return Err(CdaError::TotalTooLarge {
                limit: limits.max_total_size,
            });
        }
        if bytes.starts_with(LOCAL_HEADER_MAGIC) {
            return Err(CdaError::NestedArchive { name });
        }
        out.entries.push(Entry { name, bytes });
    }
    Ok(out)
}

/// Checks every entry from the central directory: (index, name, declared size) of the files.
fn plan(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    limits: &XdmLimits,
) -> Result<Vec<(usize, String, u64)>> {
    let mut plan = Vec::with_capacity(archive.len());
    let mut declared_total = 0u64;
    for index in 0..archive.len() {
        let file = archive
            .by_index_raw(index)
            .map_err(|e| CdaError::Zip(e.to_string()))?;
        let name = String::from_utf8_lossy(file.name_raw()).into_owned();
        if let Some(reason) = entry_name::refusal(&name) {
            return Err(CdaError::UnsafeName { name, reason });
        }
        if plan
            .iter()
            .any(|(_, seen, _): &(usize, String, u64)| seen.eq_ignore_ascii_case(&name))
        {
            return Err(CdaError::UnsafeName {
                name,
                reason: "the archive holds this name twice",
            });
        }
        if file.is_dir() {
            continue;
        }
        if file.encrypted() {
            return Err(CdaError::UnsupportedMethod {
                name,
                method: "encrypted".into(),
            });
        }
        match file.compression() {
            CompressionMethod::Stored | CompressionMethod::Deflated => {}
            other => {
                return Err(CdaError::UnsupportedMethod {
                    name,
                    method: format!("{other:?}"),
                });
            }
        }
        if name.to_ascii_lowercase().ends_with(".zip") {
            return Err(CdaError::NestedArchive { name });
        }
        let size = file.size();
        if size > limits.max_entry_size {
            return Err(CdaError::EntryTooLarge {
                name,
                size,
                limit: limits.max_entry_size,
            });
        }
        if size
            > file
                .compressed_size()
                .max(1)
                .saturating_mul(limits.max_ratio)
        {
            return Err(CdaError::RatioTooHigh {
                name,
                limit: limits.max_ratio,
            });
        }
        declared_total += size;
        if declared_total > limits.max_total_size {
            return Err(CdaError::TotalTooLarge {
                limit: limits.max_total_size,
            });
        }
        plan.push((index, name, size));
    }
    Ok(plan)
}

/// Expands one entry, reading at most one byte more than declared to detect a lie.
fn expand(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    index: usize,
    name: &str,
    declared: u64,
) -> Result<Vec<u8>> {
    let file = archive
        .by_index(index)
        .map_err(|e| CdaError::Zip(format!("{name}: {e}")))?;
    // Capacity from the declared size, already checked against the limits.
    let mut bytes = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    file.take(declared + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CdaError::Zip(format!("{name}: {e}")))?;
    if bytes.len() as u64 != declared {
        return Err(CdaError::Zip(format!(
            "{name}: expands to {} bytes, its header declares {declared}",
            if bytes.len() as u64 > declared {
                format!("more than {declared}")
            } else {
                bytes.len().to_string()
            }
        )));
    }
    Ok(bytes)
}

/// The total entry count the end-of-central-directory record declares (zip64 aware).
fn entry_count(zip: &[u8]) -> Result<u64> {
    let start = zip.len().saturating_sub(EOCD_SEARCH);
    let eocd = (start..zip.len().saturating_sub(21))
        .rev()
        .find(|&at| zip[at..at + 4] == EOCD_MAGIC)
        .ok_or_else(|| CdaError::Zip("no end-of-central-directory record".into()))?;
    let count = u64::from(u16::from_le_bytes([zip[eocd + 10], zip[eocd + 11]]));
    if count != 0xffff {
        return Ok(count);
    }
    // Zip64: the locator sits just before the EOCD and points at the zip64 EOCD record.
    let locator = eocd
        .checked_sub(20)
        .filter(|&at| zip[at..at + 4] == ZIP64_LOCATOR_MAGIC)
        .ok_or_else(|| CdaError::Zip("entry count 65535 without a zip64 locator".into()))?;
    let offset = u64::from_le_bytes(
        zip[locator + 8..locator + 16]
            .try_into()
            .unwrap_or_default(),
    );
    let at = usize::try_from(offset)
        .ok()
        // An offset near usize::MAX must not wrap around the bound check.
        .filter(|&at| {
            at.checked_add(56).is_some_and(|end| end <= zip.len())
                && zip[at..at + 4] == ZIP64_EOCD_MAGIC
        })
        .ok_or_else(|| {
            CdaError::Zip("the zip64 end-of-central-directory record is missing".into())
        })?;
    Ok(u64::from_le_bytes(
        zip[at + 32..at + 40].try_into().unwrap_or_default(),
    ))
}
