//! `attune datasets`: what is vendored, with its size.

use std::io::Write;
use std::path::PathBuf;

use attune_data::{FolderKind, Protocol, list_folders};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Directory holding dataset folders.
    #[arg(long, default_value = "data")]
    root: PathBuf,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let folders = list_folders(&args.root)?;
    if folders.is_empty() {
        anyhow::bail!("no dataset folders under {}", args.root.display());
    }
    writeln!(
        out,
        "{:<22} {:<9} {:>9} {:>12} {:>8} {:>7} {:>8}",
        "dataset", "protocol", "learners", "interactions", "items", "skills", "correct"
    )?;
    for f in folders {
        let protocol = match f.kind {
            FolderKind::Dkvmn { .. } => Protocol::E1,
            FolderKind::Gervet => Protocol::E2,
            FolderKind::Akt { .. } => Protocol::E3,
        };
        let folds = protocol.folds(&f)?;
        let Some(first) = folds.first() else { continue };
        // Disjoint parts covering the dataset: train and test, plus AKT's validation chunk,
        // which E3 keeps out of train (E1's validation split is part of train).
        let mut parts = vec![&first.train, &first.test];
        if protocol == Protocol::E3
            && let Some(es) = &first.early_stopping
        {
            parts.push(&es.valid);
        }
        let n: usize = parts.iter().map(|d| d.len()).sum();
        let correct: f64 = parts.iter().map(|d| d.correct_rate() * d.len() as f64).sum();
        let learners: usize = parts.iter().map(|d| d.n_learners()).sum();
        let v = first.test.vocab();
        writeln!(
            out,
            "{:<22} {:<9} {:>9} {:>12} {:>8} {:>7} {:>8.3}",
            f.name(),
            protocol.to_string(),
            learners,
            n,
            v.n_items(),
            v.n_skills(),
            correct / n.max(1) as f64
        )?;
    }
    // Folders that are not interaction logs (prerequisite graphs, metadata) are listed too.
    let known: Vec<PathBuf> = list_folders(&args.root)?.into_iter().map(|f| f.path).collect();
    let mut others: Vec<(String, Vec<String>)> = std::fs::read_dir(&args.root)?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir() && !known.contains(&e.path()))
        .map(|e| {
            let mut files: Vec<String> = std::fs::read_dir(e.path())
                .map(|rd| rd.filter_map(Result::ok).map(|f| f.file_name().to_string_lossy().into_owned()).collect())
                .unwrap_or_default();
            files.sort();
            (e.file_name().to_string_lossy().into_owned(), files)
        })
        .collect();
    others.sort();
    for (name, files) in others {
        writeln!(out, "{name:<22} {:<9} {}", "other", files.join(", "))?;
    }
    Ok(())
}
