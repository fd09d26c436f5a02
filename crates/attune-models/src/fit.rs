//! The one way to fit any model: the validation policy, the id maps, the record of what was
//! fitted on.

use std::time::Instant;

use attune_core::metrics::Metrics;
use attune_core::{Dataset, Progress};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{ModelConfig, ModelSpec};
use crate::ids::compact;
use crate::{Error, FittedModel, Model, Result};

/// Share of the training learners held out for early stopping when no validation split is
/// given.
pub const HOLD_OUT_SHARE: f64 = 0.1;

/// What a model may learn from.
#[derive(Clone, Copy, Debug)]
pub struct Training<'a> {
    /// Every learner the model may learn from.
    pub train: &'a Dataset,
    /// A validation split, where the data has one: `(fit, watch)` learners, as a protocol
    /// ships them (E1's `train1`/`valid1`, E3's `train{k}` and `valid{k}`).
    pub validation: Option<(&'a Dataset, &'a Dataset)>,
}

/// What a model file records of the fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
    /// `sha256:` of the training interactions (learner, item, skills, answer, order, by
    /// original id), the same for the same data however it was read.
    pub fingerprint: String,
    /// Interactions the model was fitted on.
    pub n_interactions: usize,
    /// Learners the model was fitted on.
    pub n_learners: usize,
    /// Wall-clock seconds of the fit.
    pub fit_seconds: f64,
    /// How the validation learners were chosen: `given`, `hold-out` or `none`.
    pub validation: String,
    /// Metrics on the training learners (each answer predicted from the earlier ones).
    pub train_metrics: Metrics,
    /// Metrics on the validation learners, where there were some.
    pub validation_metrics: Option<Metrics>,
    /// The neural models' training: epochs, best epoch, per-epoch records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<serde_json::Value>,
}

/// Fits `spec` on `data`.
///
/// The validation policy lives here, the same for every caller: the neural models train on
/// the validation split's fit learners and stop early on its watched learners; without a
/// split they hold out a seeded [`HOLD_OUT_SHARE`] of the training learners. The classical
/// models (which do not stop early) fit on all of `train`; watched learners that are not in
/// `train` measure the fit (to tune a classical model, pass the split's fit learners as
/// `train`, as `attune tune` does). The model knows the items and skills that occur in
/// the data it saw, in the order of the data's vocabulary (ids a shared vocabulary holds for
/// other splits only are unknown to it).
///
/// # Errors
/// [`Error::EmptyTrainingSet`], or the model's own fitting errors (an invalid configuration,
/// cancellation through `progress`).
pub fn fit(spec: &ModelSpec, data: Training<'_>, progress: &dyn Progress) -> Result<FittedModel> {
    let t0 = Instant::now();
    if data.train.is_empty() {
        return Err(Error::EmptyTrainingSet { model: spec.model.as_str() });
    }
    let seed = spec.config.seed().unwrap_or(42);
    let (policy, fit_on, watch) = match data.validation {
        Some((fit_on, watch)) => ("given", fit_on.clone(), watch.clone()),
        None if spec.model.is_neural() => {
            let (fit_on, watch) = hold_out(data.train, HOLD_OUT_SHARE, seed);
            ("hold-out", fit_on, watch)
        }
        // A classical model fits on all of `train`: a hold-out of it would be in-sample.
        None => ("none", data.train.clone(), data.train.select_learners(&[])),
    };
    let c = compact(&[data.train, &fit_on, &watch]);
    let [train, fit_on, watch]: [Dataset; 3] =
        c.sets.try_into().map_err(|_| Error::EmptyTrainingSet { model: spec.model.as_str() })?;
    let neural = |f: &dyn Fn(&Dataset, &Dataset) -> Result<Model>| f(&fit_on, &watch);
    let model = match &spec.config {
        ModelConfig::Bkt(c) => Model::Bkt(c.fit(&train, progress)?),
        ModelConfig::Irt(c) => Model::Irt(c.fit(&train, progress)?),
        ModelConfig::Counts(c) => Model::Counts(c.fit(&train, progress)?),
        ModelConfig::Elo(c) => Model::Elo(c.fit(&train, progress)?),
        ModelConfig::Dkt(c) => neural(&|t, v| Ok(Model::Dkt(c.fit(t, Some(v), progress)?)))?,
        ModelConfig::Dkvmn(c) => neural(&|t, v| Ok(Model::Dkvmn(c.fit(t, Some(v), progress)?)))?,
        ModelConfig::Sakt(c) => neural(&|t, v| Ok(Model::Sakt(c.fit(t, Some(v), progress)?)))?,
        ModelConfig::Akt(c) => neural(&|t, v| Ok(Model::Akt(c.fit(t, Some(v), progress)?)))?,
    };
    let fit_seconds = t0.elapsed().as_secs_f64();
    let mut fitted = FittedModel {
        spec: spec.clone(),
        model,
        ids: c.ids,
        training: TrainingRecord {
            fingerprint: fingerprint(data.train),
            n_interactions: data.train.len(),
            n_learners: data.train.n_learners(),
            fit_seconds,
            validation: policy.into(),
            train_metrics: Metrics::compute(&[], &[]),
            validation_metrics: None,
            epochs: None,
        },
    };
    fitted.training.train_metrics = Metrics::compute(&fitted.predict_dataset(&train), train.correct());
    // A classical model fitted on all of `train` has seen validation learners that are part
    // of it: their metrics would be in-sample, so none are reported then.
    let honest = spec.model.is_neural() || disjoint(&train, &watch);
    if !honest {
        fitted.training.validation = "none".into();
    }
    fitted.training.validation_metrics =
        (honest && !watch.is_empty()).then(|| Metrics::compute(&fitted.predict_dataset(&watch), watch.correct()));
    fitted.training.epochs = epochs(&fitted.model);
    Ok(fitted)
}

