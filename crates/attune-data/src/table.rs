//! Delimited tables with a header: Gervet et al.'s TSV, pyBKT / ASSISTments CSV, and any CSV or
//! TSV through a [`ColumnMapping`]; and Q-matrix files (`item_id,skill_id` pairs).

use std::collections::HashMap;
use std::path::Path;

use attune_core::{Dataset, DatasetBuilder, SkillId, Vocab};
use serde::{Deserialize, Serialize};

use crate::source::{parse_answer, read_all};
use crate::{Error, Result};

/// Which columns of a table hold what. Each role lists candidate column names; the first one
/// present in the header is used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMapping {
    /// Learner id column (required).
    pub student: Vec<String>,
    /// Item id column; when absent, the skill is the item.
    pub item: Vec<String>,
    /// Skill id column; when absent, the item is its own skill.
    pub skill: Vec<String>,
    /// Separator of several skills in one skill field (e.g. `~~` in KDD Cup files).
    pub skill_separator: Option<String>,
    /// Answer column (required), 0/1.
    pub correct: Vec<String>,
    /// Order or timestamp column; rows of a learner are sorted by it (stably) when present.
    pub time: Vec<String>,
    /// The time column holds seconds (so gaps are durations), not just an order.
    #[serde(default)]
    pub time_is_seconds: bool,
    /// Field delimiter; `None` sniffs tab or comma from the header line.
    pub delimiter: Option<u8>,
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

impl ColumnMapping {
    /// Gervet et al. (JEDM 2020) `preprocessed_data_*.csv`: tab-separated
    /// `user_id item_id timestamp correct skill_id`.
    pub fn gervet() -> Self {
        Self {
            student: names(&["user_id"]),
            item: names(&["item_id"]),
            skill: names(&["skill_id"]),
            skill_separator: None,
            correct: names(&["correct"]),
            time: names(&["timestamp"]),
            time_is_seconds: true,
            delimiter: Some(b'\t'),
        }
    }

    /// pyBKT's CSV (`user_id, skill_name, correct, order_id`) and the ASSISTments skill-builder
    /// columns (`user_id, problem_id, skill_name|skill_id, correct, order_id`).
    pub fn pybkt() -> Self {
        Self {
            student: names(&["user_id", "Anon Student Id"]),
            item: names(&["problem_id", "Problem Name"]),
            skill: names(&["skill_name", "skill_id", "KC(Default)"]),
            skill_separator: None,
            correct: names(&["correct", "Correct First Attempt"]),
            time: names(&["order_id", "Row"]),
            time_is_seconds: false,
            delimiter: None,
        }
    }
}

struct Columns {
    student: usize,
    item: Option<usize>,
    skill: Option<usize>,
    correct: usize,
    time: Option<usize>,
}

fn find(header: &csv::ByteRecord, candidates: &[String]) -> Option<usize> {
    candidates.iter().find_map(|c| header.iter().position(|h| h == c.as_bytes()))
}

/// Item → skills, read from a Q-matrix file.
#[derive(Clone, Debug, Default)]
pub struct QMatrix {
    skills: HashMap<String, Vec<String>>,
}

impl QMatrix {
    /// Reads `item_id,skill_id` lines (with a header; several lines per multi-skill item).
    ///
    /// # Errors
    /// I/O, non-UTF-8, a row without two fields, or an empty file.
    pub fn read(path: &Path) -> Result<Self> {
        Self::parse(path, &read_all(path)?)
    }

    /// As [`QMatrix::read`] over bytes in memory (`path` only names them in errors).
    ///
    /// # Errors
    /// Non-UTF-8, a row without two fields, or no rows.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let mut r = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(bytes);
        let mut q = Self::default();
        let mut rec = csv::ByteRecord::new();
        while next_record(&mut r, &mut rec, path)? {
            let line = line_of(&rec);
            let field = |k: usize, name: &str| -> Result<String> {
                let raw = rec.get(k).ok_or_else(|| Error::BadField {
                    path: path.to_owned(),
                    line,
                    field: name.to_owned(),
                    value: String::new(),
                    expected: "an item id and a skill id",
                })?;
                utf8(path, line, raw).map(|s| s.trim().to_owned())
            };
            let (item, skill) = (field(0, "item_id")?, field(1, "skill_id")?);
            q.skills.entry(item).or_default().push(skill);
        }
        if q.skills.is_empty() {
            return Err(Error::Empty { path: path.to_owned() });
        }
        Ok(q)
    }

    /// Every item with its skills, items sorted by id.
    pub fn items(&self) -> Vec<(String, Vec<String>)> {
        let mut items: Vec<_> = self.skills.iter().map(|(i, s)| (i.clone(), s.clone())).collect();
        items.sort_unstable();
        items
    }

    /// Skills of an item, if the matrix lists it.
    pub fn skills(&self, item: &str) -> Option<&[String]> {
        self.skills.get(item).map(Vec::as_slice)
    }

    /// Number of items listed.
    pub fn len(&self) -> usize {
        self.skills.len()
    }

    /// Whether no item is listed.
    pub fn is_empty(&self) -> bool {
        self.skills.is_empty()
    }
}

