//! Blocks of whole lines cut among worker threads, their results handed on in input
//! order: how `trailsift filter`, `convert` and `validate` use every core (native only:
//! WebAssembly has no threads here).
//!
//! The calling thread reads the input through the one input path ([`LineReader`]: gzip,
//! the longest line) and cuts it into blocks of whole lines of about [`BLOCK_BYTES`];
//! `threads` workers run `work` on them; the calling thread hands each block and its
//! result to `emit` in input order. A few blocks per thread are in flight at most, so the
//! memory held does not grow with the input. With one thread the same blocks are worked
//! on and emitted in turn without spawning any: the output is the same for any number of
//! threads.
//!
//! ```
//! use std::ops::ControlFlow;
//! use trailsift::input::{LineEvent, LineReader};
//! use trailsift::parallel::{map_lines, Piece, Source};
//!
//! let input = b"a\nbb\nccc\n".repeat(100_000);
//! let mut lengths = Vec::new();
//! let lines = LineReader::new(u64::MAX, 1 << 20);
//! map_lines(Source::Bytes(&input), lines, 4, &|piece: &Piece| match piece {
//!     Piece::Lines(LineEvent::Block { bytes, .. }) => bytes.len(),
//!     _ => 0,
//! }, &mut |_, n| {
//!     lengths.push(n);
//!     ControlFlow::Continue(())
//! }).unwrap();
//! assert_eq!(lengths.iter().sum::<usize>(), input.len());
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Read};
use std::ops::ControlFlow;
use std::sync::{mpsc, Mutex};

use crate::format::Format;
use crate::input::{self, Decoder, InputError, LineEvent, LineReader};

/// The size of the chunks the input is read in, and so of a block of lines.
pub const BLOCK_BYTES: usize = 1 << 20;

/// Blocks in flight per thread: enough to keep every worker busy while the calling
/// thread reads and writes.
const IN_FLIGHT_PER_THREAD: usize = 3;

/// Where the input comes from.
pub enum Source<'a> {
    /// All of it in memory (a mapped file, say): blocks of plain input are slices of it,
    /// never copied.
    Bytes(&'a [u8]),
    /// A stream (standard input, a pipe), read in chunks of [`BLOCK_BYTES`].
    Read(&'a mut dyn Read),
}

/// One piece of the input, in input order.
#[derive(Debug)]
pub enum Piece<'b> {
    /// Whole lines, or a line longer than the reader's maximum.
    Lines(LineEvent<'b>),
    /// The input cannot be read on (a bad or truncated gzip stream, too large a decoded
    /// input): `line` is the number of the line it broke at, `byte` the decoded bytes
    /// read by then.
    Broken {
        line: u64,
        byte: u64,
        error: InputError,
    },
}

/// Reads `source` through `reader`, runs `work` on every [`Piece`] (on `threads` threads)
/// and hands each piece and its result to `emit` in input order, on the calling thread,
/// until the input ends or `emit` breaks. An I/O error reading a stream ends it.
pub fn map_lines<T: Send>(
    source: Source<'_>,
    reader: LineReader,
    threads: usize,
    work: &(dyn Fn(&Piece) -> T + Sync),
    emit: &mut dyn FnMut(Piece, T) -> ControlFlow<()>,
) -> io::Result<()> {
    let plain = match source {
        Source::Bytes(all) if !crate::convert::is_gzip(all) => Some(all),
        _ => None,
    };
    let mut cutter = Cutter {
        source,
        plain,
        reader,
        buf: Vec::new(),
        spare: Vec::new(),
        done: false,
    };
    if threads <= 1 {
        let mut queue = VecDeque::new();
        loop {
            let more = cutter.next(&mut queue)?;
            while let Some(held) = queue.pop_front() {
                let piece = held.piece();
                let result = work(&piece);
                if emit(piece, result).is_break() {
                    return Ok(());
                }
                cutter.recycle(held);
            }
            if !more {
                return Ok(());
            }
        }
    }
    let limit = threads * IN_FLIGHT_PER_THREAD;
    let (job_tx, job_rx) = mpsc::sync_channel::<(u64, Held)>(limit);
    let job_rx = Mutex::new(job_rx);
    let (done_tx, done_rx) = mpsc::channel::<(u64, Held, T)>();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (job_rx, done_tx) = (&job_rx, done_tx.clone());
            scope.spawn(move || loop {
                let job = match job_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((seq, held)) = job else { return };
                let result = work(&held.piece());
                if done_tx.send((seq, held, result)).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);
        let mut queue = VecDeque::new();
        let mut pending = BTreeMap::new();
        let (mut sent, mut emitted) = (0u64, 0u64);
        let mut more = true;
        let outcome = 'run: loop {
            while (sent - emitted) < limit as u64 && (more || !queue.is_empty()) {
                match queue.pop_front() {
                    Some(held) => {
                        if job_tx.send((sent, held)).is_err() {
                            break;
                        }
                        sent += 1;
                    }
                    None => match cutter.next(&mut queue) {
                        Ok(m) => more = m,
                        Err(e) => break 'run Err(e),
                    },
                }
            }
            if sent == emitted {
                break Ok(());
            }
            let Ok((seq, held, result)) = done_rx.recv() else {
                break Ok(());
            };
            pending.insert(seq, (held, result));
            let mut stop = false;
            while let Some((held, result)) = pending.remove(&emitted) {
                emitted += 1;
                stop = emit(held.piece(), result).is_break();
                cutter.recycle(held);
                if stop {
                    break;
                }
            }
            if stop {
                break Ok(());
            }
        };
        // The workers end once the queue is closed and empty.
        drop(job_tx);
        outcome
    })
}

