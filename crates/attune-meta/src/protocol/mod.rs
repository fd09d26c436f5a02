//! E4 and E5 end to end: folds of learners, the base learner fitted through the model layer,
//! baselines beside every meta-learner, mean ± sd over folds (or cohorts), paired bootstrap
//! intervals. The reports' keys are the JSON contract of `attune eval --protocol e4|e5`.

mod choice;
mod e4;
mod e5;

use std::collections::BTreeMap;

use attune_models::{FittedModel, Model};

pub use self::choice::StrategyReport;
pub use self::e4::{E4Fold, E4Model, E4Report, e4};
pub use self::e5::{E5Model, E5Report, E5Run, E5Scores, E5Unit, e5};
use crate::{Error, Result};

pub(super) fn keyed<V: Copy>(m: &BTreeMap<usize, V>) -> BTreeMap<String, V> {
    m.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

pub(super) fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n.max(1.0);
    let sd =
        if xs.len() > 1 { (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { f64::NAN };
    (mean, sd)
}

pub(super) fn check_folds(only: &[usize]) -> Result<()> {
    match only.iter().find(|&&k| k == 0 || k > crate::tasks::N_FOLDS) {
        Some(&k) => Err(Error::InvalidConfig {
            learner: "protocol",
            param: "fold",
            value: k.to_string(),
            reason: "between 1 and 5",
        }),
        None => Ok(()),
    }
}

pub(crate) fn rasch(base: &FittedModel, learner: &'static str) -> Result<attune_kt::Irt> {
    match &base.model {
        Model::Irt(irt) if irt.config.dims == 1 && !irt.config.discrimination => Ok(irt.clone()),
        _ => Err(Error::UnsupportedBase { learner, base: base.name().as_str().to_owned(), supported: "irt1pl" }),
    }
}

/// The 2PL inside a fitted model, if it is a unidimensional 2PL.
pub(crate) fn two_pl(base: &FittedModel) -> Option<&attune_kt::Irt> {
    match &base.model {
        Model::Irt(irt) if irt.config.dims == 1 && irt.config.discrimination => Some(irt),
        _ => None,
    }
}