/// Reads the next record into `rec`; `false` at the end of the input.
fn next_record(r: &mut csv::Reader<&[u8]>, rec: &mut csv::ByteRecord, path: &Path) -> Result<bool> {
    r.read_byte_record(rec).map_err(|e| csv_error(path, e))
}

fn line_of(rec: &csv::ByteRecord) -> usize {
    rec.position().map_or(0, |p| p.line() as usize)
}

fn utf8<'a>(path: &Path, line: usize, raw: &'a [u8]) -> Result<&'a str> {
    std::str::from_utf8(raw).map_err(|e| Error::NotUtf8 { path: path.to_owned(), line, byte: e.valid_up_to() })
}

pub(crate) fn csv_error(path: &Path, e: csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line() as usize);
    match e.into_kind() {
        csv::ErrorKind::Io(source) => Error::Io { path: path.to_owned(), source },
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => Error::LengthMismatch {
            path: path.to_owned(),
            line,
            field: "row",
            got: len as usize,
            expected: expected_len as usize,
        },
        csv::ErrorKind::Utf8 { err, .. } => Error::NotUtf8 { path: path.to_owned(), line, byte: err.valid_up_to() },
        other => Error::BadField {
            path: path.to_owned(),
            line,
            field: "row".to_owned(),
            value: format!("{other:?}").chars().take(40).collect(),
            expected: "a well-formed CSV row",
        },
    }
}

/// Reads a delimited table with a header into a dataset that extends `vocab`. Skills of items
/// listed in `q` come from the Q-matrix instead of the skill column (Gervet's `skill_id` is a
/// skill *combination*; the Q-matrix has the individual skills).
///
/// # Errors
/// A missing mapped column, an answer other than 0/1, a time that is not a number, a row with
/// the wrong number of fields, a non-UTF-8 field, an empty table or I/O, each naming the file
/// and line.
pub fn read_table(path: &Path, mapping: &ColumnMapping, q: Option<&QMatrix>, vocab: Vocab) -> Result<Dataset> {
    let bytes = read_all(path)?;
    parse_table(path, &bytes, mapping, q, vocab)
}

