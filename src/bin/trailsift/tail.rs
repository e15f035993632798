//! `trailsift tail URL -q QUERY`: the matching events of the token's account as they are
//! committed, one JSON line each, from the Worker's live tail (Server-Sent Events). After a
//! dropped connection or a `dropped` notice it resumes after the last event it printed, so
//! the output has no gap and no repeat.
//!
//! Exit codes: 0 after `--limit` events, 1 when some message was not an event (reported,
//! skipped), 2 for usage errors, refusals (401, 403, 400) and a Worker that stays
//! unreachable for `--retries` attempts in a row.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::ExitCode;
use std::thread::sleep;
use std::time::Duration;

use crate::{EXIT_BAD_RECORDS, EXIT_USAGE};

/// The environment variable that holds the bearer token.
const TOKEN_VAR: &str = "TRAILSIFT_TOKEN";
/// The Worker sends a comment every 15 seconds; silence much longer means a dead connection.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Waits between reconnects: doubling from the first to the last.
const FIRST_WAIT: Duration = Duration::from_millis(500);
const LAST_WAIT: Duration = Duration::from_secs(30);

#[derive(clap::Args)]
pub struct Args {
    /// The Worker's address, e.g. https://trailsift.example.com.
    url: String,
    /// Filter query in the text syntax (empty matches everything).
    #[arg(short, long, default_value = "", allow_hyphen_values = true)]
    query: String,
    /// Start after this sequence number: the stored matching events after it come first.
    /// Default: the events committed from now on.
    #[arg(long, value_name = "SEQ")]
    after: Option<u64>,
    /// Stop after printing this many events.
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// Give up after this many failed connection attempts in a row (0: never).
    #[arg(long, default_value_t = 10, value_name = "N")]
    retries: u32,
}

/// Why a connection ended.
enum End {
    /// `--limit` events printed.
    Done,
    /// The server dropped events: connect again at once, after the last one printed.
    Dropped,
    /// The connection broke or the server ended it: connect again after a pause.
    Broken,
    /// Standard output is closed (`| head`).
    Closed,
}

/// A refusal that connecting again cannot fix, or an output error.
struct Fatal(String);

pub fn run(args: Args) -> ExitCode {
    let Some(token) = std::env::var(TOKEN_VAR).ok().filter(|t| !t.is_empty()) else {
        eprintln!("trailsift tail: set {TOKEN_VAR} to a token with the read scope");
        return ExitCode::from(EXIT_USAGE);
    };
    let base = args.url.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        eprintln!("trailsift tail: {base} is not an http:// or https:// address");
        return ExitCode::from(EXIT_USAGE);
    }
    let mut tail = Tail {
        agent: ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_connect(Some(CONNECT_TIMEOUT))
                .timeout_per_read(Some(READ_TIMEOUT))
                .build(),
        ),
        url: format!("{base}/v1/stream"),
        token,
        query: args.query,
        last: args.after,
        printed: 0,
        limit: args.limit,
        bad: 0,
        out: io::BufWriter::new(io::stdout().lock()),
    };
    let mut failures = 0u32;
    let mut wait = FIRST_WAIT;
    loop {
        match tail.connect() {
            Ok(Some(End::Done | End::Closed)) => break,
            Ok(Some(End::Dropped)) => continue,
            Ok(Some(End::Broken)) => {
                failures = 0;
                wait = FIRST_WAIT;
            }
            Ok(None) => {
                failures += 1;
                if args.retries > 0 && failures >= args.retries {
                    eprintln!("trailsift tail: giving up after {failures} failed attempts");
                    return ExitCode::from(EXIT_USAGE);
                }
            }
            Err(Fatal(message)) => {
                eprintln!("trailsift tail: {message}");
                return ExitCode::from(EXIT_USAGE);
            }
        }
        sleep(wait);
        wait = (wait * 2).min(LAST_WAIT);
    }
    if tail.bad > 0 {
        ExitCode::from(EXIT_BAD_RECORDS)
    } else {
        ExitCode::SUCCESS
    }
}

struct Tail<W: Write> {
    agent: ureq::Agent,
    url: String,
    token: String,
    query: String,
    /// The sequence number of the last event printed: where a new connection resumes.
    last: Option<u64>,
    printed: u64,
    limit: Option<u64>,
    bad: u64,
    out: W,
}

