//! Logistic knowledge tracing over item, skill and practice-count features: Performance Factors
//! Analysis (Pavlik, Cen & Koedinger, AIED 2009) and Best-LR (Gervet, Koedinger, Schneider &
//! Mitchell, JEDM 2020), which add item difficulties and overall counts.

use attune_core::{Cancelled, Dataset, Interaction, ItemId, KnowledgeTracer, Probability, Progress, SkillId};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::error::{Result, check_range};
use crate::logistic::{Design, sigmoid};
use crate::newton::{self, NewtonCg};

/// Which per-skill counts enter the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkillCounts {
    /// None.
    None,
    /// Earlier successes and failures on each skill (PFA's γ and ρ).
    SuccessFailure,
    /// Earlier successes and attempts on each skill (Gervet et al.'s "sc" features).
    WinsAttempts,
}

/// Hyperparameters of a logistic count model. [`CountsConfig::pfa`] and
/// [`CountsConfig::best_lr`] give the two published feature sets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CountsConfig {
    /// One difficulty per item.
    pub items: bool,
    /// One easiness per skill.
    pub skills: bool,
    /// Per-skill count features, each with its own weight per skill.
    pub skill_counts: SkillCounts,
    /// Overall successes and attempts of the learner, on any skill.
    pub total_counts: bool,
    /// Earlier successes and attempts of the learner on this very item (weights shared by
    /// all items; default off).
    #[serde(default)]
    pub item_counts: bool,
    /// Counts enter as `ln(1 + n)` rather than `n` (Gervet et al. scale counts this way).
    pub log_counts: bool,
    /// L2 penalty on all weights but the intercept (scikit-learn's `1 / C`; default 1).
    pub l2: f64,
    /// Most Newton steps of the fit (default 100; Best-LR on ASSIST2009 converges in 8).
    pub max_iter: usize,
}

impl CountsConfig {
    /// PFA as Gervet et al. encode it (`-s -sc -w -a`): skill easiness plus per-skill wins
    /// and attempts, log-scaled. With raw counts, wins/attempts and Pavlik's
    /// successes/failures are the same model reparameterised.
    pub fn pfa() -> Self {
        Self {
            items: false,
            skills: true,
            skill_counts: SkillCounts::WinsAttempts,
            total_counts: false,
            item_counts: false,
            log_counts: true,
            l2: 1.0,
            max_iter: 100,
        }
    }

    /// Best-LR as Gervet et al. encode it (`-i -s -ic -sc -tc -w -a`): item and skill
    /// one-hots; wins and attempts on the same item, on each skill and overall, log-scaled.
    pub fn best_lr() -> Self {
        Self {
            items: true,
            skills: true,
            skill_counts: SkillCounts::WinsAttempts,
            total_counts: true,
            item_counts: true,
            log_counts: true,
            l2: 1.0,
            max_iter: 100,
        }
    }

    /// Checks the ranges.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`].
    pub fn validate(&self) -> Result<()> {
        check_range("l2", self.l2, 0.0, f64::MAX, "a finite number >= 0")?;
        check_range("max_iter", self.max_iter as f64, 1.0, 1e9, "at least 1")
    }

    /// Fits the weights on `train` by regularised maximum likelihood (Newton–CG).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`], [`Error::EmptyTrainingSet`], [`Error::Cancelled`].
    pub fn fit(&self, train: &Dataset, progress: &dyn Progress) -> Result<CountsModel> {
        self.validate()?;
        if train.is_empty() {
            return Err(Error::EmptyTrainingSet { model: "logistic counts" });
        }
        let v = train.vocab();
        let mut model = CountsModel {
            config: self.clone(),
            n_items: v.n_items(),
            n_skills: v.n_skills(),
            weights: Vec::new(),
            item_skills: v.item_skills.clone(),
        };
        model.weights = vec![0.0; model.n_features() + 1];
        let mut design = Design::new();
        let mut feats = Vec::new();
        for rows in train.learners() {
            let mut state = model.initial_state();
            for i in rows {
                let obs = train.interaction(i);
                feats.clear();
                model.for_each_feature(&state, obs.item, obs.skills, |j, v| feats.push((j, v)));
                design.push_row(&feats, obs.correct);
                model.update(&mut state, &obs);
            }
        }
        progress.start("fitting logistic model (Newton-CG)", self.max_iter as u64);
        let mut cancelled = false;
        let cfg = NewtonCg { max_iter: self.max_iter, ..NewtonCg::default() };
        let mut w = std::mem::take(&mut model.weights);
        let mut scales = design.standardize(w.len() - 1);
        scales.push(1.0);
        newton::minimize(cfg, &design, &mut w, self.l2, &scales, |_| {
            cancelled = !progress.advance(1);
            !cancelled
        });
        if cancelled {
            return Err(Cancelled.into());
        }
        model.weights = w.iter().zip(&scales).map(|(w, s)| w / s).collect();
        Ok(model)
    }
}

/// A fitted logistic count model (PFA or Best-LR).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CountsModel {
    /// The configuration it was fitted with.
    pub config: CountsConfig,
    /// Items known at fit time.
    pub n_items: usize,
    /// Skills known at fit time.
    pub n_skills: usize,
    /// Weights in feature order (items, skills, skill counts ×2, total counts ×2), intercept
    /// last.
    pub weights: Vec<f64>,
    /// Skills of each item.
    pub item_skills: Vec<Vec<SkillId>>,
}