/// The format of an input from its first raw bytes, plain or gzip: what
/// [`input::detect`] says of the content they decode to (`complete`: they are the whole
/// input), as a reader of the whole input detects it. `None`: they do not tell yet.
pub fn detect_format(raw: &[u8], complete: bool, hint: Option<Format>) -> Option<Format> {
    // One byte past the sniff limit is enough for `detect` to decide.
    let mut decoder = Decoder::new(input::SNIFF_LIMIT as u64 + 1);
    let mut head = Vec::new();
    for slice in raw.chunks(BLOCK_BYTES / 16) {
        let pushed = decoder.push(slice, &mut |b| head.extend_from_slice(b));
        if pushed.is_err() {
            break;
        }
        if let Some(format) = input::detect(&head, false, hint) {
            return Some(format);
        }
    }
    if !complete {
        return None;
    }
    // A broken stream tells what it decoded, as it does to a reader.
    let _ = decoder.finish(&mut |b| head.extend_from_slice(b));
    input::detect(&head, true, hint)
}

/// A piece that can go to another thread: its bytes a slice of the input or a copy.
enum Held<'a> {
    Block {
        bytes: Bytes<'a>,
        line: u64,
        byte: u64,
    },
    TooLong {
        line: u64,
        byte: u64,
    },
    Broken {
        line: u64,
        byte: u64,
        error: InputError,
    },
}

enum Bytes<'a> {
    Slice(&'a [u8]),
    Copy(Vec<u8>),
}

impl Held<'_> {
    fn piece(&self) -> Piece<'_> {
        match self {
            Held::Block { bytes, line, byte } => Piece::Lines(LineEvent::Block {
                bytes: match bytes {
                    Bytes::Slice(s) => s,
                    Bytes::Copy(v) => v,
                },
                line: *line,
                byte: *byte,
            }),
            Held::TooLong { line, byte } => Piece::Lines(LineEvent::TooLong {
                line: *line,
                byte: *byte,
            }),
            Held::Broken { line, byte, error } => Piece::Broken {
                line: *line,
                byte: *byte,
                error: error.clone(),
            },
        }
    }
}

/// Reads the source and cuts it into pieces.
struct Cutter<'a> {
    source: Source<'a>,
    /// The whole input, when it is in memory and plain: a block's offset in the decoded
    /// text is then its offset here.
    plain: Option<&'a [u8]>,
    reader: LineReader,
    /// The chunk read from a stream.
    buf: Vec<u8>,
    /// Copies given back, to be filled again.
    spare: Vec<Vec<u8>>,
    done: bool,
}

impl<'a> Cutter<'a> {
    /// Reads one chunk and appends its pieces to `queue`; false once the input has ended.
    fn next(&mut self, queue: &mut VecDeque<Held<'a>>) -> io::Result<bool> {
        if self.done {
            return Ok(false);
        }
        let Cutter {
            source,
            plain,
            reader,
            buf,
            spare,
            done,
        } = self;
        let chunk: &[u8] = match source {
            Source::Bytes(all) => {
                let (head, rest) = all.split_at(all.len().min(BLOCK_BYTES));
                *all = rest;
                head
            }
            Source::Read(r) => {
                buf.resize(BLOCK_BYTES, 0);
                let n = loop {
                    match r.read(buf) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                };
                &buf[..n]
            }
        };
        let plain = *plain;
        if chunk.is_empty() {
            // A stream found broken at its end is reported before the last line, which is
            // read only at the end of the input (the format readers' order).
            *done = true;
            if let Err(error) = reader.end_input(&mut |ev| queue.push_back(hold(ev, plain, spare)))
            {
                let (line, byte) = reader.position();
                queue.push_back(Held::Broken { line, byte, error });
            }
            reader.end_lines(&mut |ev| queue.push_back(hold(ev, plain, spare)));
            return Ok(false);
        }
        if let Err(error) = reader.push(chunk, &mut |ev| queue.push_back(hold(ev, plain, spare))) {
            let (line, byte) = reader.position();
            queue.push_back(Held::Broken { line, byte, error });
            // Nothing more is decoded, but the last line read is still handed on.
            *done = true;
            reader.end_lines(&mut |ev| queue.push_back(hold(ev, plain, spare)));
        }
        Ok(!*done)
    }

    fn recycle(&mut self, held: Held) {
        if let Held::Block {
            bytes: Bytes::Copy(v),
            ..
        } = held
        {
            self.spare.push(v);
        }
    }
}

