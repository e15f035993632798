//! The one validation entry: every record of a [`Reader`] checked against the schema, into
//! the report of formats.md §1. The CLI, the npm package and the Worker's ingest all run it.
//!
//! Records of JSON and NDJSON input are checked from their bytes first (no `Value` built);
//! only those the quick check cannot vouch for are parsed and checked exactly, so the
//! violations reported are always those of [`check_value`](super::check_value).
//!
//! ```
//! use trailsift::convert::{ReadOptions, Reader};
//! use trailsift::schema::{Options, Seen, Validator};
//!
//! let input = br#"{"auditEventId":"ev-1","auditEventAuthor":{"principal":{"type":"USER","identifier":"alice"}},"auditModule":"CORE","auditResource":{"type":"SECRET","identifier":"db"},"auditResourceScope":{"accountIdentifier":"acct"},"auditAction":"CREATE","auditEventTime":1763719530123}
//! {"auditEventId":"ev-2"}
//! "#;
//! let options = Options { account: Some("acct".into()), ..Options::default() };
//! let mut v = Validator::new(Reader::detecting(None, ReadOptions::default()), options);
//! let mut ids = Vec::new();
//! let mut on = |seen: Seen| {
//!     if let Seen::Valid(ev) = seen {
//!         ids.push(ev.id.to_string());
//!     }
//! };
//! v.push(input, &mut on);
//! v.finish(&mut on);
//! let report = v.into_report();
//! assert_eq!(ids, ["ev-1"]);
//! assert_eq!((report.valid, report.rejected.len()), (1, 1));
//! ```

use serde_json::Value;

use super::{fast, BatchValidator, Options, Report, Violation};
use crate::convert::read::{to_item, Piece, RawEvent};
use crate::convert::{ErrorCode, Format, Item, ReadError, ReadOptions, Reader};
use crate::event::field;
use crate::time::parse_time_value;

/// A valid event, as a store keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted<'a> {
    /// Position of the event in the input, from 0.
    pub index: u64,
    /// 1-based line where the event starts.
    pub line: u64,
    /// `auditEventId`.
    pub id: &'a str,
    /// `auditEventTime` in epoch milliseconds.
    pub time_ms: i64,
    /// The event as compact JSON text on one line (the record's own bytes when they are).
    pub json: &'a [u8],
}

/// What the validator saw of one record.
#[derive(Debug)]
pub enum Seen<'a> {
    Valid(Accepted<'a>),
    /// An event with violations (in the report).
    Invalid,
    /// A record that is not an event at all, or a broken input (also in the report).
    Unreadable(&'a ReadError),
}

/// Validates the records of a reader as chunks are pushed.
pub struct Validator {
    reader: Reader,
    batch: BatchValidator,
    warnings: Vec<Violation>,
    /// Records read (events and unreadable records).
    records: u64,
    /// Records that were JSON objects, valid or not.
    objects: u64,
}

impl Validator {
    pub fn new(reader: Reader, options: Options) -> Self {
        Validator {
            reader,
            batch: BatchValidator::new(options),
            warnings: Vec::new(),
            records: 0,
            objects: 0,
        }
    }

    /// Reads a chunk; `on` hears of every record it completed, in input order.
    pub fn push(&mut self, chunk: &[u8], on: &mut dyn FnMut(Seen)) {
        self.read(chunk, false, on);
    }

    /// Ends the input.
    pub fn finish(&mut self, on: &mut dyn FnMut(Seen)) {
        self.read(&[], true, on);
    }

    fn read(&mut self, chunk: &[u8], end: bool, on: &mut dyn FnMut(Seen)) {
        let Validator {
            reader,
            batch,
            warnings,
            records,
            objects,
        } = self;
        let mut step = Step {
            batch,
            warnings,
            records,
            objects,
            on,
        };
        reader.read(chunk, end, true, &mut |piece| step.piece(piece));
    }

    /// The format read, once known.
    pub fn format(&self) -> Option<crate::convert::Format> {
        self.reader.format()
    }

    /// Records read so far: events and records that are not events.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Records that were JSON objects (valid events or not).
    pub fn objects(&self) -> u64 {
        self.objects
    }

    /// The report being built (for counts and for taking its entries as they come).
    pub fn batch(&mut self) -> &mut BatchValidator {
        &mut self.batch
    }

    pub fn into_report(self) -> Report {
        self.batch.finish()
    }
}

/// One read's state, borrowed from the validator.
struct Step<'v, 'o> {
    batch: &'v mut BatchValidator,
    warnings: &'v mut Vec<Violation>,
    records: &'v mut u64,
    objects: &'v mut u64,
    on: &'o mut dyn FnMut(Seen),
}

/// Validates the records `read` hands on into `batch`, as a [`Validator`] does; returns
/// how many records it saw and how many of them were JSON objects (for a block of lines
/// validated on its own: [`super::parallel`]).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn validate_pieces(
    batch: &mut BatchValidator,
    read: impl FnOnce(&mut dyn FnMut(Piece)),
) -> (u64, u64) {
    let (mut warnings, mut records, mut objects) = (Vec::new(), 0, 0);
    let mut step = Step {
        batch,
        warnings: &mut warnings,
        records: &mut records,
        objects: &mut objects,
        on: &mut |_| {},
    };
    read(&mut |piece| step.piece(piece));
    (records, objects)
}

