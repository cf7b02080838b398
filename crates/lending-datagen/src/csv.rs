//! A small, fast, hand-rolled CSV writer.
//!
//! Fields are appended to an in-memory line buffer (infallible), and
//! [`CsvWriter::end_row`] flushes the line into a [`BufWriter`]. Values are
//! written plainly; a text field is quoted (RFC 4180 style, `"` doubled)
//! only when it contains a comma, a double quote, CR or LF. `NULL` is the
//! empty field. Money is written from integer cents with 2 decimals, rates
//! from integer units of 1/10 000 with 4 decimals, dates as `YYYY-MM-DD`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::date::Date;

/// Buffer size for each output file.
const BUF_SIZE: usize = 1 << 20;

/// Streaming CSV writer with typed field helpers.
pub struct CsvWriter<W: Write> {
    out: BufWriter<W>,
    line: Vec<u8>,
    at_row_start: bool,
    rows: u64,
}

impl CsvWriter<File> {
    /// Creates (truncating) `path` and writes the header row.
    pub fn create(path: &Path, header: &[&str]) -> io::Result<Self> {
        let file = File::create(path)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display())))?;
        CsvWriter::new(file, header)
    }
}

impl<W: Write> CsvWriter<W> {
    /// Wraps `inner` and writes the header row (not counted in [`Self::rows`]).
    pub fn new(inner: W, header: &[&str]) -> io::Result<Self> {
        let mut w = CsvWriter {
            out: BufWriter::with_capacity(BUF_SIZE, inner),
            line: Vec::with_capacity(256),
            at_row_start: true,
            rows: 0,
        };
        for h in header {
            w.str(h);
        }
        w.end_row()?;
        w.rows = 0;
        Ok(w)
    }

    fn sep(&mut self) {
        if self.at_row_start {
            self.at_row_start = false;
        } else {
            self.line.push(b',');
        }
    }

    /// Appends a text field, quoting it only if needed.
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.sep();
        if s.bytes().any(|c| matches!(c, b',' | b'"' | b'\n' | b'\r')) {
            self.line.push(b'"');
            for c in s.bytes() {
                if c == b'"' {
                    self.line.push(b'"');
                }
                self.line.push(c);
            }
            self.line.push(b'"');
        } else {
            self.line.extend_from_slice(s.as_bytes());
        }
        self
    }

    /// Appends an integer field.
    pub fn int(&mut self, v: i64) -> &mut Self {
        self.sep();
        push_int(&mut self.line, v);
        self
    }

    /// Appends an empty (NULL) field.
    pub fn null(&mut self) -> &mut Self {
        self.sep();
        self
    }

    /// Appends a `YYYY-MM-DD` date field.
    pub fn date(&mut self, d: Date) -> &mut Self {
        self.sep();
        d.write_iso(&mut self.line);
        self
    }

    /// Appends a date field, or NULL for `None`.
    pub fn opt_date(&mut self, d: Option<Date>) -> &mut Self {
        match d {
            Some(d) => self.date(d),
            None => self.null(),
        }
    }

    /// Appends a money field from integer cents (`12345` → `123.45`).
    pub fn money(&mut self, cents: i64) -> &mut Self {
        self.sep();
        push_fixed(&mut self.line, cents, 100, 2);
        self
    }

    /// Appends a money field, or NULL for `None`.
    pub fn opt_money(&mut self, cents: Option<i64>) -> &mut Self {
        match cents {
            Some(c) => self.money(c),
            None => self.null(),
        }
    }

    /// Appends a rate from units of 1/10 000 (`725` → `0.0725`).
    pub fn rate(&mut self, e4: i64) -> &mut Self {
        self.sep();
        push_fixed(&mut self.line, e4, 10_000, 4);
        self
    }

    /// Terminates the current row with `\n` and hands it to the buffer.
    pub fn end_row(&mut self) -> io::Result<()> {
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.line.clear();
        self.at_row_start = true;
        self.rows += 1;
        Ok(())
    }

    /// Data rows written so far (header excluded).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes everything and returns the number of data rows.
    pub fn finish(mut self) -> io::Result<u64> {
        self.out.flush()?;
        Ok(self.rows)
    }
}

fn push_int(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_uint(out, v.unsigned_abs());
}

fn push_uint(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Writes `v / scale` with exactly `digits` decimals (`scale = 10^digits`).
fn push_fixed(out: &mut Vec<u8>, v: i64, scale: u64, digits: usize) {
    if v < 0 {
        out.push(b'-');
    }
    let a = v.unsigned_abs();
    push_uint(out, a / scale);
    out.push(b'.');
    let mut frac = a % scale;
    let mut buf = [b'0'; 8];
    for i in (0..digits).rev() {
        buf[i] = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    out.extend_from_slice(&buf[..digits]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(f: impl FnOnce(&mut CsvWriter<&mut Vec<u8>>)) -> String {
        let mut out = Vec::new();
        {
            let mut w = match CsvWriter::new(&mut out, &["a", "b"]) {
                Ok(w) => w,
                Err(e) => panic!("{e}"),
            };
            f(&mut w);
            assert!(w.end_row().is_ok());
            assert!(w.finish().is_ok());
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn quoting_and_numbers() {
        let s = render(|w| {
            w.str("plain")
                .str("Smith, Jones")
                .str("say \"hi\"")
                .int(-42)
                .int(0)
                .null()
                .money(123_456)
                .money(5)
                .money(-250)
                .rate(725)
                .rate(12_345);
        });
        assert_eq!(
            s,
            "a,b\nplain,\"Smith, Jones\",\"say \"\"hi\"\"\",-42,0,,1234.56,0.05,-2.50,0.0725,1.2345\n"
        );
    }
}