/// A line event made ready to go to another thread: its bytes the same bytes of `plain`
/// (the whole input, plain), else copied.
fn hold<'a>(ev: LineEvent, plain: Option<&'a [u8]>, spare: &mut Vec<Vec<u8>>) -> Held<'a> {
    match ev {
        LineEvent::Block { bytes, line, byte } => {
            let at = usize::try_from(byte).unwrap_or(usize::MAX);
            let same = plain.and_then(|all| all.get(at..at.checked_add(bytes.len())?));
            if let Some(slice) = same {
                return Held::Block {
                    bytes: Bytes::Slice(slice),
                    line,
                    byte,
                };
            }
            let mut copy = spare.pop().unwrap_or_default();
            copy.clear();
            copy.extend_from_slice(bytes);
            Held::Block {
                bytes: Bytes::Copy(copy),
                line,
                byte,
            }
        }
        LineEvent::TooLong { line, byte } => Held::TooLong { line, byte },
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::ops::ControlFlow;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use proptest::prelude::*;

    use super::{map_lines, Piece, Source, IN_FLIGHT_PER_THREAD};
    use crate::input::{LineEvent, LineReader};

    /// What a piece says, line by line (blocks cut elsewhere say the same).
    #[derive(Debug, PartialEq)]
    enum Said {
        Line(u64, Vec<u8>),
        TooLong(u64),
        Broken(u64, String),
    }

    fn said(piece: &Piece) -> Vec<Said> {
        match piece {
            Piece::Lines(LineEvent::Block { bytes, line, .. }) => bytes
                .split_inclusive(|b| *b == b'\n')
                .zip(*line..)
                .map(|(l, n)| Said::Line(n, l.to_vec()))
                .collect(),
            Piece::Lines(LineEvent::TooLong { line, .. }) => vec![Said::TooLong(*line)],
            Piece::Broken { line, error, .. } => vec![Said::Broken(*line, error.to_string())],
        }
    }

    /// A stream that gives its bytes in reads of the sizes given, in turn.
    struct Chunked<'a> {
        bytes: &'a [u8],
        sizes: Vec<usize>,
        turn: usize,
    }

    impl Read for Chunked<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let size = self.sizes[self.turn % self.sizes.len()];
            self.turn += 1;
            let n = size.min(buf.len()).min(self.bytes.len());
            let (head, rest) = self.bytes.split_at(n);
            buf[..n].copy_from_slice(head);
            self.bytes = rest;
            Ok(n)
        }
    }

    /// Runs `map_lines` and gives what was emitted; checks that each result came with its
    /// own piece and that no more results were held at once than the bound.
    fn run(source: Source, threads: usize) -> Vec<Said> {
        let alive = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let work = |piece: &Piece| {
            let now = alive.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            said(piece)
        };
        let mut out = Vec::new();
        let lines = LineReader::new(u64::MAX, 100);
        map_lines(source, lines, threads, &work, &mut |piece, result| {
            alive.fetch_sub(1, Ordering::SeqCst);
            assert_eq!(
                said(&piece),
                result,
                "a result handed on with another piece"
            );
            out.extend(result);
            ControlFlow::Continue(())
        })
        .unwrap();
        let bound = if threads <= 1 {
            1
        } else {
            threads * IN_FLIGHT_PER_THREAD
        };
        assert!(most.into_inner() <= bound, "more results held than {bound}");
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any number of threads and any chunking of a stream hand on the same lines,
        /// lines too long, and breaks of a gzip stream, in input order.
        #[test]
        fn the_same_pieces_for_any_threads_and_chunking(
            lines in prop::collection::vec("[ab\r{}]{0,150}", 0..400),
            final_newline: bool,
            gzip: bool,
            cut: bool,
            threads in 2usize..5,
            sizes in prop::collection::vec(1usize..3000, 1..8),
        ) {
            let mut input = lines.join("\n").into_bytes();
            if final_newline {
                input.push(b'\n');
            }
            if gzip {
                input = crate::convert::gzip::compress(&input);
                if cut {
                    input.truncate(input.len() * 2 / 3);
                }
            }
            let one = run(Source::Bytes(&input), 1);
            prop_assert_eq!(&run(Source::Bytes(&input), threads), &one);
            let mut stream = Chunked { bytes: &input, sizes: sizes.clone(), turn: 0 };
            prop_assert_eq!(&run(Source::Read(&mut stream), threads), &one);
            let mut stream = Chunked { bytes: &input, sizes, turn: 0 };
            prop_assert_eq!(&run(Source::Read(&mut stream), 1), &one);
        }

        /// Stopping hands on nothing more.
        #[test]
        fn emit_can_stop(lines in prop::collection::vec("[ab]{0,20}", 1..200), threads in 1usize..4) {
            let input = lines.join("\n").into_bytes();
            let mut sizes = Chunked { bytes: &input, sizes: vec![7], turn: 0 };
            let mut calls = 0;
            let lines = LineReader::new(u64::MAX, 100);
            map_lines(Source::Read(&mut sizes), lines, threads, &|_: &Piece| (), &mut |_, ()| {
                calls += 1;
                ControlFlow::Break(())
            })
            .unwrap();
            prop_assert_eq!(calls, 1);
        }
    }
}
