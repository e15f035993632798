//! Where converted bytes go: plain or gzip-compressed, over any `io::Write`.

use std::io::{self, Write};

use flate2::write::GzEncoder;

/// An output, compressed with gzip or not.
pub enum Output<W: Write> {
    Plain(W),
    Gzip(GzEncoder<W>),
}

impl<W: Write> Output<W> {
    /// A gzip output when `gzip`, else a plain one.
    pub fn new(inner: W, gzip: bool) -> Self {
        if gzip {
            Output::Gzip(super::gzip::encoder(inner))
        } else {
            Output::Plain(inner)
        }
    }

    /// The output the bytes land in (compressed ones for gzip).
    pub fn get_mut(&mut self) -> &mut W {
        match self {
            Output::Plain(w) => w,
            Output::Gzip(g) => g.get_mut(),
        }
    }

    /// Ends a gzip stream (its trailer) without giving the output up; nothing for plain.
    pub fn end(&mut self) -> io::Result<()> {
        match self {
            Output::Plain(w) => w.flush(),
            Output::Gzip(g) => g.try_finish(),
        }
    }

    /// Ends the output and gives it back, flushed.
    pub fn finish(self) -> io::Result<W> {
        let mut inner = match self {
            Output::Plain(w) => w,
            Output::Gzip(g) => g.finish()?,
        };
        inner.flush()?;
        Ok(inner)
    }
}

impl Output<Vec<u8>> {
    /// Takes the bytes written so far (for a caller that hands output on in pieces).
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(self.get_mut())
    }
}

impl<W: Write> Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Plain(w) => w.write(buf),
            Output::Gzip(g) => g.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Output::Plain(w) => w.write_all(buf),
            Output::Gzip(g) => g.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Plain(w) => w.flush(),
            Output::Gzip(g) => g.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_output_round_trips_in_pieces() {
        let mut out = Output::new(Vec::new(), true);
        let mut all = Vec::new();
        for i in 0..1000 {
            writeln!(out, "line {i}").unwrap();
            all.extend(out.take());
        }
        out.end().unwrap();
        all.extend(out.take());
        let text: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        assert_eq!(
            super::super::gzip::decompress(&all).unwrap(),
            text.as_bytes()
        );
        let mut plain = Output::new(Vec::new(), false);
        plain.write_all(b"x").unwrap();
        assert_eq!(plain.finish().unwrap(), b"x");
    }
}
