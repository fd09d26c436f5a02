//! Dataset folders as laid out in `shared/data` and `data/`: which files a folder holds and how
//! to read them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use attune_core::{Dataset, Vocab};

use crate::sequences::{IdBase, Layout, read_sequences};
use crate::table::{ColumnMapping, QMatrix, read_table};
use crate::{Error, Result};

/// The layout of a dataset folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FolderKind {
    /// DKVMN-style `<prefix>_train.csv` / `<prefix>_test.csv` (+ `_train{k}` / `_valid{k}`).
    Dkvmn {
        /// File-name prefix, e.g. `assist2009_updated`.
        prefix: String,
    },
    /// Gervet et al.'s `preprocessed_data_{train,test}.csv` + `q_mat.csv`.
    Gervet,
    /// AKT 5-fold `<prefix>_train{k}.csv` / `<prefix>_test{k}.csv`.
    Akt {
        /// File-name prefix, e.g. `assist2009_pid`.
        prefix: String,
        /// Record layout (4-line with problem ids for `*_pid` sets).
        layout: Layout,
    },
}

/// A dataset folder and its kind.
#[derive(Clone, Debug)]
pub struct DatasetFolder {
    /// The folder.
    pub path: PathBuf,
    /// How it is laid out.
    pub kind: FolderKind,
}

impl DatasetFolder {
    /// Recognises a folder's layout from the files in it (plain or `.gz`).
    ///
    /// # Errors
    /// [`Error::UnknownDataset`] if no known layout fits, [`Error::Io`] if it cannot be listed.
    pub fn open(path: &Path) -> Result<Self> {
        let entries = std::fs::read_dir(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .map(|n| n.strip_suffix(".gz").map(str::to_owned).unwrap_or(n))
            .collect();
        names.sort();
        let has = |n: &str| names.iter().any(|x| x == n);
        let kind = if has("preprocessed_data_train.csv") && has("preprocessed_data_test.csv") {
            FolderKind::Gervet
        } else if let Some(prefix) =
            names.iter().filter_map(|n| n.strip_suffix("_train.csv")).find(|p| has(&format!("{p}_test.csv")))
        {
            FolderKind::Dkvmn { prefix: prefix.to_owned() }
        } else if let Some(prefix) =
            names.iter().filter_map(|n| n.strip_suffix("_train1.csv")).find(|p| has(&format!("{p}_test1.csv")))
        {
            let name = format!("{prefix}_train1.csv");
            let file = resolve(path, &name)
                .ok_or_else(|| Error::UnknownDataset { path: path.to_owned(), reason: format!("missing {name}") })?;
            let first = first_line(&file)?;
            let layout = if prefix.ends_with("_pid") {
                Layout::AktProblems
            } else if first.contains(',') {
                Layout::AktSkills
            } else {
                Layout::Dkvmn
            };
            FolderKind::Akt { prefix: prefix.to_owned(), layout }
        } else {
            return Err(Error::UnknownDataset {
                path: path.to_owned(),
                reason: "no <name>_train.csv + <name>_test.csv, preprocessed_data_{train,test}.csv or <name>_train1.csv + <name>_test1.csv".into(),
            });
        };
        Ok(Self { path: path.to_owned(), kind })
    }

    /// The folder's name.
    pub fn name(&self) -> String {
        self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }

    /// The path of file `name` in the folder, preferring the plain file over `name.gz`.
    pub fn file(&self, name: &str) -> Option<PathBuf> {
        resolve(&self.path, name)
    }

    fn need(&self, name: &str) -> Result<PathBuf> {
        self.file(name)
            .ok_or_else(|| Error::UnknownDataset { path: self.path.clone(), reason: format!("missing {name}") })
    }

    /// Reads file `name` of this folder as the folder's format, extending `vocab`.
    ///
    /// # Errors
    /// As the folder format's reader.
    pub fn read(&self, name: &str, vocab: Vocab) -> Result<Dataset> {
        let path = self.need(name)?;
        match &self.kind {
            FolderKind::Dkvmn { .. } => read_sequences(&path, Layout::Dkvmn, IdBase::Zero, vocab),
            FolderKind::Akt { layout, .. } => read_sequences(&path, *layout, IdBase::Zero, vocab),
            FolderKind::Gervet => {
                let q = self.file("q_mat.csv").map(|p| QMatrix::read(&p)).transpose()?;
                read_table(&path, &ColumnMapping::gervet(), q.as_ref(), vocab)
            }
        }
    }

    /// Reads several files of the folder so that they share one set of id maps; every returned
    /// dataset carries the final maps.
    ///
    /// # Errors
    /// As [`DatasetFolder::read`].
    pub fn read_shared(&self, names: &[&str]) -> Result<Vec<Dataset>> {
        let mut out = Vec::with_capacity(names.len());
        let mut vocab = Vocab::default();
        for name in names {
            let ds = self.read(name, vocab)?;
            vocab = ds.vocab().clone();
            out.push(ds);
        }
        let shared = std::sync::Arc::new(vocab);
        out.into_iter().map(|d| d.with_vocab(std::sync::Arc::clone(&shared)).map_err(Error::from)).collect()
    }
}

impl DatasetFolder {
    /// The whole dataset: every learner once (train and test splits, and for AKT folders the
    /// validation chunk that `train1` leaves out), with one set of id maps.
    ///
    /// # Errors
    /// As [`DatasetFolder::read`]; [`Error::UnknownDataset`] if no part exists.
    pub fn read_all(&self) -> Result<Dataset> {
        let names: Vec<String> = match &self.kind {
            FolderKind::Dkvmn { prefix } => vec![format!("{prefix}_train.csv"), format!("{prefix}_test.csv")],
            FolderKind::Gervet => vec!["preprocessed_data_train.csv".into(), "preprocessed_data_test.csv".into()],
            FolderKind::Akt { prefix, .. } => {
                vec![format!("{prefix}_train1.csv"), format!("{prefix}_test1.csv"), format!("{prefix}_test2.csv")]
            }
        };
        let present: Vec<&str> = names.iter().map(String::as_str).filter(|n| self.file(n).is_some()).collect();
        if present.is_empty() {
            return Err(Error::UnknownDataset { path: self.path.clone(), reason: format!("none of {names:?}") });
        }
        let parts = self.read_shared(&present)?;
        Ok(Dataset::concat(&parts.iter().collect::<Vec<_>>())?)
    }

