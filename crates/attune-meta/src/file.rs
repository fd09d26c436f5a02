//! Meta-trained model files: the base learner's ordinary model file (attune-models format,
//! read by its loader) and the meta-learned parameters per support size or test length.
//!
//! ```json
//! {"format_version": 1, "kind": "attune-meta", "attune_version": "…", "protocol": "e5",
//!  "model": "maml", "base": {…model file…}, "learners": [{"size": 1, "tracer": {…}}, …]}
//! ```
//!
//! The loader checks the version, the base through [`FittedModel::from_json`], and every
//! meta-learned vector's length and range against the base, so a hand-edited file gets an
//! error naming the field.

use std::borrow::Cow;
use std::path::Path;

use attune_core::{Dataset, Interaction, KnowledgeTracer, Probability, Progress};
use attune_models::{FittedModel, LearnerState, Model, ModelSpec, Training, fit};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::bkt_meta::MetaBkt;
use crate::bobcat::BiIrt;
use crate::bobcat_2pl::Bi2pl;
use crate::bobcat_nn::BiNn;
use crate::dkt_meta::MetaDkt;
use crate::e4::E4_STEPS;
use crate::e5::E5_SUPPORT;
use crate::irt_meta::{Algorithm, MetaConfig, MetaIrt};
use crate::lstm_opt::LstmIrt;
use crate::policy::HIDDEN;
use crate::protocol::{E4Model, E5Model};
use crate::readers::{BktReader, DktReader, ReaderModel};
use crate::strategy::{
    Strategy, check_test_strategies, fit_strategy_bases, train_strategy_candidates, train_test_candidates,
};
use crate::tasks::{e4_data, learner_folds};
use crate::tracer::{adapt_tracer, train_tracer};
use crate::{Error, Result};

/// The meta-model file format this build reads and writes.
pub const META_FORMAT_VERSION: u32 = 1;

/// A meta-trained learner for one support size (E5) or test length (E4).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trained {
    /// A cold-start tracer (E5).
    Tracer(MetaIrt),
    /// An adaptive tester (E4).
    Tester(BiIrt),
    /// A cold-start tracer whose inner loop is a learned LSTM optimizer (E5).
    Optimizer(LstmIrt),
    /// A cold-start tracer over DKT (E5).
    #[serde(rename = "dkt_tracer")]
    DktTracer(MetaDkt),
    /// An adaptive tester over BiNN (E4).
    #[serde(rename = "nn_tester")]
    NnTester(BiNn),
    /// A cold-start tracer over BKT (E5).
    #[serde(rename = "bkt_tracer")]
    BktTracer(MetaBkt),
    /// A metric- or model-based cold-start tracer over the Rasch model (E5).
    Reader(ReaderModel),
    /// A strategy selector and its candidates (E5).
    Strategy(Box<Strategy>),
    /// The RNN or memory reader writing BKT's per-skill prior and learn rate (E5).
    #[serde(rename = "bkt_reader")]
    BktReader(BktReader),
    /// The RNN or memory reader writing DKT's initial state (E5).
    #[serde(rename = "dkt_reader")]
    DktReader(Box<DktReader>),
    /// An adaptive tester over BiIRT with the 2PL response model (E4).
    #[serde(rename = "tester_2pl")]
    Tester2pl(Bi2pl),
}

impl Trained {
    /// The validation AUC its parameters were kept for.
    pub fn validation_auc(&self) -> f64 {
        match self {
            Self::Tracer(m) => m.validation_auc,
            Self::Tester(b) => b.meta.validation_auc,
            Self::Optimizer(o) => o.meta.validation_auc,
            Self::DktTracer(m) => m.validation_auc,
            Self::NnTester(m) => m.validation_auc,
            Self::Tester2pl(m) => m.validation_auc,
            Self::BktTracer(m) => m.validation_auc,
            Self::Reader(m) => m.validation_auc(),
            Self::Strategy(s) => s.validation_auc,
            Self::BktReader(r) => r.record().validation_auc,
            Self::DktReader(r) => r.record().validation_auc,
        }
    }
}

/// One size's learner.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Sized {
    /// Support size or test length it was trained for.
    pub size: usize,
    /// Its parameters.
    #[serde(flatten)]
    pub learner: Trained,
}

