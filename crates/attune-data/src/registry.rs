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
    /// DKVMN files' ids). Empty when the folder has none.
    ///
    /// # Errors
    /// I/O or non-UTF-8 errors of a name file that exists.
    pub fn skill_names(&self) -> Result<HashMap<String, String>> {
        let mut names = HashMap::new();
        let prefix = match &self.kind {
            FolderKind::Dkvmn { prefix } | FolderKind::Akt { prefix, .. } => prefix.clone(),
            FolderKind::Gervet => return Ok(names),
        };
        if let Some(path) = self.file(&format!("{prefix}_skill_mapping.txt")) {
            let mut lines = crate::source::Lines::open(&path)?;
            while let Some(line) = lines.next_line()? {
                if let Some((id, name)) = line.split_once('\t') {
                    names.insert(id.trim().to_owned(), name.trim().to_owned());
                }
            }
        } else if let Some(path) = self.file(&format!("{prefix}_qid_sid_sname")) {
            let mut lines = crate::source::Lines::open(&path)?;
            while let Some(line) = lines.next_line()? {
                let f: Vec<&str> = line.split('\t').collect();
                if let [qid, _, name, ..] = f[..]
                    && qid.trim().parse::<u64>().is_ok()
                    && !name.trim().is_empty()
                {
                    names.insert(qid.trim().to_owned(), name.trim().to_owned());
                }
            }
        }
        Ok(names)
    }
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