    /// Human-readable names of the folder's skill ids (as they appear in its files), from the
    /// name maps the datasets ship: DKVMN's `<prefix>_skill_mapping.txt` (`id<TAB>name`) or
    /// `<prefix>_qid_sid_sname` (`qid<TAB>skillid<TAB>skillname`, whose question ids are the
    /// DKVMN files' ids), plain or gzip, read by [`parse_skill_names`]. Empty when the folder
    /// has none.
    ///
    /// # Errors
    /// I/O or non-UTF-8 errors of a name file that exists.
    pub fn skill_names(&self) -> Result<HashMap<String, String>> {
        let prefix = match &self.kind {
            FolderKind::Dkvmn { prefix } | FolderKind::Akt { prefix, .. } => prefix,
            FolderKind::Gervet => return Ok(HashMap::new()),
        };
        let file = self
            .file(&format!("{prefix}_skill_mapping.txt"))
            .or_else(|| self.file(&format!("{prefix}_{QID_SID_SNAME}")));
        match file {
            Some(path) => parse_skill_names(&path, &crate::source::read_all(&path)?),
            None => Ok(HashMap::new()),
        }
    }
}

/// File-name ending of the `qid<TAB>skillid<TAB>skillname` name maps.
const QID_SID_SNAME: &str = "qid_sid_sname";

/// Reads a skill-name map already in memory and decompressed, as
/// [`DatasetFolder::skill_names`] does. `path` names the bytes in errors and picks the format
/// by its file name, as the folder does: a name ending in `qid_sid_sname` (or
/// `qid_sid_sname.gz`) is read as `qid<TAB>skillid<TAB>skillname`, where lines whose first
/// field is not a question number (the header) or whose name is empty are skipped and the
/// key is the number as the sequence readers write ids (`007` → `7`); any other as
/// `id<TAB>name`, where lines without a tab are skipped. Fields are trimmed; a UTF-8 BOM,
/// `\r\n` line ends and blank lines are allowed; a later line for an id replaces an earlier one.
///
/// # Errors
/// [`Error::NotUtf8`] naming the file and line.
pub fn parse_skill_names(path: &Path, bytes: &[u8]) -> Result<HashMap<String, String>> {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let qid_format = name.strip_suffix(".gz").unwrap_or(&name).ends_with(QID_SID_SNAME);
    let mut names = HashMap::new();
    let mut lines = crate::source::Lines::from_bytes(path, bytes.to_vec());
    while let Some(line) = lines.next_line()? {
        if qid_format {
            let mut f = line.split('\t').map(str::trim);
            if let (Some(qid), Some(_), Some(name)) = (f.next(), f.next(), f.next())
                && let Ok(qid) = qid.parse::<u64>()
                && !name.is_empty()
            {
                names.insert(qid.to_string(), name.to_owned());
            }
        } else if let Some((id, name)) = line.split_once('\t') {
            names.insert(id.trim().to_owned(), name.trim().to_owned());
        }
    }
    Ok(names)
}

/// `dir/name`, or `dir/name.gz` when only the compressed file exists.
fn resolve(dir: &Path, name: &str) -> Option<PathBuf> {
    let plain = dir.join(name);
    if plain.is_file() {
        return Some(plain);
    }
    let gz = dir.join(format!("{name}.gz"));
    gz.is_file().then_some(gz)
}

fn first_line(path: &Path) -> Result<String> {
    let mut lines = crate::source::Lines::open(path)?;
    Ok(lines.next_nonblank()?.unwrap_or_default())
}

/// The datasets vendored under a data directory (each sub-folder with a known layout), sorted
/// by name.
pub fn list_folders(root: &Path) -> Result<Vec<DatasetFolder>> {
    let entries = std::fs::read_dir(root).map_err(|source| Error::Io { path: root.to_owned(), source })?;
    let mut out: Vec<DatasetFolder> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| DatasetFolder::open(&e.path()).ok())
        .collect();
    out.sort_by_key(DatasetFolder::name);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// An id of a `_skill_mapping.txt`: no tab, no line break, no surrounding spaces; often
    /// one of a few, so that ids repeat.
    fn id() -> impl Strategy<Value = String> {
        prop_oneof!["[0-2]", "[0-9A-Za-z_]{1,6}"]
    }

