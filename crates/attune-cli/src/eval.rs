//! `attune eval`: fit on a protocol's training split, predict its test split, report metrics.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use attune_core::metrics::Metrics;
use attune_core::{Dataset, Probability};
use attune_data::Fold;
use attune_data::{DatasetFolder, Protocol};
use attune_kt::{ModelConfig, ModelKind};
use attune_nn::{Akt, AktConfig, Dkt, DktConfig, Dkvmn, DkvmnConfig, EpochRecord, Sakt, SaktConfig};
use serde::Serialize;

use crate::progress::Bar;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Evaluation protocol: e1 (DKVMN split), e2 (Gervet et al.), e3 (AKT 5-fold).
    #[arg(long)]
    protocol: Protocol,
    /// Dataset folder, e.g. data/assist2009_updated or ../shared/data/lpp/assistments09.
    #[arg(long)]
    dataset: PathBuf,
    /// Model: bkt, bkt-forgets, bkt-multigs, irt1pl, irt2pl, mirt, pfa, best-lr, elo, dkt, dkvmn, sakt, akt.
    #[arg(long)]
    model: String,
    /// Write the results as one JSON object to this file (and the run's config beside it).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Seed of every random choice of the fit.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Save the model fitted on the (first) fold to this file.
    #[arg(long)]
    save_model: Option<PathBuf>,
    /// Override a hyperparameter of the model's configuration, e.g. `--set l2=0.5`
    /// (repeatable; the value is JSON, or a string).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Run only fold K (1-based, in the protocol's order; repeatable), e.g. `--fold 1` for
    /// E3's first of five. E1 and E2 have one fold.
    #[arg(long = "fold", value_name = "K")]
    only_folds: Vec<usize>,
    /// Hide the progress bar.
    #[arg(long)]
    quiet: bool,
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

/// A model of any family, as `--model` names it.
enum EvalModel {
    Classical(ModelKind, ModelConfig),
    Dkt(DktConfig),
    Sakt(SaktConfig),
    Dkvmn(DkvmnConfig),
    Akt(AktConfig),
}

/// A neural model's default configuration with `--seed` and `--set` overrides applied.
fn neural_config<C: serde::Serialize + serde::de::DeserializeOwned>(default: C, args: &Args) -> anyhow::Result<C> {
    let mut value = serde_json::to_value(default)?;
    value["seed"] = serde_json::json!(args.seed);
    Ok(serde_json::from_value(apply_overrides_value(value, &args.overrides)?)?)
}

impl EvalModel {
    fn parse(args: &Args) -> anyhow::Result<Self> {
        match args.model.as_str() {
            "dkt" => return Ok(Self::Dkt(neural_config(DktConfig::default(), args)?)),
            "dkvmn" => return Ok(Self::Dkvmn(neural_config(DkvmnConfig::default(), args)?)),
            "sakt" => return Ok(Self::Sakt(neural_config(SaktConfig::default(), args)?)),
            "akt" => return Ok(Self::Akt(neural_config(AktConfig::default(), args)?)),
            _ => {}
        }
        let kind = ModelKind::from_name(&args.model).map_err(|_| {
            anyhow::anyhow!(
                "unknown model {:?} (known: {}, dkt, dkvmn, sakt, akt)",
                args.model,
                attune_kt::MODEL_NAMES.join(", ")
            )
        })?;
        Ok(Self::Classical(kind, apply_overrides(kind.config(args.seed), &args.overrides)?))
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Classical(kind, _) => kind.name(),
            Self::Dkt(_) => "dkt",
            Self::Sakt(_) => "sakt",
            Self::Dkvmn(_) => "dkvmn",
            Self::Akt(_) => "akt",
        }
    }

    fn config_json(&self) -> anyhow::Result<serde_json::Value> {
        Ok(match self {
            Self::Classical(_, c) => serde_json::to_value(c)?,
            Self::Dkt(c) => serde_json::to_value(c)?,
            Self::Sakt(c) => serde_json::to_value(c)?,
            Self::Dkvmn(c) => serde_json::to_value(c)?,
            Self::Akt(c) => serde_json::to_value(c)?,
        })
    }

    /// Fits on the fold and predicts its test learners; saves the model if asked.
    fn run(
        &self,
        fold: &Fold,
        seed: u64,
        bar: &Bar,
        save: Option<&Path>,
    ) -> anyhow::Result<(Vec<Probability>, f64, Option<serde_json::Value>)> {
        let t0 = Instant::now();
        let neural = Neural { fold, seed, save, name: self.name(), t0 };
        match self {
            Self::Classical(_, config) => {
                let model = config.fit(&fold.train, bar)?;
                let fit = t0.elapsed().as_secs_f64();
                if let Some(path) = save {
                    model.save(path)?;
                }
                Ok((model.predict_dataset(&fold.test), fit, None))
            }
            Self::Dkt(c) => {
                neural.run(|t, v| c.fit(t, Some(v), bar), Dkt::predict_dataset, |m| (&m.history, m.best_epoch()))
            }
            Self::Sakt(c) => {
                neural.run(|t, v| c.fit(t, Some(v), bar), Sakt::predict_dataset, |m| (&m.history, m.best_epoch()))
            }
            Self::Dkvmn(c) => {
                neural.run(|t, v| c.fit(t, Some(v), bar), Dkvmn::predict_dataset, |m| (&m.history, m.best_epoch()))
            }
            Self::Akt(c) => {
                neural.run(|t, v| c.fit(t, Some(v), bar), Akt::predict_dataset, |m| (&m.history, m.best_epoch()))
            }
        }
    }
}

