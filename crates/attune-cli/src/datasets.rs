//! `attune datasets`: what is vendored, with its size.

use std::path::PathBuf;

use attune_data::{FolderKind, Protocol, list_folders};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Directory holding dataset folders.
    #[arg(long, default_value = "data")]
    root: PathBuf,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let folders = list_folders(&args.root)?;
    if folders.is_empty() {
        anyhow::bail!("no dataset folders under {}", args.root.display());
    }
    println!(
        "{:<22} {:<9} {:>9} {:>12} {:>8} {:>7} {:>8}",
        "dataset", "protocol", "learners", "interactions", "items", "skills", "correct"
    );
    for f in folders {
        let protocol = match f.kind {
            FolderKind::Dkvmn { .. } => Protocol::E1,
            FolderKind::Gervet => Protocol::E2,
            FolderKind::Akt { .. } => Protocol::E3,
        };
        let folds = protocol.folds(&f)?;
        let Some(first) = folds.first() else { continue };
        let (tr, te) = (&first.train, &first.test);
        let n = tr.len() + te.len();
        let correct = tr.correct_rate() * tr.len() as f64 + te.correct_rate() * te.len() as f64;
        let v = te.vocab();
        println!(
            "{:<22} {:<9} {:>9} {:>12} {:>8} {:>7} {:>8.3}",
            f.name(),
            protocol.to_string(),
            tr.n_learners() + te.n_learners(),
            n,
            v.n_items(),
            v.n_skills(),
            correct / n.max(1) as f64
        );
    }
    Ok(())
}
