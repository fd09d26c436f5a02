//! `attune simulate`: protocol E6, learning effectiveness of a learning-path policy on
//! simulated learners.

use std::io::Write;
use std::path::PathBuf;

use attune_data::DatasetFolder;
use attune_models::FittedModel;
use attune_policy::sim::{
    EnvKind, EpisodeConfig, PolicyKind, SimulationReport, simulate_paths, simulate_paths_with_tracer,
};
use attune_policy::{EdgeEstimation, PrereqGraph, estimate_prerequisites};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Simulated learner: kss, irt, bkt (rule-based), or dkt (a trained DKT, see --dkt-model).
    #[arg(long)]
    env: String,
    /// Policy: random, topological, greedy, lookahead.
    #[arg(long)]
    policy: PolicyKind,
    /// Episodes (one fresh learner and target set each).
    #[arg(long, default_value_t = 1000)]
    episodes: usize,
    /// Skills in the random knowledge structure (rule-based learners).
    #[arg(long, default_value_t = 20)]
    skills: usize,
    /// Practice steps per episode.
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Target skills per episode.
    #[arg(long, default_value_t = 3)]
    targets: usize,
    /// Seed of the structure, learners and targets.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The DKT learner: a model saved by `attune eval --model dkt --save-model <file>`.
    #[arg(long)]
    dkt_model: Option<PathBuf>,
    /// The dataset the DKT was trained on; its prerequisite graph is estimated from the log.
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// Random answers a DKT learner gives before an episode, so episodes start apart.
    #[arg(long, default_value_t = 10)]
    warm_up: usize,
    /// Write `env, policy, episodes, seed, ep_mean, ep_sd` (and more) as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    if args.episodes == 0 || args.steps == 0 || args.targets == 0 || args.skills < 2 {
        anyhow::bail!("need --episodes, --steps, --targets > 0 and --skills >= 2");
    }
    let cfg = |env: EnvKind| EpisodeConfig {
        env,
        policy: args.policy,
        skills: args.skills,
        steps: args.steps,
        targets: args.targets,
        seed: args.seed,
    };
    let r = if args.env == "dkt" {
        let (Some(model), Some(dataset)) = (&args.dkt_model, &args.dataset) else {
            anyhow::bail!("--env dkt needs --dkt-model <file> and --dataset <folder>");
        };
        let dkt = FittedModel::load(model)?;
        if !matches!(dkt.model, attune_models::Model::Dkt(_)) {
            anyhow::bail!("{}: a {} model; --env dkt needs a DKT model file", model.display(), dkt.name());
        }
        let graph = graph_for(&dkt, dataset)?;
        simulate_paths_with_tracer(&dkt, &graph, &cfg(EnvKind::Kss), args.episodes, args.warm_up)
    } else {
        let env: EnvKind = args.env.parse().map_err(anyhow::Error::msg)?;
        simulate_paths(&cfg(env), args.episodes)
    };
    print(&r)?;
    if let Some(path) = &args.json {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(&r)? + "\n")?;
    }
    Ok(())
}

fn print(r: &SimulationReport) -> std::io::Result<()> {
    writeln!(
        std::io::stdout().lock(),
        "{} / {:?}: E_p {:.4} ± {:.4} over {} episodes (target score {:.3} -> {:.3})",
        r.env,
        r.policy,
        r.ep_mean,
        r.ep_sd,
        r.episodes,
        r.start_mean,
        r.end_mean
    )
}

/// The prerequisite graph estimated from the dataset's log, with node `k` = the model's skill `k`.
fn graph_for(dkt: &FittedModel, dataset: &std::path::Path) -> anyhow::Result<PrereqGraph> {
    let data = DatasetFolder::open(dataset)?.read_all()?;
    let (edges, _) = estimate_prerequisites(&data, &EdgeEstimation::default());
    let index_of = |s: attune_core::SkillId| {
        let id = data.vocab().skills.name(s.0)?;
        dkt.ids.skills.iter().position(|k| k == id)
    };
    let nodes: Vec<String> = (0..dkt.ids.n_skills()).map(|k| k.to_string()).collect();
    let named: Vec<(String, String)> =
        edges.iter().filter_map(|e| Some((index_of(e.from)?.to_string(), index_of(e.to)?.to_string()))).collect();
    if named.is_empty() {
        anyhow::bail!("{}: no prerequisite edge between the model's skills", dataset.display());
    }
    Ok(PrereqGraph::new(&nodes, &named))
}
