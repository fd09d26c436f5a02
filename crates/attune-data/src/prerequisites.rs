//! Prerequisite tables: which skills (exercises, subjects) come before which.
//!
//! - Junyi Academy's exercise table (Chang, Hsu & Chen, EDM 2015): `name,…,prerequisites,…`
//!   with several prerequisite names comma-separated inside one quoted field.
//! - Eedi's subject tree (NeurIPS 2020 Education Challenge): `SubjectId,Name,ParentId,Level`;
//!   a parent subject is taken to come before its children.

use std::collections::HashMap;
use std::path::Path;

use crate::source::read_all;
use crate::table::csv_error;
use crate::{Error, Result};

/// Nodes and `before → after` edges as named in the file; cycles and self-loops are kept
/// (the graph built from them reports and breaks them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrerequisiteTable {
    /// Every node, in file order.
    pub nodes: Vec<String>,
    /// Edges `(prerequisite, dependent)`.
    pub edges: Vec<(String, String)>,
}

/// Reads Junyi's `junyi_Exercise_table.csv` (plain or gzip; UTF-8 BOM allowed).
///
/// # Errors
/// I/O, non-UTF-8, a malformed row, a missing `name` or `prerequisites` column, or no rows.
pub fn read_junyi_prerequisites(path: &Path) -> Result<PrerequisiteTable> {
    parse_junyi_prerequisites(path, &read_all(path)?)
}

/// As [`read_junyi_prerequisites`] over bytes in memory, already decompressed (`path` only
/// names them in errors).
///
/// # Errors
/// Non-UTF-8, a malformed row, a row without an exercise name, a missing `name` or
/// `prerequisites` column, or no rows, each naming the file and line.
pub fn parse_junyi_prerequisites(path: &Path, bytes: &[u8]) -> Result<PrerequisiteTable> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut r = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let header = r.headers().map_err(|e| csv_error(path, e))?.clone();
    let col = |name: &str| column(path, &header, name);
    let (name_col, pre_col) = (col("name")?, col("prerequisites")?);
    let mut table = PrerequisiteTable::default();
    for rec in r.records() {
        let rec = rec.map_err(|e| csv_error(path, e))?;
        let line = line_of(&rec);
        let name = rec.get(name_col).unwrap_or("").trim();
        if name.is_empty() {
            return Err(Error::BadField {
                path: path.to_owned(),
                line,
                field: "name".into(),
                value: String::new(),
                expected: "an exercise name",
            });
        }
        table.nodes.push(name.to_owned());
        for pre in rec.get(pre_col).unwrap_or("").split(',').map(str::trim).filter(|p| !p.is_empty()) {
            table.edges.push((pre.to_owned(), name.to_owned()));
        }
    }
    if table.nodes.is_empty() {
        return Err(Error::Empty { path: path.to_owned() });
    }
    Ok(table)
}

/// Reads Eedi's `subject_metadata.csv` (plain or gzip; UTF-8 BOM allowed): nodes are
/// `Name (SubjectId)`, in file order, and edges parent → child; a `ParentId` that names no
/// subject of the file (`NaN` or empty for the root) gives no edge.
///
/// # Errors
/// As [`read_junyi_prerequisites`], and an empty or repeated `SubjectId`.
pub fn read_eedi_subjects(path: &Path) -> Result<PrerequisiteTable> {
    parse_eedi_subjects(path, &read_all(path)?)
}

