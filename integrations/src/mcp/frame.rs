//! stdio framing: one JSON-RPC message per line.
//!
//! The threat: a reader that splits or joins messages differently from the peers on either side.
//! A proxy that takes two lines for one (or one for two) judges a message nobody sent and forwards
//! one it never judged. So a line is exactly the bytes up to a `\n`, kept as they are (a `\r`
//! before it included) so that what is forwarded is byte for byte what arrived; reads may end
//! anywhere (a pipe delivers what the writer wrote so far), and a line longer than the limit is
//! consumed to its end and reported, never cut into pieces that would each pass for a message.

use std::io::{self, BufRead};

/// The longest message handled: MCP results of several MiB (file contents, images) are normal.
pub const MAX_LINE: usize = 64 << 20;

/// What [`read_line`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line is in the buffer, without its `\n`; `ended` says whether it had one (the last line
    /// of a stream may not).
    Whole { ended: bool },
    /// A line over the limit was read to its end and dropped; the buffer is empty.
    TooLong,
    /// No more input.
    End,
}

/// Reads the next line into `line` (cleared first), holding at most `max` bytes of it.
pub fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>, max: usize) -> io::Result<Line> {
    line.clear();
    let mut too_long = false;
    loop {
        let chunk = match input.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(match (too_long, line.is_empty()) {
                (true, _) => Line::TooLong,
                (false, true) => Line::End,
                (false, false) => Line::Whole { ended: false },
            });
        }
        let newline = chunk.iter().position(|&b| b == b'\n');
        let part = match newline {
            Some(at) => chunk.get(..at).unwrap_or(chunk),
            None => chunk,
        };
        if !too_long && line.len() + part.len() <= max {
            line.extend_from_slice(part);
        } else {
            too_long = true;
            line.clear();
        }
        let used = newline.map_or(chunk.len(), |at| at + 1);
        input.consume(used);
        if newline.is_some() {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Whole { ended: true }
            });
        }
    }
}

/// The message text of a line: without a trailing `\r`.
pub fn text(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<(Line, Vec<u8>)> {
        // A tiny buffer: every line arrives in several partial reads.
        let mut reader = std::io::BufReader::with_capacity(3, input);
        let mut out = Vec::new();
        let mut line = Vec::new();
        loop {
            match read_line(&mut reader, &mut line, max).unwrap() {
                Line::End => return out,
                read => out.push((read, line.clone())),
            }
        }
    }

    #[test]
    fn lines_keep_their_bytes_across_partial_reads() {
        let got = lines(b"{\"a\":1}\r\n\n{\"b\":2}\nlast", 100);
        let want: [(Line, &[u8]); 4] = [
            (Line::Whole { ended: true }, b"{\"a\":1}\r"),
            (Line::Whole { ended: true }, b""),
            (Line::Whole { ended: true }, b"{\"b\":2}"),
            (Line::Whole { ended: false }, b"last"),
        ];
        assert_eq!(got.len(), want.len());
        for ((read, line), (want_read, want_line)) in got.iter().zip(want) {
            assert_eq!((read, line.as_slice()), (&want_read, want_line));
        }
        assert_eq!(text(b"x\r"), b"x");
    }

    #[test]
    fn an_overlong_line_is_dropped_whole_and_reading_goes_on() {
        let got = lines(b"0123456789\nok\n0123456789", 5);
        let reads: Vec<&Line> = got.iter().map(|(r, _)| r).collect();
        assert_eq!(
            reads,
            [&Line::TooLong, &Line::Whole { ended: true }, &Line::TooLong]
        );
        assert_eq!(got[1].1, b"ok");
        assert_eq!(lines(b"01234\n", 5)[0].0, Line::Whole { ended: true });
    }
}