/// A learner's practice counts: per skill the model knows, in total, and (for models with
/// item counts) per item the learner answered, so the state is bounded by the model's skills
/// and the distinct items answered, never by the number of answers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LearnerCounts {
    /// Right answers by skill index (as long as the highest skill practised).
    pub wins: Vec<u32>,
    /// Answers by skill index (the same length as `wins`).
    pub attempts: Vec<u32>,
    /// Right answers in all.
    pub total_wins: u32,
    /// Answers in all.
    pub total_attempts: u32,
    /// `(item, wins, attempts)` of each item answered, sorted by item.
    pub items: Vec<(ItemId, u32, u32)>,
}

impl LearnerCounts {
    fn get(&self, s: SkillId) -> (u32, u32) {
        (self.wins.get(s.index()).copied().unwrap_or(0), self.attempts.get(s.index()).copied().unwrap_or(0))
    }

    fn item(&self, item: ItemId) -> (u32, u32) {
        self.items.binary_search_by_key(&item, |t| t.0).map_or((0, 0), |j| (self.items[j].1, self.items[j].2))
    }
}

impl CountsModel {
    fn offsets(&self) -> [usize; 6] {
        let c = &self.config;
        let items = 0;
        let skills = items + if c.items { self.n_items } else { 0 };
        let counts = skills + if c.skills { self.n_skills } else { 0 };
        let total = counts + if c.skill_counts == SkillCounts::None { 0 } else { 2 * self.n_skills };
        let item_counts = total + if c.total_counts { 2 } else { 0 };
        let end = item_counts + if c.item_counts { 2 } else { 0 };
        [items, skills, counts, total, item_counts, end]
    }

    fn n_features(&self) -> usize {
        self.offsets()[5]
    }

    fn scale(&self, n: u32) -> f64 {
        if self.config.log_counts { f64::from(n).ln_1p() } else { f64::from(n) }
    }

    fn for_each_feature(&self, st: &LearnerCounts, item: ItemId, skills: &[SkillId], mut out: impl FnMut(u32, f64)) {
        let [item_off, skill_off, count_off, total_off, item_count_off, _] = self.offsets();
        let c = &self.config;
        let idx = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        if c.items && item.index() < self.n_items {
            out(idx(item_off + item.index()), 1.0);
        }
        for &s in skills.iter().filter(|s| s.index() < self.n_skills) {
            if c.skills {
                out(idx(skill_off + s.index()), 1.0);
            }
            let (w, a) = st.get(s);
            let (first, second) = match c.skill_counts {
                SkillCounts::None => continue,
                SkillCounts::SuccessFailure => (w, a - w),
                SkillCounts::WinsAttempts => (w, a),
            };
            out(idx(count_off + 2 * s.index()), self.scale(first));
            out(idx(count_off + 2 * s.index() + 1), self.scale(second));
        }
        if c.total_counts {
            out(idx(total_off), self.scale(st.total_wins));
            out(idx(total_off + 1), self.scale(st.total_attempts));
        }
        if c.item_counts {
            let (w, a) = st.item(item);
            out(idx(item_count_off), self.scale(w));
            out(idx(item_count_off + 1), self.scale(a));
        }
    }

    fn logit(&self, st: &LearnerCounts, item: ItemId, skills: &[SkillId]) -> f64 {
        let mut z = self.weights.last().copied().unwrap_or(0.0);
        self.for_each_feature(st, item, skills, |j, v| z += self.weights[j as usize] * v);
        z
    }
}

impl KnowledgeTracer for CountsModel {
    type State = LearnerCounts;

    fn initial_state(&self) -> LearnerCounts {
        LearnerCounts::default()
    }

    fn update(&self, st: &mut LearnerCounts, obs: &Interaction<'_>) {
        // Skills and items the model has no weight for add nothing to a prediction.
        for &s in obs.skills.iter().filter(|s| s.index() < self.n_skills) {
            let k = s.index();
            if st.attempts.len() <= k {
                st.attempts.resize(k + 1, 0);
                st.wins.resize(k + 1, 0);
            }
            st.attempts[k] = st.attempts[k].saturating_add(1);
            st.wins[k] = st.wins[k].saturating_add(u32::from(obs.correct));
        }
        st.total_attempts = st.total_attempts.saturating_add(1);
        st.total_wins = st.total_wins.saturating_add(u32::from(obs.correct));
        // Items the model has no weight for still count: the item-count weights are shared by
        // all items. A sorted list keyed by id, so no id, however large, sizes an allocation.
        if self.config.item_counts {
            let j = match st.items.binary_search_by_key(&obs.item, |t| t.0) {
                Ok(j) => j,
                Err(j) => {
                    st.items.insert(j, (obs.item, 0, 0));
                    j
                }
            };
            st.items[j].1 = st.items[j].1.saturating_add(u32::from(obs.correct));
            st.items[j].2 = st.items[j].2.saturating_add(1);
        }
    }

    fn predict(&self, st: &LearnerCounts, item: ItemId) -> Probability {
        let skills = self.item_skills.get(item.index()).map_or(&[][..], Vec::as_slice);
        Probability::new(sigmoid(self.logit(st, item, skills)))
    }

    fn predict_interaction(&self, st: &LearnerCounts, obs: &Interaction<'_>) -> Probability {
        Probability::new(sigmoid(self.logit(st, obs.item, obs.skills)))
    }
}
