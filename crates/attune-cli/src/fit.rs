//! `attune fit`: fit any model on a dataset folder or one's own log and write a
//! self-contained model file.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use attune_models::fit;

use crate::log::LogFlags;
use crate::progress::Bar;
use crate::training::{ModelFlags, Source};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// A dataset folder (its protocol's training split, and validation split where it ships
    /// one) or one log file (read with the column flags).
    #[arg(long)]
    dataset: PathBuf,
    #[command(flatten)]
    log: LogFlags,
    #[command(flatten)]
    model: ModelFlags,
    /// The model file to write.
    #[arg(long)]
    out: PathBuf,
    /// Hide the progress bar.
    #[arg(long)]
    quiet: bool,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let spec = args.model.spec()?;
    let source = Source::open(&args.dataset, &args.log)?;
    let bar = Bar::new(!args.quiet && std::io::stderr().is_terminal());
    let model = fit(&spec, source.training(), &bar)?;
    bar.finish();
    model.save(&args.out)?;
    let t = &model.training;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}: {} learners, {} answers, {} items, {} skills; fitted in {:.2} s",
        spec.model,
        t.n_learners,
        t.n_interactions,
        model.ids.n_items(),
        model.ids.n_skills(),
        t.fit_seconds
    )?;
    writeln!(out, "train AUC {:.4}", t.train_metrics.auc)?;
    if let Some(v) = &t.validation_metrics {
        writeln!(out, "validation AUC {:.4} ({} learners: {})", v.auc, t.validation, v.n)?;
    }
    writeln!(out, "wrote {}", args.out.display())?;
    Ok(())
}