impl Step<'_, '_> {
    fn piece(&mut self, piece: Piece) {
        match piece {
            Piece::Raw(ev) => self.raw(ev),
            Piece::Item(item) => self.item(item),
        }
    }

    /// A record of JSON or NDJSON input, unparsed: the check from bytes first.
    fn raw(&mut self, ev: RawEvent) {
        if let RawEvent::Record {
            bytes, index, line, ..
        } = ev
        {
            self.warnings.clear();
            let options = self.batch.options();
            if let Some(facts) = fast::check(bytes, options, self.warnings) {
                *self.records += 1;
                *self.objects += 1;
                self.batch.push_valid(index, line, self.warnings.drain(..));
                let json = crate::plain::compact(bytes);
                (self.on)(Seen::Valid(Accepted {
                    index,
                    line,
                    id: facts.id,
                    time_ms: facts.time_ms,
                    json: &json,
                }));
                return;
            }
        }
        self.item(to_item(ev, crate::convert::read::json::identity));
    }

    /// A parsed record (or a record that could not be read).
    fn item(&mut self, item: Item) {
        *self.records += 1;
        let record = match item {
            Ok(record) => record,
            Err(e) => {
                self.batch
                    .push_record_error(e.index, e.line, e.code.as_str(), e.message.clone());
                (self.on)(Seen::Unreadable(&e));
                return;
            }
        };
        *self.objects += 1;
        let (index, line, value) = (record.index, record.line, &record.value);
        if !self.batch.push(index, line, value) {
            (self.on)(Seen::Invalid);
            return;
        }
        // Validation guarantees both.
        let id = value.get(field::ID).and_then(Value::as_str);
        let time = value.get(field::TIME).map(parse_time_value);
        if let (Some(id), Some(Ok(time_ms))) = (id, time) {
            let json = serde_json::to_vec(value).unwrap_or_default();
            (self.on)(Seen::Valid(Accepted {
                index,
                line,
                id,
                time_ms,
                json: &json,
            }));
        }
    }
}

/// Limits of one ingested body (the Worker's `MAX_BODY_BYTES`, `MAX_EVENTS`,
/// `MAX_EVENT_BYTES`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestLimits {
    /// Decoded body bytes.
    pub body: usize,
    /// Records per body.
    pub events: usize,
    /// Bytes per event.
    pub event: usize,
}