impl<W: Write> Tail<W> {
    /// One connection: `Ok(None)` when it could not be made (try again later).
    fn connect(&mut self) -> Result<Option<End>, Fatal> {
        let mut request = self
            .agent
            .get(&self.url)
            .query("q", &self.query)
            .header("authorization", &format!("Bearer {}", self.token))
            .header("accept", "text/event-stream");
        if let Some(last) = self.last {
            request = request.header("last-event-id", &last.to_string());
        }
        let response = match request.call() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("trailsift tail: {}: {e}", self.url);
                return Ok(None);
            }
        };
        let status = response.status().as_u16();
        if status != 200 {
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let body = response.into_body().read_to_string().unwrap_or_default();
            let message = refusal(status, &body);
            if status == 429 || status >= 500 {
                eprintln!("trailsift tail: {message}");
                if let Some(secs) = retry_after {
                    sleep(Duration::from_secs(secs.min(300)));
                }
                return Ok(None);
            }
            return Err(Fatal(message));
        }
        let mut reader = BufReader::new(response.into_body().into_reader());
        match self.read_events(&mut reader) {
            Ok(end) => Ok(Some(end)),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(Some(End::Closed)),
            Err(e) => Err(Fatal(format!("cannot write the output: {e}"))),
        }
    }

    /// Reads Server-Sent Events until the connection ends; only output errors are errors.
    /// What was printed is flushed before every read that may wait for the network (an
    /// empty buffer), not after every event of a burst.
    fn read_events<R: Read>(&mut self, reader: &mut BufReader<R>) -> io::Result<End> {
        let mut message = Message::default();
        let mut line = String::new();
        loop {
            if reader.buffer().is_empty() {
                self.out.flush()?;
            }
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) => return Ok(End::Broken),
                Ok(_) => {}
                Err(e) => {
                    eprintln!("trailsift tail: the connection broke: {e}");
                    return Ok(End::Broken);
                }
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if !line.is_empty() {
                message.field(line);
                continue;
            }
            let done = std::mem::take(&mut message);
            if done.event == "dropped" {
                self.out.flush()?;
                eprintln!(
                    "trailsift tail: the Worker dropped events ({}); fetching them again",
                    done.data
                );
                return Ok(End::Dropped);
            }
            if !done.event.is_empty() && done.event != "message" {
                // `ready` (or a notice this client does not know) is not an event; its id
                // is where a new connection resumes, even before the first event.
                if let Ok(seq) = done.id.trim().parse::<u64>() {
                    self.last = Some(seq);
                }
                continue;
            }
            if done.data.is_empty() {
                continue;
            }
            self.print(&done)?;
            if self.limit.is_some_and(|n| self.printed >= n) {
                self.out.flush()?;
                return Ok(End::Done);
            }
        }
    }

    /// Prints one event as one line. An event stored across lines arrives as several `data`
    /// lines: it is written compactly.
    fn print(&mut self, message: &Message) -> io::Result<()> {
        let seq = message.id.trim().parse::<u64>().ok();
        let compact = if message.data.contains('\n') {
            serde_json::from_str::<serde_json::Value>(&message.data)
                .map(|v| v.to_string())
                .ok()
        } else {
            serde_json::from_str::<serde::de::IgnoredAny>(&message.data)
                .ok()
                .map(|_| message.data.clone())
        };
        match (compact, seq) {
            (Some(line), Some(seq)) => {
                writeln!(self.out, "{line}")?;
                self.printed += 1;
                self.last = Some(seq);
            }
            _ => {
                self.bad += 1;
                eprintln!(
                    "trailsift tail: skipped a message that is not an event (id {:?}): {}",
                    message.id,
                    message.data.chars().take(200).collect::<String>()
                );
                self.last = seq.or(self.last);
            }
        }
        Ok(())
    }
}

/// One Server-Sent Events message, field by field.
#[derive(Debug, Default, PartialEq, Eq)]
struct Message {
    id: String,
    event: String,
    data: String,
}

