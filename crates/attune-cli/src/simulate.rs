//! `attune simulate`: protocol E6, learning effectiveness of a learning-path policy on
//! simulated learners.

use std::io::Write;
use std::path::PathBuf;

use attune_policy::sim::{EnvKind, EpisodeConfig, PolicyKind, simulate_paths};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Simulated learner: kss, irt, bkt (dkt needs the neural models, not built yet).
    #[arg(long)]
    env: EnvKind,
    /// Policy: random, topological, greedy, lookahead.
    #[arg(long)]
    policy: PolicyKind,
    /// Episodes (one fresh learner and target set each).
    #[arg(long, default_value_t = 1000)]
    episodes: usize,
    /// Skills in the random knowledge structure.
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
    /// Write `env, policy, episodes, seed, ep_mean, ep_sd` (and more) as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    if args.episodes == 0 || args.steps == 0 || args.targets == 0 || args.skills < 2 {
        anyhow::bail!("need --episodes, --steps, --targets > 0 and --skills >= 2");
    }
    let cfg = EpisodeConfig {
        env: args.env,
        policy: args.policy,
        skills: args.skills,
        steps: args.steps,
        targets: args.targets,
        seed: args.seed,
    };
    let r = simulate_paths(&cfg, args.episodes);
    writeln!(
        std::io::stdout().lock(),
        "{:?} / {:?}: E_p {:.4} ± {:.4} over {} episodes (target score {:.3} -> {:.3})",
        r.env,
        r.policy,
        r.ep_mean,
        r.ep_sd,
        r.episodes,
        r.start_mean,
        r.end_mean
    )?;
    if let Some(path) = &args.json {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(&r)? + "\n")?;
    }
    Ok(())
}
