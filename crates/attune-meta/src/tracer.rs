//! Any E5 learner over any base: training it by name and adapting with it to an ordinary
//! [`Model`] and [`LearnerState`]. What protocol E5, meta-model files and strategy selection
//! share, so that each learner is trained and adapted in one place.

use std::borrow::Cow;

use attune_core::{Dataset, Interaction, ItemId, KnowledgeTracer, Probability, Progress, SkillId};
use attune_models::{FittedModel, LearnerState, Model};

use crate::bkt_meta::MetaBkt;
use crate::dkt_meta::MetaDkt;
use crate::e5::{Adapted, MetaLearner};
use crate::file::Trained;
use crate::irt_meta::{MetaConfig, MetaIrt};
use crate::lstm_opt::LstmIrt;
use crate::protocol::{E5Model, rasch};
use crate::readers::{BktReader, DktReader, ReaderKind, ReaderModel};
use crate::{Error, Result};

/// Trains the E5 learner `model` over `base` for support size `k` on `train`, choosing what
/// it chooses on `valid` (both on the base's ids); `None` for `none`, which does not adapt.
///
/// # Errors
/// A base the learner cannot adapt, too few learners, a failed fit, cancellation.
pub(crate) fn train_tracer(
    model: E5Model,
    base: &FittedModel,
    train: &Dataset,
    valid: &Dataset,
    k: usize,
    cfg: &MetaConfig,
    progress: &dyn Progress,
) -> Result<Option<Trained>> {
    Ok(Some(match model {
        E5Model::None => return Ok(None),
        E5Model::Strategy => {
            return Err(Error::UnsupportedBase {
                learner: "strategy",
                base: base.name().as_str().to_owned(),
                supported: "a strategy's candidates, not another strategy",
            });
        }
        E5Model::LstmOpt => {
            Trained::Optimizer(LstmIrt::train(&rasch(base, "lstm-opt")?, train, valid, k, cfg, progress)?)
        }
        E5Model::Reader(kind) => match &base.model {
            Model::Bkt(bkt) if matches!(kind, ReaderKind::RnnReader | ReaderKind::MemoryReader) => {
                Trained::BktReader(BktReader::train_bkt(kind, bkt, train, valid, k, cfg, progress)?)
            }
            Model::Dkt(dkt) if matches!(kind, ReaderKind::RnnReader | ReaderKind::MemoryReader) => {
                Trained::DktReader(Box::new(DktReader::train_dkt(kind, dkt, train, valid, k, cfg, progress)?))
            }
            _ => {
                Trained::Reader(ReaderModel::train(kind, &rasch(base, kind.as_str())?, train, valid, k, cfg, progress)?)
            }
        },
        E5Model::Meta(a) => match &base.model {
            Model::Dkt(dkt) => Trained::DktTracer(MetaDkt::train(a, dkt, train, valid, k, cfg, progress)?),
            Model::Bkt(bkt) => Trained::BktTracer(MetaBkt::train(a, bkt, train, valid, k, cfg, progress)?),
            _ => Trained::Tracer(MetaIrt::train(a, &rasch(base, a.as_str())?, train, valid, k, cfg, progress)?),
        },
    }))
}

/// Adapts to a learner from `support` (on the base's ids) with `trained` over `base` (or not
/// at all, the state read from the support; an adaptive tester does not trace, so its base
/// does not adapt either): the adapted model, borrowed where it is the base itself, and the
/// learner's state.
pub(crate) fn adapt_tracer<'m>(
    base: &'m Model,
    trained: Option<&Trained>,
    support: &[Interaction<'_>],
) -> (Cow<'m, Model>, LearnerState) {
    match trained {
        None | Some(Trained::Tester(_) | Trained::NnTester(_) | Trained::Tester2pl(_)) => {
            let mut state = base.initial_state();
            support.iter().for_each(|obs| base.update(&mut state, obs));
            (Cow::Borrowed(base), state)
        }
        Some(Trained::Tracer(m)) => irt(m.adapt(support)),
        Some(Trained::Reader(m)) => irt(m.adapt(support)),
        Some(Trained::Optimizer(o)) => irt(o.adapt(support)),
        Some(Trained::DktTracer(m)) => {
            let a = m.adapt(support);
            (Cow::Owned(Model::Dkt(a.model)), LearnerState::Dkt(a.state))
        }
        Some(Trained::BktTracer(m)) => {
            let a = m.adapt(support);
            (Cow::Owned(Model::Bkt(a.model)), LearnerState::Bkt(a.state))
        }
        Some(Trained::DktReader(r)) => {
            let a = r.adapt(support);
            // The reader's DKT is the base's (checked on load): borrow the base.
            let model = match base {
                Model::Dkt(_) => Cow::Borrowed(base),
                _ => Cow::Owned(Model::Dkt(a.model.clone())),
            };
            (model, LearnerState::Dkt(a.state))
        }
        Some(Trained::BktReader(r)) => {
            let a = r.adapt(support);
            (Cow::Owned(Model::Bkt(a.model)), LearnerState::Bkt(a.state))
        }
        Some(Trained::Strategy(s)) => {
            let (model, state) = s.adapt_model(support);
            (Cow::Owned(model.into_owned()), state)
        }
    }
}

fn irt(a: Adapted<attune_kt::Irt>) -> (Cow<'static, Model>, LearnerState) {
    (Cow::Owned(Model::Irt(a.model)), LearnerState::Irt(a.state))
}

/// An adapted model, the base itself where the learner does not change it.
#[derive(Clone, Debug)]
pub struct AdaptedModel<'m>(pub Cow<'m, Model>);

impl KnowledgeTracer for AdaptedModel<'_> {
    type State = LearnerState;
    fn initial_state(&self) -> LearnerState {
        self.0.initial_state()
    }
    fn update(&self, state: &mut LearnerState, obs: &Interaction<'_>) {
        self.0.update(state, obs);
    }
    fn predict(&self, state: &LearnerState, item: ItemId) -> Probability {
        self.0.predict(state, item)
    }
    fn predict_interaction(&self, state: &LearnerState, obs: &Interaction<'_>) -> Probability {
        self.0.predict_interaction(state, obs)
    }
    fn mastery(&self, state: &LearnerState, skill: SkillId) -> Option<Probability> {
        self.0.mastery(state, skill)
    }
    fn knowledge(&self, state: &LearnerState, skill: SkillId) -> Option<Probability> {
        self.0.knowledge(state, skill)
    }
}

/// A trained E5 learner over its base, as a [`MetaLearner`].
#[derive(Clone, Copy)]
pub(crate) struct Tracer<'m> {
    pub base: &'m Model,
    pub trained: Option<&'m Trained>,
}

impl MetaLearner for Tracer<'_> {
    type Learner<'a>
        = AdaptedModel<'a>
    where
        Self: 'a;

    fn adapt<'a>(&'a self, support: &[Interaction<'_>]) -> Adapted<AdaptedModel<'a>> {
        let (model, state) = adapt_tracer(self.base, self.trained, support);
        Adapted { model: AdaptedModel(model), state }
    }
}