impl Message {
    /// Takes one line of the stream (comments, starting with `:`, say nothing).
    fn field(&mut self, line: &str) {
        let (name, value) = match line.split_once(':') {
            Some((name, value)) => (name, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match name {
            "data" => {
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(value);
            }
            "id" => self.id = value.to_string(),
            "event" => self.event = value.to_string(),
            _ => {}
        }
    }
}

/// What the Worker said when it refused: its error code and message.
fn refusal(status: u16, body: &str) -> String {
    let error = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").cloned());
    match error {
        Some(e) => format!(
            "HTTP {status} {}: {}",
            e.get("code").and_then(|c| c.as_str()).unwrap_or("error"),
            e.get("message")
                .and_then(|m| m.as_str())
                .unwrap_or_default()
        ),
        None => format!(
            "HTTP {status}: {}",
            body.chars().take(200).collect::<String>()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail<W: Write>(limit: Option<u64>, out: W) -> Tail<W> {
        Tail {
            agent: ureq::Agent::new_with_defaults(),
            url: String::new(),
            token: String::new(),
            query: String::new(),
            last: None,
            printed: 0,
            limit,
            bad: 0,
            out,
        }
    }

    #[test]
    fn events_print_as_lines_and_comments_say_nothing() {
        let mut t = tail(None, Vec::new());
        let stream = ": trailsift live tail\n\nid: 4\ndata: {\"a\":1}\n\n: keep-alive\n\n\
                      id: 9\ndata: {\"b\":\ndata:  [1, 2]}\n\nid: 10\ndata: not json\n\n";
        let end = t
            .read_events(&mut BufReader::new(stream.as_bytes()))
            .unwrap();
        assert!(matches!(end, End::Broken), "the stream ended");
        assert_eq!(
            String::from_utf8(t.out).unwrap(),
            "{\"a\":1}\n{\"b\":[1,2]}\n"
        );
        assert_eq!((t.printed, t.bad, t.last), (2, 1, Some(10)));
    }

    #[test]
    fn the_ready_message_says_where_to_resume_and_prints_nothing() {
        let mut t = tail(None, Vec::new());
        let stream = "event: ready\nid: 41\ndata: {\"after\":41}\n\nevent: other\ndata: {}\n\n";
        let end = t
            .read_events(&mut BufReader::new(stream.as_bytes()))
            .unwrap();
        assert!(matches!(end, End::Broken), "the stream ended");
        assert!(t.out.is_empty(), "nothing printed");
        assert_eq!((t.printed, t.bad, t.last), (0, 0, Some(41)));
    }

    #[test]
    fn a_dropped_notice_ends_the_connection_after_the_last_event() {
        let mut t = tail(None, Vec::new());
        let stream =
            "id: 3\ndata: {}\n\nevent: dropped\ndata: {\"dropped\":5}\n\nid: 9\ndata: {}\n\n";
        assert!(matches!(
            t.read_events(&mut BufReader::new(stream.as_bytes()))
                .unwrap(),
            End::Dropped
        ));
        assert_eq!((t.printed, t.last), (1, Some(3)));
    }

    #[test]
    fn the_limit_stops_at_its_count() {
        let mut t = tail(Some(2), Vec::new());
        let stream = "id: 1\ndata: {}\n\nid: 2\ndata: {}\n\nid: 3\ndata: {}\n\n";
        assert!(matches!(
            t.read_events(&mut BufReader::new(stream.as_bytes()))
                .unwrap(),
            End::Done
        ));
        assert_eq!(String::from_utf8(t.out).unwrap(), "{}\n{}\n");
    }

    /// Hands out one chunk per read and records whether all that was printed had been
    /// flushed each time it was asked for more (when a real connection would wait).
    struct Chunks {
        chunks: std::vec::IntoIter<&'static str>,
        out: std::rc::Rc<std::cell::RefCell<Output>>,
        unflushed_at_read: Vec<usize>,
    }

    #[derive(Default)]
    struct Output {
        written: Vec<u8>,
        flushed: usize,
    }

    struct Shared(std::rc::Rc<std::cell::RefCell<Output>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().written.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            let mut o = self.0.borrow_mut();
            o.flushed = o.written.len();
            Ok(())
        }
    }

    impl Read for Chunks {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let o = self.out.borrow();
            self.unflushed_at_read.push(o.written.len() - o.flushed);
            let chunk = self.chunks.next().unwrap_or_default().as_bytes();
            let n = chunk.len().min(buf.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            Ok(n)
        }
    }

    #[test]
    fn what_was_printed_is_flushed_before_waiting_for_more() {
        let out = std::rc::Rc::new(std::cell::RefCell::new(Output::default()));
        let mut t = tail(None, Shared(out.clone()));
        // A burst of two events, then a keep-alive comment, then one more event.
        let mut reader = BufReader::new(Chunks {
            chunks: vec![
                "id: 1\ndata: {}\n\nid: 2\ndata: {}\n\n",
                ": keep-alive\n\n",
                "id: 3\ndata: {}\n\n",
            ]
            .into_iter(),
            out: out.clone(),
            unflushed_at_read: Vec::new(),
        });
        assert!(matches!(t.read_events(&mut reader).unwrap(), End::Broken));
        assert_eq!(reader.get_ref().unflushed_at_read, [0, 0, 0, 0]);
        assert_eq!(out.borrow().written, b"{}\n{}\n{}\n");
    }

    #[test]
    fn refusals_show_the_code() {
        let body = r#"{"error":{"code":"bad_filter","message":"unknown field `acton`"}}"#;
        assert_eq!(
            refusal(400, body),
            "HTTP 400 bad_filter: unknown field `acton`"
        );
        assert_eq!(refusal(502, "Bad Gateway"), "HTTP 502: Bad Gateway");
    }
}