/// Why an ingested body is refused as a whole (nothing of it is stored).
#[derive(Debug, Clone, PartialEq)]
pub enum BodyFault {
    /// The body cannot be read on: a record over the event limit or a body over the
    /// decoded limit (`too_large`), broken gzip (`bad_gzip`, `truncated`), a JSON body that
    /// is not JSON (`bad_json`).
    Unreadable(ReadError),
    /// More records than [`IngestLimits::events`].
    TooManyEvents,
    /// Not one record.
    Empty,
    /// Records, but not one of them a JSON object: the body is not what its media type says.
    NoObject,
}

/// What [`ingest`] made of a body: the validation report, and the fault that refuses the
/// whole body, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Ingested {
    pub report: Report,
    pub fault: Option<BodyFault>,
}

/// Bytes of a body handed to the reader at a time, so that a body with too many events
/// stops being read soon after the limit.
const INGEST_SLICE: usize = 64 * 1024;

/// The ingest decoding of a request body: gzip found by its bytes and decoded within
/// `limits.body`, read as `format` (JSON or NDJSON), each event validated for `account`
/// with vocabulary warnings (values outside the vocabulary are stored, with warnings).
/// `on_valid` hears of every valid event in input order; the caller stores them unless
/// the answer has a fault.
pub fn ingest(
    body: &[u8],
    format: Format,
    account: &str,
    limits: &IngestLimits,
    on_valid: &mut dyn FnMut(Accepted),
) -> Ingested {
    let opts = ReadOptions {
        max_record_bytes: limits.event,
        max_input_bytes: limits.body as u64,
        keep_raw: false,
        ..ReadOptions::default()
    };
    let reader = match Reader::new(format, opts) {
        Ok(r) => r,
        Err(e) => {
            return Ingested {
                report: Report::default(),
                fault: Some(BodyFault::Unreadable(e)),
            }
        }
    };
    let options = Options {
        account: Some(account.to_string()),
        vocabulary: true,
        ..Options::default()
    };
    let mut validator = Validator::new(reader, options);
    let mut fatal = None;
    let too_many = |v: &Validator| v.records() > limits.events as u64;
    {
        let mut on = |seen: Seen| match seen {
            Seen::Valid(ev) => on_valid(ev),
            Seen::Unreadable(e) if fatal.is_none() && ends_body(e, format) => {
                fatal = Some(e.clone())
            }
            _ => {}
        };
        let mut slices = body.chunks(INGEST_SLICE);
        loop {
            match slices.next() {
                Some(slice) => validator.push(slice, &mut on),
                None => {
                    validator.finish(&mut on);
                    break;
                }
            }
            // Stop early only while slices remain: once the whole body was pushed, the
            // finish reads what the push left (the last record, or the last compressed
            // bytes the gzip decoder holds), so that gzip or not gives the same report.
            if too_many(&validator) && slices.len() > 0 {
                break;
            }
        }
    }
    // A fault in a record past the event limit comes after the body was already refused
    // for its number of events.
    let past_limit = |e: &ReadError| e.index >= limits.events as u64;
    let fault = if let Some(e) = fatal.filter(|e| !past_limit(e)) {
        Some(BodyFault::Unreadable(e))
    } else if too_many(&validator) {
        Some(BodyFault::TooManyEvents)
    } else if validator.records() == 0 {
        Some(BodyFault::Empty)
    } else if validator.objects() == 0 {
        Some(BodyFault::NoObject)
    } else {
        None
    };
    Ingested {
        report: validator.into_report(),
        fault,
    }
}

/// Whether a read error refuses the whole body rather than only its record: the limits,
/// broken gzip, a cut body, and text that is not JSON when the body is one JSON document
/// (an NDJSON line that is not JSON is that line's rejection).
fn ends_body(e: &ReadError, format: Format) -> bool {
    match e.code {
        ErrorCode::TooLarge
        | ErrorCode::Truncated
        | ErrorCode::BadGzip
        | ErrorCode::Io
        | ErrorCode::Unsupported => true,
        ErrorCode::BadJson => format == Format::Json,
        _ => false,
    }
}
