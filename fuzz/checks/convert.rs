//! Conversion: the [`Converter`] reads any format (chunked, gzip or not, detected or named)
//! and writes every format without panicking; its output and errors are those of reading
//! the records and writing their values, its output is bounded by its input, and the
//! formats that keep events whole read back to the same events.

use serde_json::Value;
use trailsift::convert::{
    gzip, is_gzip, read_all, write_all, ColumnScan, ColumnSet, Converter, Format, ReadError,
    ReadOptions, WriteOptions, Writer,
};
use trailsift::time::parse_time_value;

use super::input::Input;

/// The most decoded bytes read: keeps a gzip bomb's output small.
const MAX_INPUT: u64 = 1 << 20;

/// The `convert` target.
pub fn check(input: &[u8]) {
    let input = Input::new(input);
    let body = input.body();
    let (format, name) = (input.read_format(), input.name());
    let opts = ReadOptions {
        max_input_bytes: MAX_INPUT,
        ..input.read_options()
    };
    let items = read_all(format, name, &body, opts.clone());
    let (mut events, mut errors) = (Vec::new(), Vec::new());
    for item in items {
        match item {
            Ok(record) => events.push(record.value),
            Err(e) => errors.push(e),
        }
    }
    let decoded = decoded_len(&body);
    let safety = input.head[1] & 0x80 != 0;
    for to in Format::ALL {
        let write = WriteOptions {
            csv_safety: safety,
            ..WriteOptions::default()
        };
        let converter = Converter::new(
            format,
            name,
            opts.clone(),
            Writer::new(to, write.clone(), Vec::new()),
        );
        let Ok(converter) = converter else {
            return;
        };
        let (out, got_errors) = convert(converter, input.chunks(&body));
        let expected = write_all(to, write, &events).expect("writing into memory");
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&expected),
            "to {to}"
        );
        assert_eq!(got_errors, errors, "errors converting to {to}");
        let bound = 40 * decoded + 600 * events.len() + 4096;
        assert!(
            out.len() <= bound,
            "{} bytes of {to} from {decoded} bytes",
            out.len()
        );
        // Spreadsheet safety changes cells; OCSF cannot be read; Sumo flattens paths, so
        // keys with dots do not come back.
        if !matches!(to, Format::Ocsf | Format::Sumo) && (to != Format::Csv || !safety) {
            let expected: Vec<Value> = events.iter().map(|e| gives_back(to, e)).collect();
            assert_eq!(read_back(to, &out), expected, "{to} read back");
        }
    }

    // A whole input's CSV: a column for every field, found from the bytes as from the values.
    let mut scan =
        ColumnScan::new(format, name, opts, &WriteOptions::default()).expect("a readable format");
    for chunk in input.chunks(&body) {
        scan.push(chunk);
    }
    let columns = scan.finish();
    let mut set = ColumnSet::new();
    events.iter().for_each(|e| set.add(e));
    assert_eq!(columns, set.finish(), "the columns of a scan");
    let write = WriteOptions {
        columns: Some(columns),
        csv_safety: false,
        ..WriteOptions::default()
    };
    let csv = write_all(Format::Csv, write, &events).expect("writing into memory");
    let expected: Vec<Value> = events.iter().map(|e| gives_back(Format::Csv, e)).collect();
    assert_eq!(
        read_back(Format::Csv, &csv),
        expected,
        "scanned CSV read back"
    );
}

fn convert(mut converter: Converter<Vec<u8>>, chunks: Vec<&[u8]>) -> (Vec<u8>, Vec<ReadError>) {
    let mut errors = Vec::new();
    for chunk in chunks {
        converter
            .push(chunk, &mut errors)
            .expect("writing into memory");
    }
    let out = converter.finish(&mut errors).expect("writing into memory");
    (out, errors)
}

/// How many bytes the reader decodes from `body` at most.
fn decoded_len(body: &[u8]) -> usize {
    let len = if is_gzip(body) {
        gzip::decompress(body).map_or(MAX_INPUT as usize, |d| d.len())
    } else {
        body.len()
    };
    len.min(MAX_INPUT as usize)
}

/// The events of output in `format`, read without limits (an envelope is larger and one
/// level deeper than its event).
fn read_back(format: Format, out: &[u8]) -> Vec<Value> {
    let opts = ReadOptions {
        max_record_bytes: usize::MAX,
        max_depth: 1024,
        ..ReadOptions::default()
    };
    read_all(Some(format), None, out, opts)
        .into_iter()
        .map(|item| {
            item.unwrap_or_else(|e| panic!("{format} output does not read back: {e}"))
                .value
        })
        .collect()
}

/// What reading `event` back from `format` gives ([`read_back`]): CSV gives a time that
/// parses as epoch milliseconds (formats.md), everything else as it was.
fn gives_back(format: Format, event: &Value) -> Value {
    let mut event = event.clone();
    if format == Format::Csv {
        if let Some(t) = event.get_mut("auditEventTime") {
            if let (true, Ok(ms)) = (t.is_string() || t.is_number(), parse_time_value(t)) {
                *t = ms.into();
            }
        }
    }
    event
}
