//! `attune practice`: simulated learners practise recommended items; is the observed success
//! rate the target?

use std::io::Write;
use std::path::PathBuf;

use attune_policy::cat::{BankModel, ItemBank};
use attune_policy::{PracticeConfig, simulate_practice};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Item model of the simulated bank: 2pl or 3pl.
    #[arg(long, default_value = "2pl")]
    bank: BankModel,
    /// Items in the bank.
    #[arg(long, default_value_t = 500)]
    items: usize,
    /// Simulated learners (abilities drawn from N(0, 1)).
    #[arg(long, default_value_t = 1000)]
    learners: usize,
    /// Recommended items each learner answers.
    #[arg(long, default_value_t = 30)]
    steps: usize,
    /// Target probability of success.
    #[arg(long, default_value_t = 0.7)]
    target: f64,
    /// True ability gained per answer (learning from practice).
    #[arg(long, default_value_t = 0.02)]
    gain: f64,
    /// Seed of the bank, the learners and their answers.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    if !(0.05..=0.95).contains(&args.target) {
        anyhow::bail!("--target {} must be within [0.05, 0.95]", args.target);
    }
    if args.items == 0 || args.learners == 0 || args.steps > args.items {
        anyhow::bail!("need --items > 0, --learners > 0 and --steps <= --items");
    }
    let bank = ItemBank::simulate(args.bank, args.items, args.seed);
    let config = PracticeConfig { target: args.target, ..PracticeConfig::default() };
    let s = simulate_practice(&bank, args.learners, args.steps, args.gain, &config, args.seed.wrapping_add(1));
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "target {:.2}: observed success {:.4} (predicted {:.4}) over {} answers; mean per-learner gap {:.4}",
        s.target, s.observed_success, s.mean_predicted, s.answers, s.mean_learner_gap
    )?;
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&s)? + "\n")?;
    }
    Ok(())
}
