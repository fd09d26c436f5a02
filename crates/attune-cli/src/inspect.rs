//! `attune inspect`: read one file in any supported format and summarise it, or say exactly
//! where it is malformed. The way to check a new dataset before evaluating on it.

use std::io::Write;
use std::path::PathBuf;

use attune_core::{Dataset, Vocab};
use attune_data::{ColumnMapping, IdBase, Layout, QMatrix, read_sequences, read_table};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Format {
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

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The file (plain or gzip).
    file: PathBuf,
    /// Its format.
    #[arg(long, value_enum, default_value = "pybkt")]
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

impl Args {
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

    fn read(&self) -> anyhow::Result<Dataset> {
        let q = self.q_matrix.as_deref().map(QMatrix::read).transpose()?;
        let v = Vocab::default();
        let ds = match self.format {
            Format::Dkvmn => read_sequences(&self.file, Layout::Dkvmn, IdBase::One, v)?,
            Format::Dkt => read_sequences(&self.file, Layout::Dkvmn, IdBase::Zero, v)?,
            Format::Akt => read_sequences(&self.file, Layout::AktSkills, IdBase::One, v)?,
            Format::AktPid => read_sequences(&self.file, Layout::AktProblems, IdBase::One, v)?,
            Format::Gervet => read_table(&self.file, &ColumnMapping::gervet(), q.as_ref(), v)?,
            Format::Pybkt => read_table(&self.file, &ColumnMapping::pybkt(), q.as_ref(), v)?,
            Format::Csv => read_table(&self.file, &self.mapping()?, q.as_ref(), v)?,
        };
        Ok(ds)
    }
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let ds = args.read()?;
    let mut lengths: Vec<usize> = ds.learners().map(|r| r.len()).collect();
    lengths.sort_unstable();
    let v = ds.vocab();
    let multi = (0..ds.len()).filter(|&i| ds.skills(i).len() > 1).count();
    let bare = (0..ds.len()).filter(|&i| ds.skills(i).is_empty()).count();
    writeln!(out, "file            {}", args.file.display())?;
    writeln!(out, "learners        {}", ds.n_learners())?;
    writeln!(out, "interactions    {}", ds.len())?;
    writeln!(out, "items           {}", v.n_items())?;
    writeln!(out, "skills          {}", v.n_skills())?;
    writeln!(out, "correct rate    {:.4}", ds.correct_rate())?;
    if let (Some(min), Some(max)) = (lengths.first(), lengths.last()) {
        writeln!(out, "answers/learner min {min}, median {}, max {max}", lengths[lengths.len() / 2])?;
    }
    writeln!(out, "multi-skill     {multi} interactions")?;
    writeln!(out, "without skill   {bare} interactions")?;
    writeln!(out, "timestamps      {}", if ds.has_timestamps() { "yes (seconds)" } else { "no (order only)" })?;
    Ok(())
}