/// What training any neural model on a fold shares: early stopping, saving, the training record.
struct Neural<'a> {
    fold: &'a Fold,
    seed: u64,
    save: Option<&'a Path>,
    name: &'static str,
    t0: Instant,
}

impl Neural<'_> {
    fn run<M: serde::Serialize>(
        &self,
        fit: impl FnOnce(&Dataset, &Dataset) -> attune_nn::Result<M>,
        predict: impl Fn(&M, &Dataset) -> Vec<Probability>,
        history: impl Fn(&M) -> (&[EpochRecord], Option<&EpochRecord>),
    ) -> anyhow::Result<(Vec<Probability>, f64, Option<serde_json::Value>)> {
        let (train, valid) = early_stopping_split(self.fold, self.seed);
        let model = fit(&train, &valid)?;
        let fit_seconds = self.t0.elapsed().as_secs_f64();
        save_neural(self.save, self.name, &model)?;
        let (h, best) = history(&model);
        Ok((predict(&model, &self.fold.test), fit_seconds, Some(training_json(h, best))))
    }
}

/// Early stopping on the protocol's validation split, or on 10 % of the training learners
/// (seeded) where the protocol has none.
fn early_stopping_split(fold: &Fold, seed: u64) -> (Dataset, Dataset) {
    match &fold.early_stopping {
        Some(es) => (es.train.clone(), es.valid.clone()),
        None => hold_out(&fold.train, 0.1, seed),
    }
}

