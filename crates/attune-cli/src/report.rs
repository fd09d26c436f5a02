//! `attune report`: learning analytics for a dataset folder as a self-contained HTML page,
//! SVG charts, and CSV/JSON tables.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use attune_analytics::{Report, ReportConfig};
use attune_core::Progress;
use attune_data::DatasetFolder;
use attune_models::ModelName;

use crate::progress::Bar;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Dataset folder (all its splits are reported together).
    #[arg(long)]
    dataset: PathBuf,
    /// Student model behind mastery and predictions: bkt, bkt-forgets, irt1pl, pfa, ...
    #[arg(long, default_value = "bkt")]
    model: String,
    /// Output directory; `index.html` is written there.
    #[arg(long)]
    out: PathBuf,
    /// Seed of every fit.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Hide the progress bar.
    #[arg(long)]
    quiet: bool,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let config = ReportConfig { model: args.model.parse::<ModelName>()?, seed: args.seed, ..ReportConfig::default() };
    let folder = DatasetFolder::open(&args.dataset)?;
    let data = folder.read_all().with_context(|| format!("loading {}", args.dataset.display()))?;
    let names = folder.skill_names()?;
    let bar = Bar::new(!args.quiet && std::io::stderr().is_terminal());
    let report = Report::build(&data, &folder.name(), &names, &config, &bar)?;
    bar.start("writing the report", 1);
    let files = report.write(&args.out)?;
    bar.finish();
    let mut out = std::io::stdout().lock();
    let s = &report.summary;
    writeln!(
        out,
        "{}: {} learners, {} answers, {} skills, {} items; {} at risk",
        s.dataset, s.learners, s.interactions, s.skills, s.items, s.at_risk
    )?;
    writeln!(
        out,
        "wrote {} files in {:.1} s: {}",
        files.len(),
        t0.elapsed().as_secs_f64(),
        args.out.join("index.html").display()
    )?;
    Ok(())
}