/// As [`read_eedi_subjects`] over bytes in memory, already decompressed (`path` only names
/// them in errors).
///
/// # Errors
/// Non-UTF-8, a malformed row, a missing `SubjectId`, `Name` or `ParentId` column, an empty
/// or repeated `SubjectId`, or no rows, each naming the file and line.
pub fn parse_eedi_subjects(path: &Path, bytes: &[u8]) -> Result<PrerequisiteTable> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut r = csv::ReaderBuilder::new().from_reader(bytes);
    let header = r.headers().map_err(|e| csv_error(path, e))?.clone();
    let col = |name: &str| column(path, &header, name);
    let (id_col, name_col, parent_col) = (col("SubjectId")?, col("Name")?, col("ParentId")?);
    let mut rows = Vec::new();
    let mut label: HashMap<String, String> = HashMap::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| csv_error(path, e))?;
        let line = line_of(&rec);
        let id = rec.get(id_col).unwrap_or("").trim();
        let name = rec.get(name_col).unwrap_or("").trim();
        let parent = rec.get(parent_col).unwrap_or("").trim();
        let bad = |expected| Error::BadField {
            path: path.to_owned(),
            line,
            field: "SubjectId".into(),
            value: crate::error::shown(id),
            expected,
        };
        if id.is_empty() {
            return Err(bad("a subject id"));
        }
        // A repeated id would make the earlier subject's node carry the later one's name.
        if label.insert(id.to_owned(), format!("{name} ({id})")).is_some() {
            return Err(bad("a subject id not used on an earlier row"));
        }
        rows.push((id.to_owned(), parent.to_owned()));
    }
    let mut table = PrerequisiteTable::default();
    for (id, parent) in &rows {
        let Some(node) = label.get(id) else { continue };
        table.nodes.push(node.clone());
        if let Some(p) = label.get(parent) {
            table.edges.push((p.clone(), node.clone()));
        }
    }
    if table.nodes.is_empty() {
        return Err(Error::Empty { path: path.to_owned() });
    }
    Ok(table)
}

/// 1-based line on which a record starts.
fn line_of(rec: &csv::StringRecord) -> usize {
    rec.position().map_or(0, |p| p.line() as usize)
}

