//! Opening files (plain or gzip) and reading them line by line with UTF-8 checks.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Opens `path` for buffered reading, decompressing gzip (detected by its magic bytes, so a
/// `.gz` suffix is optional).
pub(crate) fn open(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let io = |source| Error::Io { path: path.to_owned(), source };
    let mut file = BufReader::new(File::open(path).map_err(io)?);
    let head = file.fill_buf().map_err(io)?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(file))))
    } else {
        Ok(Box::new(file))
    }
}

/// Reads a whole file (decompressed) into memory.
pub(crate) fn read_all(path: &Path) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    open(path)?.read_to_end(&mut buf).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    Ok(buf)
}

/// Line reader that counts lines, strips `\r\n`, a UTF-8 byte-order mark, and checks UTF-8.
pub(crate) struct Lines {
    inner: Box<dyn BufRead + Send>,
    path: PathBuf,
    buf: Vec<u8>,
    line: usize,
}

impl Lines {
    pub(crate) fn open(path: &Path) -> Result<Self> {
        Ok(Self { inner: open(path)?, path: path.to_owned(), buf: Vec::new(), line: 0 })
    }

    pub(crate) fn from_bytes(path: &Path, bytes: Vec<u8>) -> Self {
        Self { inner: Box::new(std::io::Cursor::new(bytes)), path: path.to_owned(), buf: Vec::new(), line: 0 }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// 1-based number of the line last returned.
    pub(crate) fn line(&self) -> usize {
        self.line
    }

    /// The next line without its terminator, or `None` at the end of the file.
    pub(crate) fn next_line(&mut self) -> Result<Option<&str>> {
        self.buf.clear();
        let n = self
            .inner
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| Error::Io { path: self.path.clone(), source })?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        let mut bytes = &self.buf[..];
        if self.line == 1 {
            bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        }
        std::str::from_utf8(bytes).map(Some).map_err(|e| Error::NotUtf8 {
            path: self.path.clone(),
            line: self.line,
            byte: e.valid_up_to(),
        })
    }

    /// The next line that is not blank, or `None` at the end of the file.
    pub(crate) fn next_nonblank(&mut self) -> Result<Option<String>> {
        loop {
            match self.next_line()? {
                None => return Ok(None),
                Some(l) if l.trim().is_empty() => continue,
                Some(l) => return Ok(Some(l.to_owned())),
            }
        }
    }

    pub(crate) fn bad_field(&self, field: impl Into<String>, value: &str, expected: &'static str) -> Error {
        Error::BadField {
            path: self.path.clone(),
            line: self.line,
            field: field.into(),
            value: crate::error::shown(value),
            expected,
        }
    }
}

/// Splits a comma-separated line, dropping one empty trailing field (DKT files end lines with
/// a comma) and trimming spaces.
pub(crate) fn split_fields(line: &str) -> impl Iterator<Item = &str> {
    let line = line.trim();
    let line = line.strip_suffix(',').unwrap_or(line);
    line.split(',').map(str::trim)
}

/// Parses a 0/1 answer (also accepts `0.0`/`1.0`, which some exports write).
pub(crate) fn parse_answer(s: &str) -> Option<bool> {
    match s {
        "0" | "0.0" => Some(false),
        "1" | "1.0" => Some(true),
        _ => None,
    }
}

/// Bytes for the readers' no-panic property tests: arbitrary bytes, or a mix of arbitrary
/// bytes with the bytes and short texts that delimited formats give meaning to (separators,
/// quotes, line ends, digits, a BOM), so that some inputs get past the header.
#[cfg(test)]
pub(crate) fn fuzz_bytes() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let token = prop_oneof![
        1 => any::<u8>().prop_map(|b| vec![b]),
        6 => proptest::sample::select(b",\t\n\r\" 019.-".to_vec()).prop_map(|b| vec![b]),
        2 => "[a-z0-9\u{e9}]{1,4}".prop_map(String::into_bytes),
        1 => Just(b"\xef\xbb\xbf".to_vec()),
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        proptest::collection::vec(token, 0..120).prop_map(|t| t.concat()),
    ]
}

/// Lines of `fields` fields separated by `sep`, each field a small number, a short text, a
/// quote, `NaN`, empty or [`fuzz_bytes`]: inputs that mostly pass the row parser, so that the
/// no-panic tests reach the code that interprets the fields (look-ups between rows, repeated
/// and missing ids).
#[cfg(test)]
pub(crate) fn fuzz_rows(fields: usize, sep: u8) -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let field = prop_oneof![
        6 => "[0-3]".prop_map(String::into_bytes),
        3 => "[a-z \u{e9}\"]{0,4}".prop_map(String::into_bytes),
        1 => Just(b"NaN".to_vec()),
        1 => fuzz_bytes(),
    ];
    let line = prop_oneof![
        8 => proptest::collection::vec(field.clone(), fields..=fields),
        1 => proptest::collection::vec(field, 0..fields + 2),
    ];
    (proptest::collection::vec(line, 0..10), any::<bool>()).prop_map(move |(lines, crlf)| {
        let mut out = Vec::new();
        for l in lines {
            out.extend(l.join(&sep));
            out.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
        out
    })
}
