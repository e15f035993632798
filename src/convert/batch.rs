//! Batching (request bodies of at most N bytes or N events: Sumo's 1 MB, HEC, S3 objects)
//! and stream-file naming (formats.md §3).

use std::io;

use serde_json::Value;

use super::write::{WriteOptions, Writer};
use super::Format;
use crate::event::field;
use crate::time::parse_time_value;

/// Sumo Logic's largest request body.
pub const SUMO_MAX_BYTES: usize = 1_000_000;

/// The name of a stream file: `<prefix><t1>_<t2>_<t3>.<ext>[.gz]` where `t1`/`t2` are the
/// earliest and latest `auditEventTime` in the file and `t3` the time it is written, all
/// epoch milliseconds. `ext` is `json` for [`Format::Json`] and `ndjson` for NDJSON (and
/// the line formats); CSV files end in `csv`.
pub fn stream_file_name(
    prefix: &str,
    t1: i64,
    t2: i64,
    t3: i64,
    format: Format,
    gzip: bool,
) -> String {
    let gz = if gzip { ".gz" } else { "" };
    format!("{prefix}{t1}_{t2}_{t3}.{}{gz}", format.extension())
}

/// Limits of one batch. A batch closes before an event that would take it over either
/// limit; an event larger than `max_bytes` on its own makes a batch by itself.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    pub max_bytes: usize,
    pub max_events: usize,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_bytes: SUMO_MAX_BYTES,
            max_events: usize::MAX,
        }
    }
}

/// One finished body.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub body: Vec<u8>,
    pub count: usize,
    /// Earliest and latest `auditEventTime` (epoch ms) of the events that have one.
    pub min_time_ms: Option<i64>,
    pub max_time_ms: Option<i64>,
}

impl Batch {
    /// The stream-file name of this batch, written at `written_ms`.
    pub fn file_name(&self, prefix: &str, written_ms: i64, format: Format, gzip: bool) -> String {
        let t1 = self.min_time_ms.unwrap_or(written_ms);
        let t2 = self.max_time_ms.unwrap_or(written_ms);
        stream_file_name(prefix, t1, t2, written_ms, format, gzip)
    }
}

/// Splits a stream of events into bodies within [`BatchLimits`].
///
/// ```
/// use serde_json::json;
/// use trailsift::convert::batch::{BatchLimits, Batcher};
/// use trailsift::convert::{Format, WriteOptions};
///
/// let limits = BatchLimits { max_bytes: 1000, max_events: 2 };
/// let mut b = Batcher::new(Format::Ndjson, WriteOptions::default(), limits);
/// let mut batches = Vec::new();
/// for i in 0..5 {
///     batches.extend(b.push(&json!({"auditEventId": i, "auditEventTime": 1000 + i})).unwrap());
/// }
/// batches.extend(b.finish().unwrap());
/// assert_eq!(batches.iter().map(|b| b.count).collect::<Vec<_>>(), [2, 2, 1]);
/// assert_eq!(batches[0].file_name("audit/", 9, Format::Ndjson, true), "audit/1000_1001_9.ndjson.gz");
/// ```
pub struct Batcher {
    format: Format,
    opts: WriteOptions,
    limits: BatchLimits,
    writer: Writer<Vec<u8>>,
    count: usize,
    min: Option<i64>,
    max: Option<i64>,
}

impl Batcher {
    pub fn new(format: Format, opts: WriteOptions, limits: BatchLimits) -> Self {
        let writer = Writer::new(format, opts.clone(), Vec::new());
        Batcher {
            format,
            opts,
            limits,
            writer,
            count: 0,
            min: None,
            max: None,
        }
    }

    /// Bytes that close a body after its last event.
    fn closing(&self) -> usize {
        match self.format {
            Format::Json => 3,
            _ => 0,
        }
    }

    /// Adds an event; returns the batch it closed, if any.
    pub fn push(&mut self, event: &Value) -> io::Result<Option<Batch>> {
        let time = event
            .get(field::TIME)
            .and_then(|t| parse_time_value(t).ok());
        self.add(time, |w| w.write(event))
    }

    /// Adds an event given as its JSON text on one line, with its `auditEventTime` in
    /// epoch milliseconds (see [`Writer::write_raw`]); returns the batch it closed, if any.
    pub fn push_raw(&mut self, json: &[u8], time_ms: Option<i64>) -> io::Result<Option<Batch>> {
        self.add(time_ms, |w| w.write_raw(json))
    }

    fn add(
        &mut self,
        time_ms: Option<i64>,
        mut write: impl FnMut(&mut Writer<Vec<u8>>) -> io::Result<()>,
    ) -> io::Result<Option<Batch>> {
        let mut done = None;
        if self.count >= self.limits.max_events.max(1) {
            done = self.take()?;
        }
        let before = self.writer.get_mut().len();
        let written = self.writer.count();
        write(&mut self.writer)?;
        if self.writer.count() == written {
            // Sampled out by the transform: not in this batch.
            return Ok(done);
        }
        if self.count > 0 && self.writer.get_mut().len() + self.closing() > self.limits.max_bytes {
            // Too big with this event: close the batch without it, start the next with it.
            self.writer.get_mut().truncate(before);
            done = self.take()?;
            write(&mut self.writer)?;
        }
        self.count += 1;
        if let Some(t) = time_ms {
            self.min = Some(self.min.map_or(t, |m| m.min(t)));
            self.max = Some(self.max.map_or(t, |m| m.max(t)));
        }
        Ok(done)
    }

    /// Events in the batch not yet closed.
    pub fn open_events(&self) -> usize {
        self.count
    }

    /// Bytes of the batch not yet closed, as it would be closed now.
    pub fn open_bytes(&self) -> usize {
        match self.count {
            0 => 0,
            _ => self.writer.get_ref().len() + self.closing(),
        }
    }

    /// Closes the last batch, if it has events.
    pub fn finish(&mut self) -> io::Result<Option<Batch>> {
        self.take()
    }

    fn take(&mut self) -> io::Result<Option<Batch>> {
        if self.count == 0 {
            return Ok(None);
        }
        let mut opts = self.opts.clone();
        if let Some(columns) = self.writer.csv_columns() {
            // Every CSV body of a stream has the same columns.
            opts.columns = Some(columns.to_vec());
            self.opts.columns = opts.columns.clone();
        }
        let next = Writer::new(self.format, opts, Vec::new());
        let mut full = std::mem::replace(&mut self.writer, next);
        full.end()?;
        let batch = Batch {
            body: std::mem::take(full.get_mut()),
            count: self.count,
            min_time_ms: self.min,
            max_time_ms: self.max,
        };
        self.count = 0;
        self.min = None;
        self.max = None;
        Ok(Some(batch))
    }
}