/// A meta-trained model: the base learner and the meta-learned parameters per size.
#[derive(Clone, Debug)]
pub struct MetaModel {
    /// `e4` or `e5`.
    pub protocol: String,
    /// The meta-learner's name.
    pub model: String,
    /// The base learner, fitted normally.
    pub base: FittedModel,
    /// One learner per size, sizes ascending.
    pub learners: Vec<Sized>,
}

#[derive(Serialize)]
struct FileOut<'a> {
    format_version: u32,
    kind: &'static str,
    attune_version: &'static str,
    protocol: &'a str,
    model: &'a str,
    base: serde_json::Value,
    learners: &'a [Sized],
}

#[derive(Deserialize)]
struct FileIn {
    format_version: Option<serde_json::Value>,
    kind: Option<String>,
    protocol: String,
    model: String,
    base: serde_json::Value,
    learners: Vec<Sized>,
}

/// Meta-trains `model` for `protocol` (`e4` or `e5`) on fold `fold` (1-based) of `data`'s
/// learner folds: the base on the fold's training learners, the meta-learner on them too,
/// selection on its validation learners; one learner per E4 test length or E5 support size.
///
/// # Errors
/// An unknown name for the protocol, a base it cannot adapt, too few learners, a failed fit,
/// cancellation.
pub fn meta_train(
    data: &Dataset,
    protocol: &str,
    model: &str,
    spec: &ModelSpec,
    fold: usize,
    cfg: &MetaConfig,
    progress: &dyn Progress,
) -> Result<MetaModel> {
    let bad = |param, value: String, reason| Error::InvalidConfig { learner: "meta-train", param, value, reason };
    let e4 = match protocol {
        "e4" => true,
        "e5" => false,
        _ => return Err(bad("protocol", protocol.to_owned(), "e4 or e5")),
    };
    let data = if e4 { e4_data(data) } else { data.clone() };
    let folds = learner_folds(&data, cfg.seed)?;
    let f = folds.get(fold.wrapping_sub(1)).ok_or_else(|| bad("fold", fold.to_string(), "between 1 and 5"))?;
    let base = fit(spec, Training { train: &f.train, validation: Some((&f.train, &f.valid)) }, progress)?;
    let (train, valid) = (base.ids.remap(&f.train), base.ids.remap(&f.valid));
    let mut learners = Vec::new();
    if !e4 {
        let which = model.parse::<E5Model>().map_err(Error::UnknownLearner)?;
        if which == E5Model::None {
            return Err(bad(
                "model",
                model.to_owned(),
                "a meta-learner (none is the base model itself: use attune fit)",
            ));
        }
        let bases = match which {
            E5Model::Strategy => fit_strategy_bases(&cfg.strategies, &base, &f.train, &f.valid, cfg.seed, progress)?,
            _ => Vec::new(),
        };
        for k in E5_SUPPORT {
            let learner = if which == E5Model::Strategy {
                let candidates = train_strategy_candidates(&cfg.strategies, &bases, &train, &valid, k, cfg, progress)?;
                Some(Trained::Strategy(Box::new(Strategy::train(candidates, &valid, k, cfg.seed)?)))
            } else {
                train_tracer(which, &base, &train, &valid, k, cfg, progress)?
            };
            if let Some(learner) = learner {
                learners.push(Sized { size: k, learner });
            }
        }
    } else if let (Some(irt), Ok(E4Model::BiIrt(p))) = (crate::protocol::two_pl(&base), model.parse::<E4Model>()) {
        // BiIRT over a 2PL base learns slopes too.
        let starts = Bi2pl::slope_starts(irt, &train, cfg, progress)?;
        let testers = Bi2pl::train_lengths(&starts, p, &train, &valid, &E4_STEPS, cfg, progress)?;
        for (n, tester) in E4_STEPS.into_iter().zip(testers) {
            learners.push(Sized { size: n, learner: Trained::Tester2pl(tester) });
        }
    } else {
        let irt = match &base.model {
            Model::Irt(irt) if irt.config.dims == 1 && !irt.config.discrimination => irt.clone(),
            _ => {
                return Err(Error::UnsupportedBase {
                    learner: "meta-train",
                    base: spec.model.as_str().to_owned(),
                    supported: "irt1pl (e4; irt2pl for biirt-*); irt1pl, dkt, bkt (e5)",
                });
            }
        };
        let which = model.parse::<E4Model>().map_err(Error::UnknownLearner)?;
        if which == E4Model::Strategy {
            check_test_strategies(&cfg.test_strategies)?;
        }
        for n in E4_STEPS {
            let learner = match which {
                E4Model::BiIrt(p) => Trained::Tester(BiIrt::train(&irt, p, &train, &valid, n, cfg, progress)?),
                E4Model::BiNn(p) => Trained::NnTester(BiNn::train(&irt, p, &train, &valid, n, cfg, progress)?),
                // A reader tests with Active selection on whatever it writes (ReaderTester),
                // trained on IRT-Active's tests.
                E4Model::Reader(r) => {
                    Trained::Reader(ReaderModel::train_for_tests(r, &irt, &train, &valid, n, cfg, progress)?)
                }
                // IRT-Active's test, the response model chosen per learner (StrategyTester).
                E4Model::Strategy => {
                    let c = train_test_candidates(&cfg.test_strategies, &base, &train, &valid, n, cfg, progress)?;
                    Trained::Strategy(Box::new(Strategy::train_for_tests(c, &valid, n, cfg.seed)?))
                }
                E4Model::Irt(_) => {
                    return Err(bad(
                        "model",
                        model.to_owned(),
                        "a meta-learned tester (biirt-random, biirt-active, biirt-approx, biirt-unbiased, \
                         binn-random, binn-active, binn-approx, binn-unbiased, siamese, matching, protonet, \
                         rnn-reader, memory-reader, strategy)",
                    ));
                }
            };
            learners.push(Sized { size: n, learner });
        }
    }
    Ok(MetaModel { protocol: protocol.to_owned(), model: model.to_owned(), base, learners })
}