/// Whether the learners of `b` are held out from `a`: by original id, and by the answers
/// themselves for formats whose learners have no id of their own (DKVMN files name them by
/// position). Short histories of different learners can coincide, so `b` counts as held out
/// unless most of its learners (by id or by answers) are in `a`, as when a protocol's
/// validation learners are a part of its training split.
fn disjoint(a: &Dataset, b: &Dataset) -> bool {
    use std::hash::{Hash, Hasher};
    let keys = |d: &Dataset, k: usize| {
        let rows = d.learner_rows(k);
        let v = d.vocab();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for i in rows.clone() {
            v.items.name(d.items()[i].0).hash(&mut h);
            d.correct()[i].hash(&mut h);
        }
        (v.students.name(d.students()[rows.start].0).unwrap_or_default().to_owned(), h.finish())
    };
    let (names, answers): (std::collections::HashSet<String>, std::collections::HashSet<u64>) =
        (0..a.n_learners()).map(|k| keys(a, k)).unzip();
    let shared = (0..b.n_learners())
        .filter(|&k| {
            let (name, seq) = keys(b, k);
            names.contains(&name) || answers.contains(&seq)
        })
        .count();
    2 * shared <= b.n_learners()
}

/// The neural models' per-epoch record as JSON.
fn epochs(model: &Model) -> Option<serde_json::Value> {
    let (h, best) = match model {
        Model::Dkt(m) => (&m.history, m.best_epoch()),
        Model::Dkvmn(m) => (&m.history, m.best_epoch()),
        Model::Sakt(m) => (&m.history, m.best_epoch()),
        Model::Akt(m) => (&m.history, m.best_epoch()),
        _ => return None,
    };
    Some(serde_json::json!({
        "epochs": h.len(),
        "best_epoch": best.map(|e| e.epoch),
        "best_valid_auc": best.map(|e| e.valid_auc),
        "time_to_best_seconds": best.map(|e| e.elapsed_seconds),
        "interactions_per_second": h.iter().map(|e| e.interactions_per_second).sum::<f64>() / h.len().max(1) as f64,
        "history": h,
    }))
}

/// Splits off a seeded share of the learners: `(rest, held out)`, at least one learner in
/// each where there are two.
pub fn hold_out(data: &Dataset, share: f64, seed: u64) -> (Dataset, Dataset) {
    let n = data.n_learners();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut StdRng::seed_from_u64(seed ^ 0x9E37_79B9_7F4A_7C15));
    let cut = ((n as f64 * share).round() as usize).clamp(usize::from(n > 1), n.saturating_sub(1));
    let (held, rest) = idx.split_at(cut);
    let (mut held, mut rest) = (held.to_vec(), rest.to_vec());
    held.sort_unstable();
    rest.sort_unstable();
    (data.select_learners(&rest), data.select_learners(&held))
}

/// `sha256:` over the interactions by original id, learner by learner.
pub fn fingerprint(data: &Dataset) -> String {
    let v = data.vocab();
    let mut h = Sha256::new();
    let name = |s: Option<&str>| s.unwrap_or_default().as_bytes().to_vec();
    for i in 0..data.len() {
        let obs = data.interaction(i);
        h.update(name(v.students.name(obs.student.0)));
        h.update([0]);
        h.update(name(v.items.name(obs.item.0)));
        h.update([0]);
        for s in obs.skills {
            h.update(name(v.skills.name(s.0)));
            h.update([1]);
        }
        h.update([u8::from(obs.correct)]);
        h.update(obs.time.to_le_bytes());
    }
    let digest = h.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}
