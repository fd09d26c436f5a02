//! `attune models`: the model registry: every model with its family, paper and
//! hyperparameters (defaults and valid ranges).

use std::io::Write;

use attune_models::registry;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Print the registry as JSON: an array of `{name, family, description, paper,
    /// hyperparameters: [{name, default, min, max}]}`.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let models = registry();
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &models)?;
        writeln!(out)?;
        return Ok(());
    }
    for m in &models {
        writeln!(
            out,
            "{:<12} {:<10} {}",
            m.name,
            serde_json::to_value(m.family)?.as_str().unwrap_or(""),
            m.description
        )?;
        writeln!(out, "{:<12} paper: {}", "", m.paper)?;
        for h in &m.hyperparameters {
            let range = match (h.min, h.max) {
                (Some(lo), Some(hi)) => format!("[{lo}, {hi}]"),
                _ => String::new(),
            };
            let tuned = if h.search.is_some() { " (tuned)" } else { "" };
            writeln!(out, "{:<12}   {:<22} {:<14} {range}{tuned}", "", h.name, h.default.to_string())?;
        }
    }
    Ok(())
}