impl MetaModel {
    /// The file as JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        let base = serde_json::from_slice(&self.base.to_json()).unwrap_or(serde_json::Value::Null);
        let out = FileOut {
            format_version: META_FORMAT_VERSION,
            kind: "attune-meta",
            attune_version: env!("CARGO_PKG_VERSION"),
            protocol: &self.protocol,
            model: &self.model,
            base,
            learners: &self.learners,
        };
        serde_json::to_vec(&out).unwrap_or_default()
    }

    /// Writes the file atomically (a crash leaves the old file or the new one).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn save(&self, path: &Path) -> Result<()> {
        attune_models::write_atomically(path, &self.to_json())
            .map_err(|source| Error::Io { path: path.to_owned(), source })
    }

    /// Reads and checks a file written by [`MetaModel::save`].
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Json`], [`Error::InvalidFile`] naming the field.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        Self::from_json(path, &bytes)
    }

    /// [`MetaModel::load`] on bytes; `path` names them in errors.
    ///
    /// # Errors
    /// As [`MetaModel::load`].
    pub fn from_json(path: &Path, bytes: &[u8]) -> Result<Self> {
        let invalid =
            |field: &str, reason: String| Error::InvalidFile { path: path.to_owned(), field: field.to_owned(), reason };
        let file: FileIn =
            serde_json::from_slice(bytes).map_err(|source| Error::Json { path: path.to_owned(), source })?;
        if file.kind.as_deref() != Some("attune-meta") {
            return Err(invalid("kind", "not \"attune-meta\": not a meta-trained model file".into()));
        }
        match file.format_version.as_ref().and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(META_FORMAT_VERSION) => {}
            other => {
                return Err(invalid(
                    "format_version",
                    format!("{other:?}: this build reads version {META_FORMAT_VERSION}"),
                ));
            }
        }
        let base_bytes = serde_json::to_vec(&file.base).unwrap_or_default();
        let base = FittedModel::from_json(path, &base_bytes).map_err(|e| invalid("base", e.to_string()))?;
        if file.protocol != "e4" && file.protocol != "e5" {
            return Err(invalid("protocol", format!("{:?}: e4 or e5", file.protocol)));
        }
        if file.learners.is_empty() {
            return Err(invalid("learners", "empty".into()));
        }
        for (j, s) in file.learners.iter().enumerate() {
            check_learner(&file.protocol, &base, &s.learner)
                .map_err(|(f, reason)| invalid(&format!("learners[{j}].{f}"), reason))?;
        }
        let mut learners = file.learners;
        learners.sort_by_key(|s| s.size);
        Ok(Self { protocol: file.protocol, model: file.model, base, learners })
    }

    /// Adapts to a new learner (on the base's ids) from their first answers with the learner
    /// trained for the largest support size not above theirs: an ordinary fitted model of the
    /// model layer and the learner's state after the support. `None` for an E4 tester file
    /// (BiIRT, BiNN), whose learners choose items rather than trace.
    pub fn adapt(&self, support: &[Interaction<'_>]) -> Option<(FittedModel, LearnerState)> {
        let (base, model, state) = self.adapt_on(support)?;
        // A strategy's chosen candidate has its own base: its name and configuration go with
        // its model.
        let mut fitted = base.clone();
        fitted.model = model.into_owned();
        Some((fitted, state))
    }

    /// [`MetaModel::adapt`]'s model and state alone (on the file's ids).
    pub fn adapt_model(&self, support: &[Interaction<'_>]) -> Option<(Cow<'_, Model>, LearnerState)> {
        self.adapt_on(support).map(|(_, model, state)| (model, state))
    }

    /// The adapted model, its state, and the fitted model it adapts.
    fn adapt_on(&self, support: &[Interaction<'_>]) -> Option<(&FittedModel, Cow<'_, Model>, LearnerState)> {
        let tracers: Vec<&Sized> = self
            .learners
            .iter()
            .filter(|s| !matches!(s.learner, Trained::Tester(_) | Trained::NnTester(_) | Trained::Tester2pl(_)))
            .collect();
        let chosen = tracers.iter().rev().find(|s| s.size <= support.len()).or_else(|| tracers.first())?;
        Some(match &chosen.learner {
            Trained::Strategy(s) => {
                let c = s.chosen(support);
                let (model, state) = adapt_tracer(&c.base.model, c.trained.as_ref(), support);
                (&c.base, model, state)
            }
            learner => {
                let (model, state) = adapt_tracer(&self.base.model, Some(learner), support);
                (&self.base, model, state)
            }
        })
    }

    /// Cold-start tracing of one learner's `answers` (on the base's ids), in order: each
    /// answer predicted from the ones before it by the model adapted to them — adapted afresh
    /// whenever the answers so far reach a size a learner was trained for (from none, the
    /// population), traced on by its own update in between. The predictions, and the model and
    /// state after the last answer; `None` for an E4 tester file.
    pub fn trace(&self, answers: &[Interaction<'_>]) -> Option<(Vec<Probability>, Cow<'_, Model>, LearnerState)> {
        let (mut model, mut state) = self.adapt_model(&[])?;
        let mut p = Vec::with_capacity(answers.len());
        for (j, obs) in answers.iter().enumerate() {
            if j > 0 && self.learners.iter().any(|s| s.size == j) {
                (model, state) = self.adapt_model(&answers[..j])?;
            }
            p.push(model.predict_interaction(&state, obs));
            model.update(&mut state, obs);
        }
        Some((p, model, state))
    }

    /// [`MetaModel::trace`] over every learner of `data` (on the base's ids), in parallel:
    /// every answer's prediction in row order, and each learner's model and final state in
    /// the order of [`Dataset::learners`]; `None` for an E4 tester file.
    #[allow(clippy::type_complexity)]
    pub fn trace_dataset(&self, data: &Dataset) -> Option<(Vec<Probability>, Vec<(Cow<'_, Model>, LearnerState)>)> {
        let learners: Vec<_> = data.learners().collect();
        let traced: Vec<_> = learners
            .par_iter()
            .map(|rows| {
                let answers: Vec<Interaction<'_>> = data.interactions(rows.clone()).collect();
                self.trace(&answers)
            })
            .collect::<Option<_>>()?;
        let mut p = vec![Probability::new(0.5); data.len()];
        let mut finals = Vec::with_capacity(traced.len());
        for (rows, (q, model, state)) in learners.iter().zip(traced) {
            p[rows.clone()].copy_from_slice(&q);
            finals.push((model, state));
        }
        Some((p, finals))
    }

    /// The algorithm of an E5 file.
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.model.parse().ok()
    }
}

/// Checks one learner of a `protocol` file against its base; `Err((field, reason))`, the
/// field relative to the learner.
pub(crate) fn check_learner(
    protocol: &str,
    base: &FittedModel,
    learner: &Trained,
) -> std::result::Result<(), (String, String)> {
    let at = |(f, reason): (&str, String)| (f.to_owned(), reason);
    let kind = |reason: String| Err(("kind".to_owned(), reason));
    let e5 = protocol == "e5";
    let irt = match (&base.model, learner) {
        (_, Trained::Strategy(s)) => return s.check(protocol),
        (Model::Dkt(dkt), Trained::DktTracer(m)) if e5 => return m.check(dkt).map_err(at),
        (Model::Dkt(dkt), Trained::DktReader(r)) if e5 => return r.check_dkt(dkt),
        (Model::Dkt(_), _) => return kind("a dkt base takes E5 dkt_tracer and dkt_reader learners only".into()),
        (Model::Bkt(bkt), Trained::BktTracer(m)) if e5 => return m.check(bkt).map_err(at),
        (Model::Bkt(bkt), Trained::BktReader(r)) if e5 => return r.check_bkt(bkt),
        (Model::Bkt(_), _) => return kind("a bkt base takes E5 bkt_tracer and bkt_reader learners only".into()),
        (Model::Irt(irt), _) => irt,
        _ => return kind(format!("{}: meta-learners here adapt irt1pl, dkt and bkt", base.name().as_str())),
    };
    let n = irt.difficulty.len() + 1;
    let invalid = |f: &str, reason: String| Err((f.to_owned(), reason));
    let meta = match learner {
        Trained::Tracer(m) if e5 => m,
        Trained::Reader(r) => return r.check(irt),
        Trained::Optimizer(o) if e5 => {
            if !o.optimizer.is_valid() {
                return invalid(
                    "optimizer",
                    format!("not an LSTM of {} hidden units with finite weights", crate::lstm_opt::LSTM_HIDDEN),
                );
            }
            &o.meta
        }
        Trained::Tester2pl(m) if !e5 => {
            if !irt.config.discrimination {
                return kind("a tester_2pl learner needs an irt2pl base".into());
            }
            m.check(n)?;
            if let Some(net) = &m.net {
                check_policy(net, n).map_err(|reason| ("net".to_owned(), reason))?;
            } else if m.policy.learned() {
                return invalid("net", "missing: a learned policy needs its network".into());
            }
            return Ok(());
        }
        Trained::NnTester(m) if !e5 => {
            m.check(n).map_err(at)?;
            if let Some(net) = &m.net {
                check_policy(net, n).map_err(|reason| ("net".to_owned(), reason))?;
            } else if m.policy.learned() {
                return invalid("net", "missing: a learned policy needs its network".into());
            }
            return Ok(());
        }
        Trained::Tester(b) if !e5 => {
            if let Some(net) = &b.net {
                check_policy(net, n).map_err(|reason| ("net".to_owned(), reason))?;
            } else if b.policy.learned() {
                return invalid("net", "missing: a learned policy needs its network".into());
            }
            &b.meta
        }
        _ => return kind(format!("does not belong to protocol {protocol}")),
    };
    if meta.difficulty.len() != n || meta.rate_item.len() != n {
        return invalid(
            "difficulty",
            format!("{} values for {n} items (the base's and one unseen)", meta.difficulty.len()),
        );
    }
    if !(1..=100).contains(&meta.steps) {
        return invalid("steps", format!("{}: between 1 and 100", meta.steps));
    }
    let finite = |x: f64, hi: f64| x.is_finite() && x.abs() <= hi;
    if !finite(meta.theta0, 6.0) || meta.difficulty.iter().any(|&b| !finite(b, 1e3)) {
        return invalid("difficulty", "a value is not finite or out of range".into());
    }
    if !(finite(meta.rate_theta, 100.0) && meta.rate_theta >= 0.0)
        || meta.rate_item.iter().any(|&r| !(finite(r, 100.0) && r >= 0.0))
    {
        return invalid("rate_item", "a rate is not in [0, 100]".into());
    }
    if meta.base.difficulty.len() + 1 != n {
        return invalid("base", "does not match the base model".into());
    }
    Ok(())
}

/// A selection network's shapes and weights against the base's `n` items (and one unseen).
fn check_policy(net: &crate::policy::Policy, n: usize) -> std::result::Result<(), String> {
    let ok = net.n_items == n
        && net.w_in.len() == n * HIDDEN
        && net.w_out.len() == n * HIDDEN
        && net.b_in.len() == HIDDEN
        && net.b_out.len() == n;
    if !ok {
        return Err(format!("shapes do not match {n} items and {HIDDEN} hidden units"));
    }
    if net.w_in.iter().chain(&net.w_out).chain(&net.b_in).chain(&net.b_out).any(|x| !x.is_finite() || x.abs() > 1e6) {
        return Err("a weight is not finite or beyond ±1e6".into());
    }
    Ok(())
}
