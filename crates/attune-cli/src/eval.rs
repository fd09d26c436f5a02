//! `attune eval`: fit on a protocol's training split, predict its test split, report metrics.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use attune_core::metrics::Metrics;
use attune_data::{DatasetFolder, Fold, Protocol};
use attune_models::{ModelSpec, fit};
use serde::Serialize;

use crate::progress::Bar;
use crate::training::{ModelFlags, training_of};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Evaluation protocol: e1 (DKVMN split), e2 (Gervet et al.), e3 (AKT 5-fold), e4
    /// (cold-start adaptive testing), e5 (cold-start tracing).
    #[arg(long)]
    pub(crate) protocol: EvalProtocol,
    /// Dataset folder, e.g. data/assist2009_updated or ../shared/data/lpp/assistments09; for
    /// e4/e5 also one log file read with the column flags.
    #[arg(long)]
    pub(crate) dataset: PathBuf,
    #[command(flatten)]
    pub(crate) model: ModelFlags,
    #[command(flatten)]
    pub(crate) cold: crate::cold_start::Flags,
    #[command(flatten)]
    pub(crate) log: crate::log::LogFlags,
    /// Write the results as one JSON object to this file (and the run's config beside it).
    #[arg(long)]
    pub(crate) json: Option<PathBuf>,
    /// Save the model fitted on the (first) fold to this file.
    #[arg(long)]
    save_model: Option<PathBuf>,
    /// Run only fold K (1-based, in the protocol's order; repeatable), e.g. `--fold 1` for
    /// E3's first of five. E1 and E2 have one fold.
    #[arg(long = "fold", value_name = "K")]
    pub(crate) only_folds: Vec<usize>,
    /// Hide the progress bar.
    #[arg(long)]
    pub(crate) quiet: bool,
}

/// `--protocol`: a split protocol of attune-data or a cold-start protocol of attune-meta.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EvalProtocol {
    /// E1, E2 or E3.
    Split(Protocol),
    /// Cold-start adaptive testing.
    E4,
    /// Cold-start knowledge tracing.
    E5,
}

impl std::str::FromStr for EvalProtocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "e4" => Ok(Self::E4),
            "e5" => Ok(Self::E5),
            other => {
                other.parse().map(Self::Split).map_err(|_| format!("unknown protocol {s:?} (e1, e2, e3, e4 or e5)"))
            }
        }
    }
}

/// One fold's result.
#[derive(Serialize)]
struct FoldResult {
    fold: String,
    #[serde(flatten)]
    metrics: Metrics,
    fit_seconds: f64,
    predict_seconds: f64,
    /// Neural models: epochs, best epoch, time to best validation AUC, throughput.
    #[serde(skip_serializing_if = "Option::is_none")]
    training: Option<serde_json::Value>,
}

/// The JSON contract of `attune eval --json` (keys are relied on by scripts; add, never rename).
#[derive(Serialize)]
struct Report {
    protocol: Protocol,
    dataset: String,
    model: String,
    auc: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    auc_sd: Option<f64>,
    accuracy: f64,
    rmse: f64,
    log_loss: f64,
    ece: f64,
    fit_seconds: f64,
    predict_seconds: f64,
    n_test: usize,
    seed: u64,
    folds: Vec<FoldResult>,
}

#[derive(Serialize)]
struct RunConfig<'a> {
    protocol: Protocol,
    dataset: &'a Path,
    model: &'a str,
    seed: u64,
    config: &'a serde_json::Value,
    attune_version: &'static str,
}

