//! `attune tune`: random search over a model's hyperparameter ranges (the registry's), scored
//! on the *validation* learners only: a dataset folder's shipped validation split, or a
//! seeded share of its training learners. The test split is never read into a score.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use attune_models::registry::Scale;
use attune_models::{HOLD_OUT_SHARE, ModelSpec, Training, fit, hold_out};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::log::LogFlags;
use crate::progress::Bar;
use crate::training::{ModelFlags, Source};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// A dataset folder (or one log file, read with the column flags).
    #[arg(long)]
    dataset: PathBuf,
    #[command(flatten)]
    log: LogFlags,
    #[command(flatten)]
    model: ModelFlags,
    /// Configurations to try; the first is the default (with --config and --set applied).
    #[arg(long, default_value_t = 20)]
    trials: usize,
    /// Write the trials and the best configuration (a file `--config` accepts).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Hide the progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Serialize)]
struct Trial {
    trial: usize,
    /// The searched hyperparameters' values.
    values: Map<String, Value>,
    valid_auc: f64,
    valid_accuracy: f64,
    valid_log_loss: f64,
    fit_seconds: f64,
}

#[derive(Serialize)]
struct TuneReport<'a> {
    model: &'a str,
    dataset: String,
    validation: &'static str,
    n_validation: usize,
    seed: u64,
    trials: Vec<Trial>,
    best_trial: usize,
    best_valid_auc: f64,
    /// The best configuration in full: `attune fit/eval --config <this file>` reads it.
    config: Value,
}

/// A value drawn from `search`.
fn draw(rng: &mut StdRng, low: f64, high: f64, scale: Scale) -> Value {
    let log_draw = |rng: &mut StdRng| (rng.random_range(low.ln()..=high.ln())).exp();
    match scale {
        Scale::Linear => Value::from(rng.random_range(low..=high)),
        Scale::Log => Value::from(log_draw(rng)),
        Scale::Integer => Value::from(rng.random_range(low.round() as u64..=high.round() as u64)),
        Scale::LogInteger => Value::from(log_draw(rng).round().clamp(low, high) as u64),
    }
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    if args.trials == 0 {
        anyhow::bail!("--trials must be at least 1");
    }
    let base = args.model.spec()?;
    let source = Source::open(&args.dataset, &args.log)?;
    let whole = source.training();
    // Trials fit on the validation split's fit learners and are scored on its held-out
    // learners; without a shipped split, on a seeded share of the training learners.
    let seed = args.model.seed;
    let (fit_on, watch, validation) = match whole.validation {
        Some((f, w)) => (f.clone(), w.clone(), "shipped validation split"),
        None => {
            let (rest, held) = hold_out(whole.train, HOLD_OUT_SHARE, seed);
            (rest, held, "seeded hold-out of the training learners")
        }
    };
    let training = Training { train: &fit_on, validation: Some((&fit_on, &watch)) };
    let info = base.model.info();
    let searched: Vec<_> = info.hyperparameters.iter().filter_map(|h| h.search.map(|s| (h.name.clone(), s))).collect();
    if searched.is_empty() && args.trials > 1 {
        eprintln!("{} has no searched hyperparameter: running the default only", base.model);
    }
    let n_trials = if searched.is_empty() { 1 } else { args.trials };
    let mut rng = StdRng::seed_from_u64(seed ^ 0x7475_6E65);
    let bar = Bar::new(!args.quiet && std::io::stderr().is_terminal());
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}: {n_trials} trials, scored on {} learners ({validation})", base.model, watch.n_learners())?;
    let mut trials = Vec::with_capacity(n_trials);
    let mut best: Option<(f64, usize, ModelSpec)> = None;
    for trial in 0..n_trials {
        let mut values = Map::new();
        if trial > 0 {
            for (name, s) in &searched {
                values.insert(name.clone(), draw(&mut rng, s.low, s.high, s.scale));
            }
        }
        let spec = base.clone().with_values(&values)?;
        let model = fit(&spec, training, &bar).with_context(|| format!("trial {trial}"))?;
        let m = model.training.validation_metrics.context("no validation learners")?;
        writeln!(out, "trial {trial:>3}  valid AUC {:.4}  {}", m.auc, Value::Object(values.clone()))?;
        if best.as_ref().is_none_or(|b| m.auc > b.0) {
            best = Some((m.auc, trial, spec.clone()));
        }
        trials.push(Trial {
            trial,
            values,
            valid_auc: m.auc,
            valid_accuracy: m.accuracy,
            valid_log_loss: m.log_loss,
            fit_seconds: model.training.fit_seconds,
        });
    }
    bar.finish();
    let Some((best_auc, best_trial, best_spec)) = best else { anyhow::bail!("no trial ran") };
    writeln!(out, "best: trial {best_trial}, valid AUC {best_auc:.4}")?;
    let report = TuneReport {
        model: base.model.as_str(),
        dataset: args.dataset.display().to_string(),
        validation,
        n_validation: watch.n_learners(),
        seed,
        trials,
        best_trial,
        best_valid_auc: best_auc,
        config: best_spec.config.to_json(),
    };
    if let Some(path) = &args.out {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
        writeln!(out, "wrote {} (use it with --config)", path.display())?;
    }
    Ok(())
}
