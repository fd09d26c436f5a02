//! Meta-learning over students: each learner is a task, a meta-learner trained across many
//! learners adapts a student model to a new one from a few answers.
//!
//! - [`tasks`]: the protocols' data filters and seeded splits (first attempts, folds of
//!   learners, pool/query draws, support/query episodes, small training cohorts).
//! - [`e4`](mod@e4): protocol E4, cold-start adaptive testing (BOBCAT, Ghosh & Lan, IJCAI 2021), over
//!   any [`AdaptiveTester`]; [`IrtTester`] is its classic IRT baseline with attune-policy's
//!   selection rules.
//! - [`e5`](mod@e5): protocol E5, cold-start knowledge tracing, over any [`MetaLearner`]; the base
//!   learner not adapted is [`NotAdapted`].
//! - [`MetaIrt`]: the optimization-based meta-learners over the Rasch model (fine-tuning,
//!   MAML, first-order MAML, Reptile, Meta-SGD, ANIL) with exact second-order meta-gradients
//!   ([`inner`]); [`LstmIrt`], a learned LSTM optimizer as the inner loop.
//! - [`MetaDkt`]: the same learners over DKT, all of the LSTM's weights adapted (ANIL: the
//!   read-out), second-order through exact Hessian-vector products ([`dkt_inner`], [`dual`]).
//! - [`MetaBkt`]: the same learners over BKT, the prior, learn, guess and slip of the skills a
//!   learner practises adapted (ANIL: prior and learn), through the forward algorithm's
//!   hand-written gradient and its dual-number Hessian-vector product ([`bkt_inner`]).
//! - [`BiIrt`] and [`BiNn`]: BOBCAT's bilevel response models for adaptive testing, with the
//!   Random, Active, Fisher-information, straight-through Approx and PPO-trained Unbiased
//!   selection rules; [`Bi2pl`], BiIRT over the 2PL, whose slopes are meta-learned too.
//! - [`e4()`] and [`e5()`]: the protocols end to end (folds, base learner, baselines,
//!   means over folds or cohorts, bootstrap intervals), as `attune eval` runs them.
//! - [`meta_train`] and [`MetaModel`]: a meta-trained model and its file (the base learner's
//!   ordinary model file beside the meta-learned parameters); [`MetaModel::adapt`] gives an
//!   ordinary fitted model for a new learner.
//! - [`Strategy`]: strategy selection, choosing per learner from their first answers the
//!   base learner and adaptation ([`StrategySpec`]) expected to predict them best; in
//!   adaptive testing ([`StrategyTester`]), the response model reading IRT-Active's test.
//! - [`bootstrap`]: paired bootstrap intervals over learners for every claimed win.

mod bilevel;
pub mod bkt_inner;
mod bkt_meta;
mod bobcat;
mod bobcat_2pl;
mod bobcat_nn;
pub mod bootstrap;
pub mod dkt_inner;
mod dkt_meta;
pub mod dual;
pub mod e4;
pub mod e5;
mod error;
mod file;
pub mod inner;
mod irt_cat;
mod irt_meta;
mod lstm_opt;
mod outer;
pub mod policy;
mod ppo;
mod protocol;
pub mod readers;
mod strategy;
pub mod tasks;
mod tracer;

pub use crate::bkt_meta::MetaBkt;
pub use crate::bobcat::{BiIrt, BiPolicy, BiSession};
pub use crate::bobcat_2pl::{
    Answer2pl, Bi2pl, MetaGradient2pl, StartPriors, meta_gradient_2pl, selection_gradient_2pl, trajectory_2pl,
};
pub use crate::bobcat_nn::{BiNn, BiNnSession, NN_DIMS, NN_HIDDEN};
pub use crate::dkt_meta::MetaDkt;
pub use crate::e4::{AdaptiveTester, E4_STEPS, E4Outcome, E4Settings, run_e4};
pub use crate::e5::{Adapted, MetaLearner, NotAdapted, Traced, trace_e5};
pub use crate::error::{Error, Result};
pub use crate::file::{META_FORMAT_VERSION, MetaModel, Sized, Trained, meta_train};
pub use crate::irt_cat::IrtTester;
pub use crate::irt_meta::{Algorithm, MetaConfig, MetaIrt};
pub use crate::lstm_opt::{LSTM_HIDDEN, LstmIrt, LstmOptimizer};
pub use crate::protocol::{
    E4Fold, E4Model, E4Report, E5Model, E5Report, E5Run, E5Scores, E5Unit, StrategyReport, e4, e5,
};
pub use crate::readers::{ReaderKind, ReaderModel};
pub use crate::strategy::{
    Candidate, DEFAULT_STRATEGIES, DEFAULT_TEST_STRATEGIES, Features, Selector, Strategy, StrategySession,
    StrategySpec, StrategyTester, check_test_strategies, fit_strategy_bases, parse_strategies,
    train_strategy_candidates, train_test_candidates,
};
pub use crate::tracer::AdaptedModel;