/// Fits on the fold and predicts its test learners (on the model's ids, as `attune predict`
/// does); saves the model if asked.
fn run_fold(spec: &ModelSpec, fold: &Fold, bar: &Bar, save: Option<&Path>) -> anyhow::Result<FoldResult> {
    let model = fit(spec, training_of(fold), bar)?;
    // The fit itself (the training record's time, without its metrics on the training data).
    let fit_seconds = model.training.fit_seconds;
    if let Some(path) = save {
        model.save(path)?;
    }
    let t1 = Instant::now();
    let test = model.ids.remap(&fold.test);
    let p = model.predict_dataset(&test);
    let predict_seconds = t1.elapsed().as_secs_f64();
    let metrics = Metrics::compute(&p, test.correct());
    Ok(FoldResult { fold: fold.name.clone(), metrics, fit_seconds, predict_seconds, training: model.training.epochs })
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let protocol = match args.protocol {
        EvalProtocol::Split(p) => p,
        EvalProtocol::E4 | EvalProtocol::E5 => return crate::cold_start::run(args),
    };
    let spec = args.model.spec()?;
    let folder = DatasetFolder::open(&args.dataset)?;
    let mut folds = protocol.folds(&folder).with_context(|| format!("loading {}", args.dataset.display()))?;
    if let Some(&k) = args.only_folds.iter().find(|&&k| k == 0 || k > folds.len()) {
        anyhow::bail!("--fold {k}: {} has folds 1 to {} under {protocol}", args.dataset.display(), folds.len());
    }
    if !args.only_folds.is_empty() {
        folds =
            folds.into_iter().enumerate().filter(|(k, _)| args.only_folds.contains(&(k + 1))).map(|f| f.1).collect();
    }
    let bar = Bar::new(!args.quiet && std::io::stderr().is_terminal());
    let mut results = Vec::with_capacity(folds.len());
    for (k, fold) in folds.iter().enumerate() {
        let save = if k == 0 { args.save_model.as_deref() } else { None };
        results.push(run_fold(&spec, fold, &bar, save)?);
    }
    bar.finish();
    let report = summarize(args, protocol, spec.model.as_str(), results);
    print_table(&report)?;
    if let Some(path) = &args.json {
        write_json(path, &report)?;
        let config = spec.config.to_json();
        let cfg = RunConfig {
            protocol,
            dataset: &args.dataset,
            model: spec.model.as_str(),
            seed: args.model.seed,
            config: &config,
            attune_version: env!("CARGO_PKG_VERSION"),
        };
        write_json(&config_path(path), &cfg)?;
    }
    Ok(())
}

fn summarize(args: &Args, protocol: Protocol, model: &str, folds: Vec<FoldResult>) -> Report {
    let n = folds.len().max(1) as f64;
    let mean = |f: &dyn Fn(&FoldResult) -> f64| folds.iter().map(f).sum::<f64>() / n;
    let auc = mean(&|r| r.metrics.auc);
    let auc_sd = (folds.len() > 1).then(|| {
        let var = folds.iter().map(|r| (r.metrics.auc - auc).powi(2)).sum::<f64>() / (n - 1.0);
        var.sqrt()
    });
    Report {
        protocol,
        dataset: args.dataset.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
        model: model.to_owned(),
        auc,
        auc_sd,
        accuracy: mean(&|r| r.metrics.accuracy),
        rmse: mean(&|r| r.metrics.rmse),
        log_loss: mean(&|r| r.metrics.log_loss),
        ece: mean(&|r| r.metrics.ece),
        fit_seconds: mean(&|r| r.fit_seconds),
        predict_seconds: mean(&|r| r.predict_seconds),
        n_test: folds.iter().map(|r| r.metrics.n).sum(),
        seed: args.model.seed,
        folds,
    }
}

fn print_table(r: &Report) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<12} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>10}",
        "model", "AUC", "accuracy", "RMSE", "log-loss", "fit s", "predict s", "test n"
    )?;
    let auc = match r.auc_sd {
        Some(sd) => format!("{:.4}±{:.4}", r.auc, sd),
        None => format!("{:.4}", r.auc),
    };
    writeln!(
        out,
        "{:<12} {:>8} {:>8.4} {:>8.4} {:>8.4} {:>9.3} {:>9.3} {:>10}",
        r.model, auc, r.accuracy, r.rmse, r.log_loss, r.fit_seconds, r.predict_seconds, r.n_test
    )?;
    Ok(())
}

pub(crate) fn config_path(json: &Path) -> PathBuf {
    let stem = json.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "results".into());
    json.with_file_name(format!("{stem}.config.json"))
}

pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}