/// Writes a neural model as `{"format_version", "model", "weights"}` when asked to.
fn save_neural<M: serde::Serialize>(save: Option<&Path>, name: &str, model: &M) -> anyhow::Result<()> {
    if let Some(path) = save {
        let file = serde_json::json!({"format_version": 1, "model": name, "weights": model});
        std::fs::write(path, serde_json::to_vec(&file)?).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The `training` object of a neural model's results.
fn training_json(h: &[EpochRecord], best: Option<&EpochRecord>) -> serde_json::Value {
    serde_json::json!({
        "epochs": h.len(),
        "best_epoch": best.map(|e| e.epoch),
        "best_valid_auc": best.map(|e| e.valid_auc),
        "time_to_best_seconds": best.map(|e| e.elapsed_seconds),
        "interactions_per_second": h.iter().map(|e| e.interactions_per_second).sum::<f64>() / h.len().max(1) as f64,
        "history": h,
    })
}

/// Splits off a seeded share of the learners as a validation set.
fn hold_out(data: &Dataset, share: f64, seed: u64) -> (Dataset, Dataset) {
    let n = data.n_learners();
    let mut idx: Vec<usize> = (0..n).collect();
    // A seeded Fisher-Yates shuffle (SplitMix64 steps) keeps this free of extra dependencies.
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    for i in (1..n).rev() {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let j = ((z ^ (z >> 31)) % (i as u64 + 1)) as usize;
        idx.swap(i, j);
    }
    let cut = ((n as f64 * share).round() as usize).clamp(1.min(n), n.saturating_sub(1).max(1));
    let (valid, train) = idx.split_at(cut.min(n));
    (data.select_learners(train), data.select_learners(valid))
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let model = EvalModel::parse(args)?;
    let folder = DatasetFolder::open(&args.dataset)?;
    let mut folds = args.protocol.folds(&folder).with_context(|| format!("loading {}", args.dataset.display()))?;
    if let Some(&k) = args.only_folds.iter().find(|&&k| k == 0 || k > folds.len()) {
        anyhow::bail!("--fold {k}: {} has folds 1 to {} under {}", args.dataset.display(), folds.len(), args.protocol);
    }
    if !args.only_folds.is_empty() {
        folds =
            folds.into_iter().enumerate().filter(|(k, _)| args.only_folds.contains(&(k + 1))).map(|f| f.1).collect();
    }
    let bar = Bar::new(!args.quiet && std::io::stderr().is_terminal());
    let mut results = Vec::with_capacity(folds.len());
    for (k, fold) in folds.iter().enumerate() {
        let save = if k == 0 { args.save_model.as_deref() } else { None };
        let t1 = Instant::now();
        let (p, fit_seconds, training) = model.run(fold, args.seed, &bar, save)?;
        let predict_seconds = t1.elapsed().as_secs_f64() - fit_seconds;
        let metrics = Metrics::compute(&p, fold.test.correct());
        results.push(FoldResult { fold: fold.name.clone(), metrics, fit_seconds, predict_seconds, training });
    }
    bar.finish();
    let report = summarize(args, model.name(), results);
    print_table(&report)?;
    if let Some(path) = &args.json {
        write_json(path, &report)?;
        let config = model.config_json()?;
        let cfg = RunConfig {
            protocol: args.protocol,
            dataset: &args.dataset,
            model: model.name(),
            seed: args.seed,
            config: &config,
            attune_version: env!("CARGO_PKG_VERSION"),
        };
        write_json(&config_path(path), &cfg)?;
    }
    Ok(())
}

fn summarize(args: &Args, model: &str, folds: Vec<FoldResult>) -> Report {
    let n = folds.len().max(1) as f64;
    let mean = |f: &dyn Fn(&FoldResult) -> f64| folds.iter().map(f).sum::<f64>() / n;
    let auc = mean(&|r| r.metrics.auc);
    let auc_sd = (folds.len() > 1).then(|| {
        let var = folds.iter().map(|r| (r.metrics.auc - auc).powi(2)).sum::<f64>() / (n - 1.0);
        var.sqrt()
    });
    Report {
        protocol: args.protocol,
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
        seed: args.seed,
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

fn config_path(json: &Path) -> PathBuf {
    let stem = json.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "results".into());
    json.with_file_name(format!("{stem}.config.json"))
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

/// Applies `key=value` overrides to a model configuration through its JSON form, so that every
/// documented field can be set without a flag of its own.
fn apply_overrides(config: ModelConfig, overrides: &[String]) -> anyhow::Result<ModelConfig> {
    if overrides.is_empty() {
        return Ok(config);
    }
    let value = apply_overrides_value(serde_json::to_value(&config)?, overrides)?;
    serde_json::from_value(value).with_context(|| format!("applying {overrides:?}"))
}

/// [`apply_overrides`] on a configuration's JSON form.
fn apply_overrides_value(mut value: serde_json::Value, overrides: &[String]) -> anyhow::Result<serde_json::Value> {
    let serde_json::Value::Object(fields) = &mut value else { anyhow::bail!("model configuration is not an object") };
    for o in overrides {
        let (key, raw) = o.split_once('=').with_context(|| format!("--set {o:?}: expected KEY=VALUE"))?;
        if key == "family" || !fields.contains_key(key) {
            let known: Vec<&str> = fields.keys().map(String::as_str).filter(|k| *k != "family").collect();
            anyhow::bail!("--set {key}: no such hyperparameter (known: {})", known.join(", "));
        }
        let v = serde_json::from_str(raw).unwrap_or_else(|_| serde_json::Value::String(raw.to_owned()));
        fields.insert(key.to_owned(), v);
    }
    Ok(value)
}
