//! Line-per-field sequence formats: DKVMN/DKT 3-line and AKT 3/4-line.
//!
//! - DKVMN 3-line (Zhang et al., WWW 2017; Piech et al., NeurIPS 2015): `n` / `id,…` / `0|1,…`.
//!   Ids are skill ids (1-based in DKVMN and AKT files, 0-based in DKT files); items are the
//!   skills themselves, as those files have no problem ids.
//! - AKT (Ghosh et al., KDD 2020): `uid_index,original_uid` / problem ids / skill ids / answers
//!   (`*_pid` sets), or `uid_index,original_uid` / skill ids / answers.

use std::path::Path;

use attune_core::{Dataset, DatasetBuilder, SkillId, Vocab};

use crate::source::{Lines, parse_answer, split_fields};
use crate::{Error, Result};

/// Which ids a sequence file may use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum IdBase {
    /// Ids start at 0 (DKT files).
    Zero,
    /// Ids start at 1; 0 is rejected because DKVMN and AKT use it for padding.
    #[default]
    One,
}

/// The layout of each record of a sequence file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Layout {
    /// `n` / skill ids / answers.
    Dkvmn,
    /// `uid_index,original_uid` / skill ids / answers.
    AktSkills,
    /// `uid_index,original_uid` / problem ids / skill ids / answers.
    AktProblems,
}

/// Reads a sequence file into a dataset that extends `vocab`.
///
/// # Errors
/// A malformed count or id, an answer other than 0/1, lines of one record with different
/// lengths, a truncated record, an empty file, a non-UTF-8 line or an I/O error, each naming
/// the file and line.
pub fn read_sequences(path: &Path, layout: Layout, base: IdBase, vocab: Vocab) -> Result<Dataset> {
    read_lines(Lines::open(path)?, layout, base, vocab)
}

/// As [`read_sequences`] over bytes already in memory (`path` only names them in errors).
pub fn parse_sequences(path: &Path, bytes: Vec<u8>, layout: Layout, base: IdBase, vocab: Vocab) -> Result<Dataset> {
    read_lines(Lines::from_bytes(path, bytes), layout, base, vocab)
}

fn read_lines(mut lines: Lines, layout: Layout, base: IdBase, vocab: Vocab) -> Result<Dataset> {
    // DKVMN files carry no learner ids: a learner is `<file name up to its first dot>#<record>`,
    // the same for `x_train.csv` and `x_train.csv.gz`.
    let name = lines.path().file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.split('.').next().unwrap_or_default().to_owned();
    let mut b = DatasetBuilder::with_vocab(vocab);
    let mut record = 0usize;
    let mut problems: Vec<String> = Vec::new();
    let mut skills: Vec<String> = Vec::new();
    let mut positions: Vec<i64> = Vec::new();
    while let Some(head) = lines.next_nonblank()? {
        let (student_key, declared) = match layout {
            Layout::Dkvmn => {
                let n: usize =
                    head.trim().parse().map_err(|_| lines.bad_field("length", &head, "a count of answers"))?;
                (format!("{stem}#{record}"), Some(n))
            }
            Layout::AktSkills | Layout::AktProblems => {
                let mut f = split_fields(&head);
                let first = f.next().unwrap_or("");
                let key = f.next().filter(|s| !s.is_empty()).unwrap_or(first);
                if key.is_empty() {
                    return Err(lines.bad_field("learner", &head, "`uid_index,original_uid`"));
                }
                (key.to_owned(), None)
            }
        };
        record += 1;
        let mut expect = declared;
        problems.clear();
        if layout == Layout::AktProblems {
            let l = next_record_line(&mut lines, "problem ids")?;
            collect_ids(&lines, &l, "problem", base, &mut problems)?;
            check_len(&lines, "problem ids", problems.len(), &mut expect)?;
        }
        let l = next_record_line(&mut lines, "skill ids")?;
        skills.clear();
        collect_ids(&lines, &l, "skill", base, &mut skills)?;
        check_len(&lines, "skill ids", skills.len(), &mut expect)?;
        let answers = next_record_line(&mut lines, "answers")?;
        let student = b.student(&student_key);
        let mut k = 0usize;
        for (j, a) in split_fields(&answers).enumerate() {
            let correct = parse_answer(a).ok_or_else(|| lines.bad_field(format!("answer {}", j + 1), a, "0 or 1"))?;
            let Some(skill_name) = skills.get(j) else {
                k = j + 1;
                continue;
            };
            let skill = b.skill(skill_name);
            let item = if layout == Layout::AktProblems { b.item(&problems[j]) } else { b.item(skill_name) };
            let pos = positions.get(student.index()).copied().unwrap_or(0);
            if positions.len() <= student.index() {
                positions.resize(student.index() + 1, 0);
            }
            positions[student.index()] = pos + 1;
            b.push_row(student, item, &[skill] as &[SkillId], correct, pos);
            k = j + 1;
        }
        let mut exp = Some(skills.len());
        check_len(&lines, "answers", k, &mut exp)?;
    }
    if b.is_empty() {
        return Err(Error::Empty { path: lines.path().to_owned() });
    }
    Ok(b.finish())
}

