//! What `fit`, `tune` and `eval` train on: a dataset folder's protocol split, or one log file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use attune_core::Dataset;
use attune_data::{DatasetFolder, Fold, FolderKind, Protocol};
use attune_models::{ModelName, ModelSpec, Training};

use crate::log::LogFlags;

/// The protocol whose first fold `attune fit --dataset <folder>` trains on: the one the
/// folder's layout ships splits for.
pub(crate) fn protocol_of(folder: &DatasetFolder) -> Protocol {
    match folder.kind {
        FolderKind::Dkvmn { .. } => Protocol::E1,
        FolderKind::Gervet => Protocol::E2,
        FolderKind::Akt { .. } => Protocol::E3,
    }
}

/// Training data from a dataset folder (its protocol's first fold: training split and, where
/// it ships one, validation split) or from one file read with the column flags.
pub(crate) enum Source {
    /// A folder's fold.
    Fold(Box<Fold>),
    /// One log file.
    File(Dataset),
}

impl Source {
    pub(crate) fn open(path: &Path, log: &LogFlags) -> anyhow::Result<Self> {
        if path.is_dir() {
            let folder = DatasetFolder::open(path)?;
            let fold = protocol_of(&folder)
                .folds(&folder)
                .with_context(|| format!("loading {}", path.display()))?
                .into_iter()
                .next()
                .with_context(|| format!("{}: no fold", path.display()))?;
            Ok(Self::Fold(Box::new(fold)))
        } else {
            Ok(Self::File(log.read(path)?))
        }
    }

    pub(crate) fn training(&self) -> Training<'_> {
        match self {
            Self::Fold(f) => training_of(f),
            Self::File(d) => Training { train: d, validation: None },
        }
    }
}

/// A protocol fold as the model layer's training data.
pub(crate) fn training_of(fold: &Fold) -> Training<'_> {
    Training { train: &fold.train, validation: fold.early_stopping.as_ref().map(|e| (&e.train, &e.valid)) }
}

/// The model, its configuration file and `--set` overrides, as every command takes them.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct ModelFlags {
    /// Model: bkt, bkt-forgets, bkt-multigs, irt1pl, irt2pl, mirt, pfa, best-lr, elo, dkt, dkvmn, sakt, akt
    /// (`attune models` lists them with their hyperparameters).
    #[arg(long)]
    pub(crate) model: String,
    /// Seed of every random choice of the fit.
    #[arg(long, default_value_t = 42)]
    pub(crate) seed: u64,
    /// A configuration file: what `attune tune --out` or `attune eval --json` wrote beside
    /// its results, or a JSON object of hyperparameters.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// Override a hyperparameter, e.g. `--set l2=0.5` (repeatable, after --config; the value
    /// is JSON, or a string).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub(crate) overrides: Vec<String>,
}

impl ModelFlags {
    pub(crate) fn spec(&self) -> anyhow::Result<ModelSpec> {
        let name: ModelName = self.model.parse()?;
        let mut spec = ModelSpec::new(name, self.seed);
        if let Some(path) = &self.config {
            let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let json: serde_json::Value =
                serde_json::from_slice(&text).with_context(|| format!("{}: not JSON", path.display()))?;
            spec = spec.with_config_file(&json).with_context(|| format!("applying {}", path.display()))?;
        }
        Ok(spec.with_overrides(&self.overrides)?)
    }
}