/// The index of column `name` in `header`, or an error listing the columns there are.
fn column(path: &Path, header: &csv::StringRecord, name: &str) -> Result<usize> {
    header.iter().position(|h| h == name).ok_or_else(|| Error::UnknownColumn {
        path: path.to_owned(),
        column: name.to_owned(),
        available: header.iter().collect::<Vec<_>>().join(", "),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn reads_quoted_multi_prerequisites() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.csv");
        std::fs::write(&p, "\u{feff}name,live,prerequisites\na,TRUE,\nb,TRUE,a\nc,TRUE,\"a,b\"\n").unwrap();
        let t = read_junyi_prerequisites(&p).unwrap();
        assert_eq!(t.nodes, ["a", "b", "c"]);
        assert_eq!(t.edges, [("a".into(), "b".into()), ("a".into(), "c".into()), ("b".into(), "c".into())]);
        std::fs::write(&p, "title,prerequisites\nx,y\n").unwrap();
        assert!(read_junyi_prerequisites(&p).unwrap_err().to_string().contains("no column \"name\""));
    }

    #[test]
    fn reads_eedi_subject_tree_from_a_gzip_file() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("subject_metadata.csv.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"SubjectId,Name,ParentId,Level\n3,Maths,NaN,0\n32,Number,3,1\n33,\"Factors, Multiples\",32,2\n")
            .unwrap();
        std::fs::write(&p, gz.finish().unwrap()).unwrap();
        let t = read_eedi_subjects(&p).unwrap();
        assert_eq!(t.nodes, ["Maths (3)", "Number (32)", "Factors, Multiples (33)"]);
        assert_eq!(
            t.edges,
            [("Maths (3)".into(), "Number (32)".into()), ("Number (32)".into(), "Factors, Multiples (33)".into())]
        );
    }

    #[test]
    fn bad_input_names_file_line_and_field() {
        let junyi = |t: &str| parse_junyi_prerequisites(Path::new("j.csv"), t.as_bytes()).unwrap_err().to_string();
        let eedi = |t: &str| parse_eedi_subjects(Path::new("e.csv"), t.as_bytes()).unwrap_err().to_string();
        let cases = [
            (junyi("name,prerequisites\na,\n\" \",a\n"), "j.csv:3: field name = \"\": an exercise name"),
            (junyi("name,prerequisites\na,\nb\n"), "j.csv:3: row has 1 values, expected 2"),
            (junyi("name,prerequisites\n"), "j.csv: no interactions"),
            (junyi(""), "j.csv: no column \"name\""),
            (eedi("SubjectId,Name,ParentId,Level\n1,A,,0\n,B,1,1\n"), "e.csv:3: field SubjectId = \"\": a subject id"),
            (
                eedi("SubjectId,Name,ParentId,Level\n1,A,,0\n2,B,1,1\n1,C,2,2\n"),
                "e.csv:4: field SubjectId = \"1\": a subject id not used on an earlier row",
            ),
            (
                eedi("SubjectId,Name,Level\n1,A,0\n"),
                "e.csv: no column \"ParentId\" in header (columns: SubjectId, Name, Level)",
            ),
        ];
        for (e, needle) in cases {
            assert!(e.contains(needle), "{e} lacks {needle}");
        }
        let e = parse_eedi_subjects(Path::new("e.csv"), b"SubjectId,Name,ParentId\n1,\xff,\n").unwrap_err().to_string();
        assert!(e.starts_with("e.csv:2: not valid UTF-8"), "{e}");
    }

    /// A name as the files hold it: no surrounding spaces (the readers trim), no comma (a
    /// Junyi prerequisite list is comma-separated), but quotes, brackets and non-ASCII.
    fn name() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9_é中'\"().-]([a-zA-Z0-9_é中'\" ().-]{0,8}[a-zA-Z0-9_é中'\"().-])?"
    }

    /// `rows` as CSV with the given column order (each row's fields by column name).
    fn csv_bytes(columns: &[&str], rows: &[HashMap<&str, String>], bom: bool, crlf: bool) -> Vec<u8> {
        let terminator = if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') };
        let mut w = csv::WriterBuilder::new().terminator(terminator).from_writer(Vec::new());
        w.write_record(columns).unwrap();
        for row in rows {
            w.write_record(columns.iter().map(|c| row[c].as_str())).unwrap();
        }
        let mut out = if bom { b"\xef\xbb\xbf".to_vec() } else { Vec::new() };
        out.extend(w.into_inner().unwrap());
        out
    }

    proptest! {
        #[test]
        fn never_panics(bytes in crate::source::fuzz_bytes()) {
            let _ = parse_junyi_prerequisites(Path::new("f"), &bytes);
            let _ = parse_eedi_subjects(Path::new("f"), &bytes);
            // The same bytes after a valid header, to reach the row parsers.
            for header in [&b"name,prerequisites\n"[..], b"SubjectId,Name,ParentId,Level\n"] {
                let mut with_header = header.to_vec();
                with_header.extend_from_slice(&bytes);
                if let Ok(t) = parse_junyi_prerequisites(Path::new("f"), &with_header) {
                    prop_assert!(!t.nodes.is_empty());
                }
                if let Ok(t) = parse_eedi_subjects(Path::new("f"), &with_header) {
                    prop_assert!(!t.nodes.is_empty());
                    prop_assert!(t.edges.iter().all(|(a, b)| t.nodes.contains(a) && t.nodes.contains(b)));
                }
            }
        }

        /// Rows with (mostly) the header's number of fields, so that names, repeated and
        /// unknown ids and parent look-ups are exercised, not only the CSV parser.
        #[test]
        fn near_valid_rows_never_panic(
            junyi in crate::source::fuzz_rows(3, b','),
            eedi in crate::source::fuzz_rows(4, b','),
        ) {
            let junyi = [&b"name,live,prerequisites\n"[..], &junyi].concat();
            if let Ok(t) = parse_junyi_prerequisites(Path::new("f"), &junyi) {
                prop_assert!(!t.nodes.is_empty() && t.nodes.iter().all(|n| !n.is_empty()));
                prop_assert!(t.edges.iter().all(|(_, b)| t.nodes.contains(b)));
            }
            let eedi = [&b"SubjectId,Name,ParentId,Level\n"[..], &eedi].concat();
            if let Ok(t) = parse_eedi_subjects(Path::new("f"), &eedi) {
                prop_assert!(!t.nodes.is_empty());
                prop_assert!(t.edges.iter().all(|(a, b)| t.nodes.contains(a) && t.nodes.contains(b)));
            }
        }

        #[test]
        fn junyi_round_trips_generated_tables(
            rows in proptest::collection::vec(
                (name(), proptest::collection::vec(name(), 0..4), "[a-zA-Z0-9 ,\"]{0,6}"),
                1..20,
            ),
            columns in Just(vec!["name", "live", "prerequisites", "topic"]).prop_shuffle(),
            spaced in any::<bool>(),
            bom in any::<bool>(),
            crlf in any::<bool>(),
        ) {
            let sep = if spaced { ", " } else { "," };
            let records: Vec<HashMap<&str, String>> = rows
                .iter()
                .map(|(n, pre, extra)| {
                    HashMap::from([
                        ("name", n.clone()),
                        ("prerequisites", pre.join(sep)),
                        ("live", "TRUE".to_owned()),
                        ("topic", extra.clone()),
                    ])
                })
                .collect();
            let t = parse_junyi_prerequisites(Path::new("j.csv"), &csv_bytes(&columns, &records, bom, crlf)).unwrap();
            let nodes: Vec<String> = rows.iter().map(|(n, _, _)| n.clone()).collect();
            let edges: Vec<(String, String)> =
                rows.iter().flat_map(|(n, pre, _)| pre.iter().map(move |p| (p.clone(), n.clone()))).collect();
            prop_assert_eq!(t.nodes, nodes);
            prop_assert_eq!(t.edges, edges);
        }

        #[test]
        fn eedi_round_trips_generated_trees(
            subjects in proptest::collection::btree_set(0u32..100_000, 1..20).prop_flat_map(|ids| {
                let n = ids.len();
                let ids = Just(ids.into_iter().collect::<Vec<_>>()).prop_shuffle();
                // Parent: 0 "NaN", 1 empty, 2 a subject of the file, 3 an id the file lacks.
                let rest = proptest::collection::vec(
                    ("[a-zA-Z0-9,'\"(]([a-zA-Z0-9 ,'\"()]{0,10}[a-zA-Z0-9,'\")])?", 0u8..4, 0..n, 0u8..5),
                    n,
                );
                (ids, rest)
            }),
            columns in Just(vec!["SubjectId", "Name", "ParentId", "Level"]).prop_shuffle(),
            bom in any::<bool>(),
            crlf in any::<bool>(),
        ) {
            let (ids, rest) = subjects;
            let parent = |&(_, kind, k, _): &(String, u8, usize, u8)| match kind {
                0 => "NaN".to_owned(),
                1 => String::new(),
                2 => ids[k].to_string(),
                _ => "100000".to_owned(),
            };
            let records: Vec<HashMap<&str, String>> = ids
                .iter()
                .zip(&rest)
                .map(|(id, r)| {
                    HashMap::from([
                        ("SubjectId", id.to_string()),
                        ("Name", r.0.clone()),
                        ("ParentId", parent(r)),
                        ("Level", r.3.to_string()),
                    ])
                })
                .collect();
            let t = parse_eedi_subjects(Path::new("e.csv"), &csv_bytes(&columns, &records, bom, crlf)).unwrap();
            let label: HashMap<String, String> =
                ids.iter().zip(&rest).map(|(id, r)| (id.to_string(), format!("{} ({id})", r.0))).collect();
            let nodes: Vec<String> = ids.iter().map(|id| label[&id.to_string()].clone()).collect();
            let edges: Vec<(String, String)> = ids
                .iter()
                .zip(&rest)
                .filter(|(_, r)| r.1 == 2)
                .map(|(id, r)| (label[&ids[r.2].to_string()].clone(), label[&id.to_string()].clone()))
                .collect();
            prop_assert_eq!(t.nodes, nodes);
            prop_assert_eq!(t.edges, edges);
        }
    }
}