fn next_record_line(lines: &mut Lines, missing: &'static str) -> Result<String> {
    match lines.next_line()? {
        Some(l) => Ok(l.to_owned()),
        None => Err(Error::Truncated { path: lines.path().to_owned(), line: lines.line(), missing }),
    }
}

fn collect_ids(lines: &Lines, line: &str, what: &'static str, base: IdBase, out: &mut Vec<String>) -> Result<()> {
    if line.trim().is_empty() {
        return Ok(());
    }
    for (j, f) in split_fields(line).enumerate() {
        let id: u64 =
            f.parse().map_err(|_| lines.bad_field(format!("{what} {}", j + 1), f, "a non-negative integer id"))?;
        if base == IdBase::One && id == 0 {
            return Err(lines.bad_field(format!("{what} {}", j + 1), f, "an id >= 1 (0 is padding in 1-based files)"));
        }
        out.push(id.to_string());
    }
    Ok(())
}

fn check_len(lines: &Lines, field: &'static str, got: usize, expect: &mut Option<usize>) -> Result<()> {
    match *expect {
        Some(e) if e != got => {
            Err(Error::LengthMismatch { path: lines.path().to_owned(), line: lines.line(), field, got, expected: e })
        }
        _ => {
            *expect = Some(got);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, layout: Layout, base: IdBase) -> Result<Dataset> {
        parse_sequences(Path::new("t.csv"), text.as_bytes().to_vec(), layout, base, Vocab::default())
    }

    #[test]
    fn reads_dkvmn_with_and_without_trailing_commas() {
        let ds = parse("3\n1,2,2\n1,0,1\n2\n5,5,\n0,1,\n", Layout::Dkvmn, IdBase::One).unwrap();
        assert_eq!(ds.len(), 5);
        assert_eq!(ds.n_learners(), 2);
        assert_eq!(ds.vocab().n_skills(), 3);
        assert_eq!(ds.correct(), &[true, false, true, false, true]);
        assert_eq!(ds.times(), &[0, 1, 2, 0, 1]);
    }

    #[test]
    fn zero_ids_are_padding_in_one_based_files() {
        let e = parse("1\n0\n1\n", Layout::Dkvmn, IdBase::One).unwrap_err();
        assert!(e.to_string().contains("t.csv:2"), "{e}");
        assert!(parse("1\n0\n1\n", Layout::Dkvmn, IdBase::Zero).is_ok());
    }

    #[test]
    fn reads_akt_four_line_records() {
        let ds = parse("1,100\n7,8\n3,3\n1,0\n", Layout::AktProblems, IdBase::One).unwrap();
        assert_eq!(ds.vocab().n_items(), 2);
        assert_eq!(ds.vocab().n_skills(), 1);
        assert_eq!(ds.vocab().students.name(0), Some("100"));
    }

    #[test]
    fn bad_input_names_file_line_and_field() {
        let cases = [
            ("2\n1,2\n1,2\n", "answer 2"),
            ("3\n1,2\n1,0\n", "skill ids has 2 values, expected 3"),
            ("2\n1,2\n1\n", "answers has 1 values, expected 2"),
            ("x\n1\n1\n", "field length"),
            ("2\n1,a\n1,1\n", "skill 2"),
            ("2\n1,2\n", "missing answers"),
            ("", "no interactions"),
        ];
        for (text, needle) in cases {
            let e = parse(text, Layout::Dkvmn, IdBase::One).unwrap_err().to_string();
            assert!(e.contains(needle) && e.starts_with("t.csv"), "{text:?}: {e}");
        }
    }

    #[test]
    fn non_utf8_is_an_error_with_its_line() {
        let e =
            parse_sequences(Path::new("t.csv"), b"1\n1\n\xff\n".to_vec(), Layout::Dkvmn, IdBase::One, Vocab::default())
                .unwrap_err();
        assert!(e.to_string().contains("t.csv:3: not valid UTF-8"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            for layout in [Layout::Dkvmn, Layout::AktSkills, Layout::AktProblems] {
                let _ = parse_sequences(Path::new("f"), bytes.clone(), layout, IdBase::One, Vocab::default());
            }
        }

        #[test]
        fn round_trips_generated_records(recs in proptest::collection::vec(proptest::collection::vec((1u32..20, proptest::bool::ANY), 1..30), 1..10)) {
            let mut text = String::new();
            for r in &recs {
                text += &format!("{}\n", r.len());
                text += &r.iter().map(|(s, _)| s.to_string()).collect::<Vec<_>>().join(",");
                text += "\n";
                text += &r.iter().map(|(_, c)| u8::from(*c).to_string()).collect::<Vec<_>>().join(",");
                text += "\n";
            }
            let ds = parse(&text, Layout::Dkvmn, IdBase::One).unwrap();
            proptest::prop_assert_eq!(ds.len(), recs.iter().map(Vec::len).sum::<usize>());
            proptest::prop_assert_eq!(ds.n_learners(), recs.len());
            let flat: Vec<bool> = recs.iter().flatten().map(|&(_, c)| c).collect();
            proptest::prop_assert_eq!(ds.correct(), &flat[..]);
        }
    }
}
