//! Learner types of a whole dataset, for reports: the prototypical network trained on a
//! seeded 80 % of the learners (the type count and epochs chosen on the other 20 %), then
//! every learner given the type their whole history is nearest to.

use attune_core::{Dataset, Interaction, Progress};
use attune_models::{Model, ModelName, ModelSpec, Training, fit};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::Serialize;

use super::{ReaderKind, ReaderModel};
use crate::irt_meta::MetaConfig;
use crate::{Error, Result};

/// Support size the report's prototypes are trained at: about what a learner has after a
/// first session.
const REPORT_SUPPORT: usize = 10;

/// One learner type in words a teacher can read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TypeSummary {
    /// 1-based name, `Type 1` the largest.
    pub name: String,
    /// Learners of the dataset given this type.
    pub learners: usize,
    /// Their share.
    pub share: f64,
    /// Logit gain of a right answer per doubling of practice on a skill, typical of the type.
    pub learning_rate: f64,
    /// Mastery (chance of a right answer on a typical item) per skill, by the skill's
    /// source id, skills in the dataset's order.
    pub mastery: Vec<(String, f64)>,
}

/// The learner types of a dataset and each learner's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LearnerTypes {
    /// Types, largest first.
    pub types: Vec<TypeSummary>,
    /// Each learner's type (an index into `types`), by the learner's source id.
    pub of_learner: Vec<(String, usize)>,
    /// The E5 validation AUC of the prototypical network at the report's support size.
    pub validation_auc: f64,
}

/// Finds the learner types of `data` (see the module's comment).
///
/// # Errors
/// Fewer than 10 learners, a failed fit, cancellation.
pub fn learner_types(data: &Dataset, seed: u64, progress: &dyn Progress) -> Result<LearnerTypes> {
    if data.n_learners() < 10 {
        return Err(Error::TooFewLearners { needed: 10, found: data.n_learners() });
    }
    let mut order: Vec<usize> = (0..data.n_learners()).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    let cut = data.n_learners() * 4 / 5;
    let (mut tr, mut va) = (order[..cut].to_vec(), order[cut..].to_vec());
    tr.sort_unstable();
    va.sort_unstable();
    let (train, valid) = (data.select_learners(&tr), data.select_learners(&va));
    let base = fit(&ModelSpec::new(ModelName::Irt1pl, seed), Training { train: &train, validation: None }, progress)?;
    let Model::Irt(irt) = &base.model else {
        return Err(Error::UnsupportedBase {
            learner: "protonet",
            base: base.name().as_str().into(),
            supported: "irt1pl",
        });
    };
    let cfg = MetaConfig { seed, ..MetaConfig::default() };
    let (train_m, valid_m, all_m) = (base.ids.remap(&train), base.ids.remap(&valid), base.ids.remap(data));
    let trained = ReaderModel::train(ReaderKind::ProtoNet, irt, &train_m, &valid_m, REPORT_SUPPORT, &cfg, progress)?;
    let ReaderModel::ProtoNet(net) = &trained else {
        return Err(Error::UnsupportedBase { learner: "report", base: "irt1pl".into(), supported: "protonet" });
    };
    let mut of_learner = Vec::with_capacity(all_m.n_learners());
    let mut counts = vec![0usize; net.types.len()];
    for rows in all_m.learners() {
        let history: Vec<Interaction<'_>> = all_m.interactions(rows.clone()).collect();
        let t = net.type_of(&history);
        counts[t] += 1;
        let who = all_m.vocab().students.name(all_m.students()[rows.start].0).unwrap_or("?").to_owned();
        of_learner.push((who, t));
    }
    // Largest type first.
    let mut rank: Vec<usize> = (0..net.types.len()).collect();
    rank.sort_by_key(|&t| std::cmp::Reverse(counts[t]));
    let mut new_index = vec![0; rank.len()];
    for (i, &t) in rank.iter().enumerate() {
        new_index[t] = i;
    }
    of_learner.iter_mut().for_each(|(_, t)| *t = new_index[*t]);
    let skills = all_m.vocab().n_skills().min(net.target.n_skills);
    let n = all_m.n_learners() as f64;
    let types = rank
        .iter()
        .enumerate()
        .map(|(i, &t)| TypeSummary {
            name: format!("Type {}", i + 1),
            learners: counts[t],
            share: counts[t] as f64 / n,
            learning_rate: net.types[t].learning_rate,
            mastery: (0..skills)
                .filter_map(|s| {
                    let id = all_m.vocab().skills.name(s as u32)?.to_owned();
                    Some((id, net.mastery(t, s)?))
                })
                .collect(),
        })
        .collect();
    Ok(LearnerTypes { types, of_learner, validation_auc: trained.validation_auc() })
}