    /// A skill name: anything but tabs and line breaks, without surrounding white space.
    fn skill_name() -> impl Strategy<Value = String> {
        "[^\\s]([^\t\r\n]{0,12}[^\\s])?"
    }

    fn text(lines: &[String], bom: bool, crlf: bool) -> Vec<u8> {
        let end = if crlf { "\r\n" } else { "\n" };
        let mut out = if bom { "\u{feff}".to_owned() } else { String::new() };
        for l in lines {
            out += l;
            out += end;
        }
        out.into_bytes()
    }

    #[test]
    fn folder_reads_its_name_map_plain_or_gzip() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        for f in ["x_train.csv", "x_test.csv"] {
            std::fs::write(dir.path().join(f), "1\n1\n1\n").unwrap();
        }
        let folder = DatasetFolder::open(dir.path()).unwrap();
        assert!(folder.skill_names().unwrap().is_empty());
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"qid\tskillid\tskillname\n007\t1\tForces\n8\t2\t\n").unwrap();
        std::fs::write(dir.path().join("x_qid_sid_sname.gz"), gz.finish().unwrap()).unwrap();
        assert_eq!(folder.skill_names().unwrap(), HashMap::from([("7".to_owned(), "Forces".to_owned())]));
        // The `_skill_mapping.txt` map is preferred.
        std::fs::write(dir.path().join("x_skill_mapping.txt"), "1\t Area \n2\tVolume\nno tab here\n").unwrap();
        let want = HashMap::from([("1".to_owned(), "Area".to_owned()), ("2".to_owned(), "Volume".to_owned())]);
        assert_eq!(folder.skill_names().unwrap(), want);
        std::fs::write(dir.path().join("x_skill_mapping.txt"), b"1\tArea\n2\tVol\xffume\n").unwrap();
        let e = folder.skill_names().unwrap_err().to_string();
        assert!(e.ends_with("x_skill_mapping.txt:2: not valid UTF-8 (byte 5 of the line)"), "{e}");
    }

    proptest! {
        #[test]
        fn skill_names_never_panic(bytes in crate::source::fuzz_bytes()) {
            for name in ["x_skill_mapping.txt", "x_qid_sid_sname", "x_qid_sid_sname.gz"] {
                let _ = parse_skill_names(Path::new(name), &bytes);
            }
        }

        /// Tab-separated rows, so that the field checks are exercised, not only line splitting.
        #[test]
        fn near_valid_name_maps_never_panic(
            mapping in crate::source::fuzz_rows(2, b'\t'),
            qid in crate::source::fuzz_rows(3, b'\t'),
        ) {
            let _ = parse_skill_names(Path::new("x_skill_mapping.txt"), &mapping);
            let qid = [&b"qid\tskillid\tskillname\n"[..], &qid].concat();
            if let Ok(names) = parse_skill_names(Path::new("x_qid_sid_sname"), &qid) {
                prop_assert!(names.iter().all(|(k, v)| k.parse::<u64>().is_ok() && !v.is_empty()));
            }
        }

        /// `id<TAB>name` lines (with lines without a tab and blank lines between them) read
        /// back as the map of their ids, the last line of an id winning.
        #[test]
        fn skill_mapping_round_trips(
            entries in proptest::collection::vec((id(), skill_name(), 0u8..4), 0..30),
            bom in any::<bool>(),
            crlf in any::<bool>(),
        ) {
            let mut lines = Vec::new();
            let mut want = HashMap::new();
            for (id, name, noise) in &entries {
                match noise {
                    0 => lines.push(String::new()),
                    1 => lines.push(format!("comment {id}")),
                    _ => {}
                }
                lines.push(if *noise == 3 { format!(" {id} \t {name}") } else { format!("{id}\t{name}") });
                want.insert(id.clone(), name.clone());
            }
            let got = parse_skill_names(Path::new("x_skill_mapping.txt"), &text(&lines, bom, crlf)).unwrap();
            prop_assert_eq!(got, want);
        }

        /// `qid<TAB>skillid<TAB>skillname` lines after the header read back as question number
        /// → name, whatever the leading zeros, spaces and extra fields; lines with an empty
        /// name are skipped.
        #[test]
        fn qid_sid_sname_round_trips(
            entries in proptest::collection::vec((0u64..40, 0u32..300, skill_name(), 0usize..3, 0u8..4), 0..30),
            bom in any::<bool>(),
            crlf in any::<bool>(),
            gz_name in any::<bool>(),
        ) {
            let mut lines = vec!["qid\tskillid\tskillname".to_owned()];
            let mut want = HashMap::new();
            for (qid, sid, name, zeros, shape) in &entries {
                let zeros = "0".repeat(*zeros);
                lines.push(match shape {
                    0 => format!("{zeros}{qid}\t{sid}\t{name}"),
                    1 => format!("{zeros}{qid}\t{sid}\t{name}\textra"),
                    2 => format!(" {zeros}{qid} \t {sid} \t {name} "),
                    _ => format!("{zeros}{qid}\t{sid}\t "),
                });
                if *shape != 3 {
                    want.insert(qid.to_string(), name.clone());
                }
            }
            let path = if gz_name { "STATICS_qid_sid_sname.gz" } else { "STATICS_qid_sid_sname" };
            let got = parse_skill_names(Path::new(path), &text(&lines, bom, crlf)).unwrap();
            prop_assert_eq!(got, want);
        }
    }
}
