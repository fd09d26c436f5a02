//! Reading one learning log from the command line: the format and column flags shared by
//! `inspect`, `fit` and `predict`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use attune_core::{Dataset, Vocab};
use attune_data::{ColumnMapping, DatasetFolder, LogFormat, QMatrix, read_log, read_table};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// The format of the dataset folder the file is in (a folder's split files as they are).
    Auto,
    /// DKVMN 3-line, 1-based ids: `n` / ids / answers.
    Dkvmn,
    /// DKT 3-line, 0-based ids, trailing commas allowed.
    Dkt,
    /// AKT 3-line: `uid_index,original_uid` / skill ids / answers.
    Akt,
    /// AKT 4-line: `uid_index,original_uid` / problem ids / skill ids / answers.
    AktPid,
    /// Gervet et al. TSV: `user_id item_id timestamp correct skill_id`.
    Gervet,
    /// pyBKT / ASSISTments CSV: `user_id, [problem_id,] skill_name, correct, [order_id]`.
    Pybkt,
    /// Any CSV/TSV, with the columns named by --student, --item, --skill, --correct, --time.
    Csv,
}

/// How to read a log file: its format and, for CSV/TSV, which column holds what.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct LogFlags {
    /// The file's format (`auto`: the format of the dataset folder it is in, else pybkt).
    #[arg(long, value_enum, default_value = "auto")]
    format: Format,
    /// Q-matrix (`item_id,skill_id` lines) giving each item's skills (table formats).
    #[arg(long)]
    q_matrix: Option<PathBuf>,
    /// Learner column (csv format).
    #[arg(long, default_value = "user_id")]
    student: String,
    /// Item column (csv format; optional).
    #[arg(long)]
    item: Option<String>,
    /// Skill column (csv format; optional).
    #[arg(long)]
    skill: Option<String>,
    /// Separator of several skills in one skill field (csv format), e.g. `~~`.
    #[arg(long)]
    skill_separator: Option<String>,
    /// Answer column, 0/1 (csv format).
    #[arg(long, default_value = "correct")]
    correct: String,
    /// Order or timestamp column (csv format; optional).
    #[arg(long)]
    time: Option<String>,
    /// The --time column holds seconds (csv format), so gaps between answers are durations.
    #[arg(long)]
    seconds: bool,
    /// Field delimiter (csv format; default: tab if the header has one, else comma).
    #[arg(long)]
    delimiter: Option<char>,
}

impl LogFlags {
    fn mapping(&self) -> anyhow::Result<ColumnMapping> {
        let one = |s: &Option<String>| s.iter().cloned().collect::<Vec<_>>();
        let delimiter = match self.delimiter {
            Some(c) if c.is_ascii() => Some(c as u8),
            Some(c) => anyhow::bail!("--delimiter {c:?}: must be one ASCII character"),
            None => None,
        };
        if self.item.is_none() && self.skill.is_none() {
            anyhow::bail!("--format csv needs --item or --skill (or both)");
        }
        Ok(ColumnMapping {
            student: vec![self.student.clone()],
            item: one(&self.item),
            skill: one(&self.skill),
            skill_separator: self.skill_separator.clone(),
            correct: vec![self.correct.clone()],
            time: one(&self.time),
            time_is_seconds: self.seconds,
            delimiter,
        })
    }

    /// Reads `file` as these flags say.
    pub(crate) fn read(&self, file: &Path) -> anyhow::Result<Dataset> {
        let q = self.q_matrix.as_deref().map(QMatrix::read).transpose()?;
        let v = Vocab::default();
        let format = match self.format {
            Format::Auto => return read_in_folder(file),
            Format::Dkvmn => LogFormat::Dkvmn,
            Format::Dkt => LogFormat::Dkt,
            Format::Akt => LogFormat::Akt,
            Format::AktPid => LogFormat::AktPid,
            Format::Gervet => LogFormat::Gervet,
            Format::Pybkt => LogFormat::Pybkt,
            Format::Csv => LogFormat::Csv,
        };
        let mapping = if format == LogFormat::Csv { Some(self.mapping()?) } else { None };
        let ds = read_log(file, format, mapping.as_ref(), q.as_ref(), v)?;
        Ok(ds)
    }
}

/// A file of a dataset folder, read as the folder's format (with its Q-matrix), as protocols
/// read it; a file elsewhere as pyBKT CSV.
fn read_in_folder(file: &Path) -> anyhow::Result<Dataset> {
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    let parent = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match DatasetFolder::open(parent) {
        Ok(folder) => folder.read(name, Vocab::default()).with_context(|| format!("reading {}", file.display())),
        Err(_) => Ok(read_table(file, &ColumnMapping::pybkt(), None, Vocab::default())?),
    }
}
