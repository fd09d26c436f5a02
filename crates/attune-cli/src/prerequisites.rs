//! `attune prerequisites`: a prerequisite graph from a file (Junyi, Eedi) or estimated from a
//! dataset's learning log, with the edges dropped to make it acyclic and a learning order.

use std::io::Write;
use std::path::PathBuf;

use attune_data::{DatasetFolder, read_eedi_subjects, read_junyi_prerequisites};
use attune_policy::{EdgeEstimation, PrereqGraph, estimate_prerequisites};

#[derive(clap::Args)]
#[group(required = true, multiple = false)]
pub(crate) struct Args {
    /// Junyi exercise table (`junyi_Exercise_table.csv`, plain or gzip).
    #[arg(long)]
    junyi: Option<PathBuf>,
    /// Eedi subject tree (`subject_metadata.csv`).
    #[arg(long)]
    eedi: Option<PathBuf>,
    /// Dataset folder whose learning log the graph is estimated from.
    #[arg(long)]
    dataset: Option<PathBuf>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let graph = if let Some(p) = &args.junyi {
        let t = read_junyi_prerequisites(p)?;
        PrereqGraph::new(&t.nodes, &t.edges)
    } else if let Some(p) = &args.eedi {
        let t = read_eedi_subjects(p)?;
        PrereqGraph::new(&t.nodes, &t.edges)
    } else if let Some(p) = &args.dataset {
        let folder = DatasetFolder::open(p)?;
        let data = folder.read_all()?;
        let names = folder.skill_names()?;
        let (edges, graph) = estimate_prerequisites(&data, &EdgeEstimation::default());
        writeln!(out, "estimated {} edges from {} answers (top 10 by lift):", edges.len(), data.len())?;
        let mut top = edges.clone();
        top.sort_by(|a, b| b.lift.total_cmp(&a.lift));
        let label = |s: attune_core::SkillId| {
            let id = data.vocab().skills.name(s.0).unwrap_or("?");
            names.get(id).map_or_else(|| format!("skill {id}"), |n| format!("{n} ({id})"))
        };
        for e in top.iter().take(10) {
            writeln!(
                out,
                "  {} -> {}: {} learners, {:.0}% in this order, lift {:+.2}",
                label(e.from),
                label(e.to),
                e.support,
                100.0 * e.order,
                e.lift
            )?;
        }
        graph
    } else {
        anyhow::bail!("give --junyi, --eedi or --dataset");
    };
    writeln!(out, "{} nodes, {} edges kept, {} dropped", graph.len(), graph.edge_count(), graph.dropped().len())?;
    for d in graph.dropped().iter().take(20) {
        writeln!(out, "  dropped {} -> {} ({:?})", d.from, d.to, d.why)?;
    }
    let order: Vec<&str> = graph.topological_order().iter().take(12).map(|&v| graph.name(v)).collect();
    writeln!(out, "learning order begins: {}", order.join(", "))?;
    Ok(())
}
