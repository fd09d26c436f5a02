//! `attune inspect`: read one file in any supported format and summarise it, or say exactly
//! where it is malformed. The way to check a new dataset before evaluating on it.

use std::io::Write;
use std::path::PathBuf;

use crate::log::LogFlags;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The file (plain or gzip).
    file: PathBuf,
    #[command(flatten)]
    log: LogFlags,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let ds = args.log.read(&args.file)?;
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
