//! The formats trailsift reads and writes (formats.md §2): their names, and how an input's
//! format is told from its first bytes and from a file name.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

/// The formats trailsift reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// A JSON array of events (the stream file), or one event object.
    Json,
    /// One event per line.
    Ndjson,
    /// RFC 4180 CSV with a header row of dotted field paths.
    Csv,
    /// Splunk HTTP Event Collector envelopes, concatenated.
    SplunkHec,
    /// Sumo Logic lines: `{"event": "Harness-Audit-Event-<id>", "fields": {...}}`.
    Sumo,
    /// OCSF API Activity (class 6003), one object a line; written only.
    Ocsf,
}

impl Format {
    /// Every format, in the order `--list` shows them.
    pub const ALL: [Format; 6] = [
        Format::Json,
        Format::Ndjson,
        Format::Csv,
        Format::SplunkHec,
        Format::Sumo,
        Format::Ocsf,
    ];

    /// The format's name: `json ndjson csv splunk_hec sumo ocsf`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
            Format::SplunkHec => "splunk_hec",
            Format::Sumo => "sumo",
            Format::Ocsf => "ocsf",
        }
    }

    /// Whether trailsift can read the format (all but OCSF).
    pub fn readable(self) -> bool {
        !matches!(self, Format::Ocsf)
    }

    /// Whether trailsift can write the format (all of them).
    pub fn writable(self) -> bool {
        true
    }

    /// A one-line description for listings.
    pub fn description(self) -> &'static str {
        match self {
            Format::Json => "a JSON array of events (the stream file), or one event object",
            Format::Ndjson => "one event per line",
            Format::Csv => "RFC 4180 CSV, one row per event, dotted-path columns",
            Format::SplunkHec => "Splunk HTTP Event Collector envelopes",
            Format::Sumo => "Sumo Logic lines with flattened fields",
            Format::Ocsf => "OCSF API Activity (class 6003)",
        }
    }

    /// The file extension a stream file of this format uses, if it has one.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ndjson | Format::SplunkHec | Format::Sumo | Format::Ocsf => "ndjson",
            Format::Csv => "csv",
        }
    }

    /// The format a file name says (`.json`, `.ndjson`, `.jsonl`, `.csv`, each optionally
    /// followed by `.gz`), and whether the name says gzip.
    pub fn from_file_name(name: &str) -> (Option<Format>, bool) {
        let lower = name.to_ascii_lowercase();
        let (stem, gz) = match lower.strip_suffix(".gz") {
            Some(stem) => (stem, true),
            None => (lower.as_str(), false),
        };
        let format = if stem.ends_with(".ndjson") || stem.ends_with(".jsonl") {
            Some(Format::Ndjson)
        } else if stem.ends_with(".json") {
            Some(Format::Json)
        } else if stem.ends_with(".csv") {
            Some(Format::Csv)
        } else {
            None
        };
        (format, gz)
    }

    /// Guesses the format of (decompressed) content from its first bytes.
    ///
    /// `[` means JSON; `{` means NDJSON when the first line is one whole JSON object (and
    /// Splunk HEC or Sumo when that object is such an envelope), JSON otherwise; anything
    /// else is CSV. Returns `None` when the bytes are not enough to tell (only whitespace,
    /// or a first line that has not ended yet and `complete` is false).
    pub fn detect(content: &[u8], complete: bool) -> Option<Format> {
        const BOM: &[u8] = b"\xEF\xBB\xBF";
        if content.len() < BOM.len() && BOM.starts_with(content) {
            return None;
        }
        let content = content.strip_prefix(BOM).unwrap_or(content);
        let start = content.iter().position(|b| !b.is_ascii_whitespace())?;
        let rest = &content[start..];
        match rest.first()? {
            b'[' => Some(Format::Json),
            b'{' => {
                let line = match memchr::memchr(b'\n', rest) {
                    Some(end) => &rest[..end],
                    None if complete => rest,
                    None => return None,
                };
                match crate::plain::utf8(line).and_then(serde_json::from_str::<Value>) {
                    Ok(Value::Object(map)) => {
                        let event = map.get("event");
                        if event.is_some_and(Value::is_object) {
                            Some(Format::SplunkHec)
                        } else if event
                            .and_then(Value::as_str)
                            .is_some_and(|e| e.starts_with(SUMO_EVENT_PREFIX))
                            && map.get("fields").is_some_and(Value::is_object)
                        {
                            Some(Format::Sumo)
                        } else {
                            Some(Format::Ndjson)
                        }
                    }
                    _ => Some(Format::Json),
                }
            }
            _ => Some(Format::Csv),
        }
    }
}

/// The prefix of a Sumo line's `event` value.
pub const SUMO_EVENT_PREFIX: &str = "Harness-Audit-Event-";

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown format name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown format {:?} (expected one of json, ndjson, csv, splunk_hec, sumo, ocsf)",
            self.0
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.name() == lower)
            .or(match lower.as_str() {
                "jsonl" => Some(Format::Ndjson),
                "hec" | "splunk" => Some(Format::SplunkHec),
                _ => None,
            })
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}

/// Whether bytes start with the gzip magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>(), Ok(f));
            assert_eq!(f.to_string(), f.name());
        }
        assert!("xml".parse::<Format>().is_err());
        assert!(!Format::Ocsf.readable());
        assert!(Format::Csv.readable());
    }

    #[test]
    fn file_names() {
        assert_eq!(
            Format::from_file_name("a.json"),
            (Some(Format::Json), false)
        );
        assert_eq!(
            Format::from_file_name("a.JSONL.gz"),
            (Some(Format::Ndjson), true)
        );
        assert_eq!(
            Format::from_file_name("x/a.ndjson"),
            (Some(Format::Ndjson), false)
        );
        assert_eq!(
            Format::from_file_name("a.csv.gz"),
            (Some(Format::Csv), true)
        );
        assert_eq!(Format::from_file_name("a.txt"), (None, false));
        assert_eq!(Format::from_file_name("a.gz"), (None, true));
    }

    #[test]
    fn content_detection() {
        assert_eq!(Format::detect(b"  \n[", false), Some(Format::Json));
        assert_eq!(Format::detect(b"{\"a\":1}\n{", false), Some(Format::Ndjson));
        assert_eq!(Format::detect(b"{\"a\":1}", false), None);
        assert_eq!(Format::detect(b"{\"a\":1}", true), Some(Format::Ndjson));
        assert_eq!(
            Format::detect(b"{\n  \"a\": 1\n}", true),
            Some(Format::Json)
        );
        assert_eq!(
            Format::detect(b"{\"time\":1,\"event\":{}}\n", false),
            Some(Format::SplunkHec)
        );
        assert_eq!(
            Format::detect(
                b"{\"event\":\"Harness-Audit-Event-x\",\"fields\":{}}\n",
                false
            ),
            Some(Format::Sumo)
        );
        assert_eq!(
            Format::detect(b"auditEventId,auditEventTime\n", false),
            Some(Format::Csv)
        );
        assert_eq!(Format::detect(b"   ", true), None);
        assert!(is_gzip(&[0x1f, 0x8b, 8]));
    }
}