/// As [`read_table`] over bytes in memory (`path` only names them in errors).
pub fn parse_table(
    path: &Path,
    bytes: &[u8],
    mapping: &ColumnMapping,
    q: Option<&QMatrix>,
    vocab: Vocab,
) -> Result<Dataset> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let delimiter = mapping.delimiter.unwrap_or(if first_line.contains(&b'\t') { b'\t' } else { b',' });
    let mut r = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(true).from_reader(bytes);
    let header = r.byte_headers().map_err(|e| csv_error(path, e))?.clone();
    if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
        return Err(Error::Empty { path: path.to_owned() });
    }
    utf8(path, 1, header.as_slice())?;
    let missing = |role: &[String]| Error::UnknownColumn {
        path: path.to_owned(),
        column: role.join("|"),
        available: header.iter().map(String::from_utf8_lossy).collect::<Vec<_>>().join(", "),
    };
    let cols = Columns {
        student: find(&header, &mapping.student).ok_or_else(|| missing(&mapping.student))?,
        item: find(&header, &mapping.item),
        skill: find(&header, &mapping.skill),
        correct: find(&header, &mapping.correct).ok_or_else(|| missing(&mapping.correct))?,
        time: find(&header, &mapping.time),
    };
    if cols.item.is_none() && cols.skill.is_none() {
        return Err(missing(&[mapping.item.clone(), mapping.skill.clone()].concat()));
    }
    let header_name = |k: usize| String::from_utf8_lossy(&header[k]).into_owned();
    let mut b = DatasetBuilder::with_vocab(vocab);
    b.sort_by_time(cols.time.is_some());
    b.timestamps(cols.time.is_some() && mapping.time_is_seconds);
    let mut rec = csv::ByteRecord::new();
    let mut skill_buf: Vec<SkillId> = Vec::new();
    let mut row = 0i64;
    while next_record(&mut r, &mut rec, path)? {
        let line = line_of(&rec);
        let get = |k: usize| utf8(path, line, &rec[k]).map(str::trim);
        let bad = |k: usize, value: &str, expected: &'static str| Error::BadField {
            path: path.to_owned(),
            line,
            field: header_name(k),
            value: crate::error::shown(value),
            expected,
        };
        let student = get(cols.student)?;
        if student.is_empty() {
            return Err(bad(cols.student, student, "a learner id"));
        }
        let correct_raw = get(cols.correct)?;
        let correct = parse_answer(correct_raw).ok_or_else(|| bad(cols.correct, correct_raw, "0 or 1"))?;
        let time = match cols.time {
            Some(k) => {
                let t = get(k)?;
                t.parse::<i64>()
                    .or_else(|_| t.parse::<f64>().map(|x| x as i64).map_err(|_| ()))
                    .map_err(|()| bad(k, t, "an integer or decimal order key"))?
            }
            None => row,
        };
        row += 1;
        let skill_field = cols.skill.map(get).transpose()?.unwrap_or("");
        let item_name = match cols.item.map(get).transpose()? {
            Some(i) if !i.is_empty() => i,
            Some(i) => return Err(bad(cols.item.unwrap_or(0), i, "an item id")),
            None => skill_field,
        };
        skill_buf.clear();
        if let Some(q) = q {
            // The Q-matrix is authoritative: an item it does not list has no skills, rather
            // than the skill column's id, which lives in another namespace (Gervet's column
            // holds skill *combinations*).
            for s in q.skills(item_name).unwrap_or(&[]) {
                skill_buf.push(b.skill(s));
            }
        } else if cols.skill.is_some() {
            match &mapping.skill_separator {
                Some(sep) => {
                    for s in skill_field.split(sep.as_str()).map(str::trim).filter(|s| !s.is_empty()) {
                        skill_buf.push(b.skill(s));
                    }
                }
                None if !skill_field.is_empty() => skill_buf.push(b.skill(skill_field)),
                None => {}
            }
        } else {
            skill_buf.push(b.skill(item_name));
        }
        let s = b.student(student);
        let i = b.item(item_name);
        b.push_row(s, i, &skill_buf, correct, time);
    }
    if b.is_empty() {
        return Err(Error::Empty { path: path.to_owned() });
    }
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, m: &ColumnMapping) -> Result<Dataset> {
        parse_table(Path::new("t.csv"), text.as_bytes(), m, None, Vocab::default())
    }

    #[test]
    fn reads_gervet_tsv_sorted_by_time_per_learner() {
        let t = "user_id\titem_id\ttimestamp\tcorrect\tskill_id\n5\t1\t20\t0\t3\n5\t2\t10\t1\t3\n6\t1\t0\t1\t3\n";
        let ds = parse(t, &ColumnMapping::gervet()).unwrap();
        assert_eq!(ds.len(), 3);
        assert_eq!(ds.times(), &[10, 20, 0]);
        assert_eq!(ds.correct(), &[true, false, true]);
    }

    #[test]
    fn reads_pybkt_csv_with_bom_and_alternative_columns() {
        let t = "\u{feff}order_id,user_id,skill_name,correct\n2,a,Area,1\n1,a,Area,0\n3,b,Volume,1\n";
        let ds = parse(t, &ColumnMapping::pybkt()).unwrap();
        assert_eq!(ds.vocab().n_skills(), 2);
        assert_eq!(ds.correct(), &[false, true, true]);
        // no item column: the skill is the item
        assert_eq!(ds.vocab().n_items(), 2);
    }

    #[test]
    fn q_matrix_replaces_the_combination_skill() {
        let dir = tempfile::tempdir().unwrap();
        let qp = dir.path().join("q_mat.csv");
        std::fs::write(&qp, "item_id,skill_id\n1,7\n1,8\n2,9\n").unwrap();
        let q = QMatrix::read(&qp).unwrap();
        let t = "user_id\titem_id\ttimestamp\tcorrect\tskill_id\n5\t1\t0\t0\t3\n5\t2\t0\t1\t4\n5\t3\t0\t1\t7\n";
        let ds =
            parse_table(Path::new("t"), t.as_bytes(), &ColumnMapping::gervet(), Some(&q), Vocab::default()).unwrap();
        assert_eq!(ds.skills(0).len(), 2);
        assert_eq!(ds.skills(1).len(), 1);
        // Item 3 is not in the Q-matrix: no skills; the column's "7" (a combination id) is
        // not mistaken for the Q-matrix skill "7".
        assert!(ds.skills(2).is_empty());
        assert_eq!(ds.vocab().n_skills(), 3);
    }

    #[test]
    fn bad_input_names_file_line_and_field() {
        let m = ColumnMapping::pybkt();
        let cases = [
            ("user_id,skill_name,correct\na,s,2\n", "t.csv:2: field correct = \"2\""),
            ("user_id,skill_name,correct,order_id\na,s,1,x\n", "field order_id"),
            ("user_id,skill_name,correct\na,s\n", "t.csv:2: row has 2 values, expected 3"),
            (
                "uid,skill_name,correct\na,s,1\n",
                "no column \"user_id|Anon Student Id\" in header (columns: uid, skill_name, correct)",
            ),
            ("user_id,skill_name,correct\n", "no interactions"),
            ("", "no interactions"),
        ];
        for (text, needle) in cases {
            let e = parse(text, &m).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
        let e = parse_table(Path::new("t.csv"), b"user_id,skill_name,correct\na\xff,s,1\n", &m, None, Vocab::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.csv:2: not valid UTF-8"), "{e}");
    }

    #[test]
    fn bad_q_matrix_names_file_line_and_field() {
        let cases: [(&[u8], &str); 3] = [
            (b"item_id,skill_id\n1,7\n2\n", "q.csv:3: field skill_id = \"\": an item id and a skill id"),
            (b"item_id,skill_id\n1,\xff\n", "q.csv:2: not valid UTF-8"),
            (b"item_id,skill_id\n", "q.csv: no interactions"),
        ];
        for (bytes, needle) in cases {
            let e = QMatrix::parse(Path::new("q.csv"), bytes).unwrap_err().to_string();
            assert!(e.contains(needle), "{:?}: {e}", String::from_utf8_lossy(bytes));
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = parse_table(Path::new("f"), &bytes, &ColumnMapping::pybkt(), None, Vocab::default());
            let mut with_header = b"user_id\titem_id\ttimestamp\tcorrect\tskill_id\n".to_vec();
            with_header.extend_from_slice(&bytes);
            let _ = parse_table(Path::new("f"), &with_header, &ColumnMapping::gervet(), None, Vocab::default());
        }

        #[test]
        fn q_matrix_never_panics(bytes in crate::source::fuzz_bytes()) {
            if let Ok(q) = QMatrix::parse(Path::new("q"), &bytes) {
                proptest::prop_assert!(!q.is_empty());
            }
            let mut with_header = b"item_id,skill_id\n".to_vec();
            with_header.extend_from_slice(&bytes);
            if let Ok(q) = QMatrix::parse(Path::new("q"), &with_header) {
                proptest::prop_assert!(!q.is_empty());
            }
        }

        /// Rows of (mostly) two fields after the header, to reach the field checks.
        #[test]
        fn q_matrix_near_valid_rows_never_panic(rows in crate::source::fuzz_rows(2, b',')) {
            let bytes = [&b"item_id,skill_id\n"[..], &rows].concat();
            if let Ok(q) = QMatrix::parse(Path::new("q"), &bytes) {
                proptest::prop_assert!(!q.is_empty());
            }
        }

        /// Generated `item,skill` pairs (quoted where needed, extra columns, BOM, CRLF) read
        /// back as the same item → skills lists, in file order.
        #[test]
        fn q_matrix_round_trips_generated_pairs(
            pairs in proptest::collection::vec(
                (
                    // A few short items, so that items repeat (multi-skill items).
                    proptest::prop_oneof!["[ab]", "[a-zA-Z0-9_é,\"]([a-zA-Z0-9_é ,\"]{0,6}[a-zA-Z0-9_é,\"])?"],
                    "[0-9a-z_,\"]{1,5}",
                    proptest::option::of("[a-z0-9 ]{0,4}"),
                ),
                1..40,
            ),
            bom in proptest::bool::ANY,
            crlf in proptest::bool::ANY,
        ) {
            let terminator = if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') };
            let mut w = csv::WriterBuilder::new().flexible(true).terminator(terminator).from_writer(Vec::new());
            w.write_record(["item_id", "skill_id"]).unwrap();
            for (item, skill, extra) in &pairs {
                match extra {
                    Some(x) => w.write_record([item, skill, x]).unwrap(),
                    None => w.write_record([item, skill]).unwrap(),
                }
            }
            let mut bytes = if bom { b"\xef\xbb\xbf".to_vec() } else { Vec::new() };
            bytes.extend(w.into_inner().unwrap());
            let q = QMatrix::parse(Path::new("q.csv"), &bytes).unwrap();
            let mut want: Vec<(&str, Vec<String>)> = Vec::new();
            for (item, skill, _) in &pairs {
                match want.iter_mut().find(|(i, _)| i == item) {
                    Some((_, skills)) => skills.push(skill.clone()),
                    None => want.push((item, vec![skill.clone()])),
                }
            }
            proptest::prop_assert_eq!(q.len(), want.len());
            for (item, skills) in &want {
                proptest::prop_assert_eq!(q.skills(item), Some(&skills[..]));
            }
        }
    }
}
