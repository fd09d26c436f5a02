//! The model-based readers over BKT (the RNN and the memory reader): they write a new learner's **per-skill prior and learn rate** (as
//! logits: `(a_1 … a_S, b_1 … b_S)`, `P(known₀) = σ(a_s)`, `P(learn) = σ(b_s)`) in one forward
//! pass; guess, slip and forgetting stay the normal fit's. The adapted learner is an ordinary
//! [`Bkt`] with those two parameters replaced, reading the support with its own update.
//!
//! Training differentiates the query loss through BKT's forward filter exactly, by carrying
//! the derivatives of `P(known)` with respect to the skill's two logits along each skill's
//! answers (forward mode: two tangents per skill practised).

use attune_core::{Dataset, Interaction, KnowledgeTracer, Progress, sigmoid};
use attune_kt::Bkt;
use serde::{Deserialize, Serialize};

use super::base::BaseReader;
use super::profile::Answer;
use super::{ProfileTarget, ReaderKind};
use crate::e5::Adapted;
use crate::irt_meta::MetaConfig;
use crate::{Error, Result};

/// Logits are kept within this bound (probabilities within about 3e-4 of 0 and 1).
const LOGIT_BOUND: f64 = 8.0;

/// Probabilities are clipped to this distance from 0 and 1 in log-losses.
const CLIP: f64 = 1e-6;

/// BKT fitted normally (one guess and slip per skill). An answer is read on its first skill,
/// as the readers read answers; the adapted model predicts with BKT's own rule.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SkillBkt {
    /// The normal fit.
    pub base: Bkt,
}

/// The RNN or memory reader writing BKT's per-skill prior and learn rate.
pub type BktReader = BaseReader<SkillBkt>;

/// One skill's filter: `P(known)` and its derivatives with respect to the skill's prior and
/// learn logits.
#[derive(Clone, Copy)]
struct Filter {
    skill: u32,
    known: f64,
    d_prior: f64,
    d_learn: f64,
}

impl SkillBkt {
    pub(crate) fn new(base: &Bkt) -> Self {
        Self { base: base.clone() }
    }

    fn params(&self, skill: u32) -> Option<&attune_kt::SkillParams> {
        self.base.skills.get(skill as usize).and_then(Option::as_ref)
    }

    /// The population's profile: the normal fit's prior and learn logits.
    pub(crate) fn population(&self) -> Vec<f64> {
        let s = self.base.skills.len();
        let mut p = vec![0.0; 2 * s];
        for (j, params) in self.base.skills.iter().enumerate() {
            if let Some(q) = params {
                p[j] = logit(q.prior);
                p[s + j] = logit(q.learn);
            }
        }
        p
    }

    /// The filter of `skill` for `profile`, started.
    fn start(&self, profile: &[f64], skill: u32) -> Filter {
        let raw = profile.get(skill as usize).copied().unwrap_or(0.0);
        let known = sigmoid(raw.clamp(-LOGIT_BOUND, LOGIT_BOUND));
        // Past the bound the clamp holds the prior: no derivative.
        let d_prior = if raw.abs() < LOGIT_BOUND { known * (1.0 - known) } else { 0.0 };
        Filter { skill, known, d_prior, d_learn: 0.0 }
    }
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-4, 1.0 - 1e-4);
    (p / (1.0 - p)).ln()
}

impl ProfileTarget for SkillBkt {
    type Learner<'a> = Bkt;

    fn answer(&self, obs: &Interaction<'_>, previous: Option<i64>) -> Answer {
        let n = self.base.skills.len() as u32;
        let item = obs.item.0.min(self.base.item_skills.len() as u32);
        let skill = obs.skills.first().map_or(n, |s| s.0.min(n));
        let gap = previous.map_or(0.0, |t| ((obs.time - t).max(0) as f64).ln_1p());
        Answer { item, skill, correct: obs.correct, gap }
    }

    /// The ordinary BKT learner a profile writes, its state after reading `support`.
    fn adapted<'a>(&'a self, profile: &[f64], support: &[Interaction<'_>]) -> Adapted<Self::Learner<'a>> {
        let s = self.base.skills.len();
        let mut model = self.base.clone();
        for (j, params) in model.skills.iter_mut().enumerate() {
            if let (Some(q), Some(&a), Some(&b)) = (params.as_mut(), profile.get(j), profile.get(s + j)) {
                q.prior = sigmoid(a.clamp(-LOGIT_BOUND, LOGIT_BOUND));
                q.learn = sigmoid(b.clamp(-LOGIT_BOUND, LOGIT_BOUND));
            }
        }
        let mut state = model.initial_state();
        for obs in support {
            model.update(&mut state, obs);
        }
        Adapted { model, state }
    }

    fn width(&self) -> usize {
        2 * self.base.skills.len()
    }

    fn n_skills(&self) -> usize {
        self.base.skills.len()
    }

    fn residual(&self, a: &Answer) -> f64 {
        let p =
            self.params(a.skill).map_or(self.base.base_rate, |q| q.prior * (1.0 - q.slip) + (1.0 - q.prior) * q.guess);
        f64::from(u8::from(a.correct)) - p
    }

    /// Gradient steps from the population's profile on the whole history, pulled toward the
    /// population's (a unit-precision prior on each logit).
    fn fit_profile(&self, answers: &[Answer]) -> Vec<f64> {
        let prior = self.population();
        let mut profile = prior.clone();
        let mut g = vec![0.0; profile.len()];
        for _ in 0..30 {
            g.fill(0.0);
            self.query_loss(&profile, &[], answers, &mut g);
            for ((p, g), p0) in profile.iter_mut().zip(&g).zip(&prior) {
                // The loss is a mean over answers: scale the step by their count.
                let step = answers.len() as f64 * g + (*p - p0);
                *p = (*p - 0.3 * step).clamp(-LOGIT_BOUND, LOGIT_BOUND);
            }
        }
        profile
    }

    fn query_loss(&self, profile: &[f64], support: &[Answer], query: &[Answer], grad: &mut [f64]) -> f64 {
        if query.is_empty() {
            return 0.0;
        }
        let s = self.base.skills.len();
        let scale = 1.0 / query.len() as f64;
        let mut filters: Vec<Filter> = Vec::new();
        let mut loss = 0.0;
        for (t, a) in support.iter().chain(query).enumerate() {
            let scored = t >= support.len();
            let Some(q) = self.params(a.skill) else {
                if scored {
                    loss -= if a.correct { self.base.base_rate } else { 1.0 - self.base.base_rate }.max(CLIP).ln();
                }
                continue;
            };
            let j = match filters.iter().position(|f| f.skill == a.skill) {
                Some(j) => j,
                None => {
                    filters.push(self.start(profile, a.skill));
                    filters.len() - 1
                }
            };
            let f = &mut filters[j];
            let (g, sl) = (q.guess, q.slip);
            let right = (f.known * (1.0 - sl) + (1.0 - f.known) * g).clamp(CLIP, 1.0 - CLIP);
            let dright = 1.0 - sl - g;
            if scored {
                let (l, dl) =
                    if a.correct { (-right.ln(), -1.0 / right) } else { (-(1.0 - right).ln(), 1.0 / (1.0 - right)) };
                loss += l;
                let d = dl * dright * scale;
                let j = a.skill as usize;
                if let Some(v) = grad.get_mut(j) {
                    *v += d * f.d_prior;
                }
                if let Some(v) = grad.get_mut(s + j) {
                    *v += d * f.d_learn;
                }
            }
            let (post, dpost) = if a.correct {
                (f.known * (1.0 - sl) / right, (1.0 - sl) * g / (right * right))
            } else {
                let wrong = 1.0 - right;
                (f.known * sl / wrong, sl * (1.0 - g) / (wrong * wrong))
            };
            let b = profile.get(s + a.skill as usize).copied().unwrap_or(0.0);
            let learn = sigmoid(b.clamp(-LOGIT_BOUND, LOGIT_BOUND));
            let dlearn = if b.abs() < LOGIT_BOUND { learn * (1.0 - learn) } else { 0.0 };
            let carry = dpost * (1.0 - q.forget - learn);
            f.known = post * (1.0 - q.forget) + (1.0 - post) * learn;
            f.d_prior *= carry;
            f.d_learn = f.d_learn * carry + (1.0 - post) * dlearn;
        }
        loss * scale
    }
}

impl BktReader {
    /// Trains the RNN or memory reader over `base` for support size `k` on the training
    /// learners (model ids), its stopping epoch chosen on the validation learners.
    ///
    /// # Errors
    /// Another reader, a base with a guess and slip per item, too few learners, cancellation.
    pub fn train_bkt(
        kind: ReaderKind,
        base: &Bkt,
        train: &Dataset,
        valid: &Dataset,
        k: usize,
        cfg: &MetaConfig,
        progress: &dyn Progress,
    ) -> Result<Self> {
        if base.config.multigs {
            return Err(Error::UnsupportedBase {
                learner: kind.as_str(),
                base: "bkt-multigs".into(),
                supported: "irt1pl, bkt, bkt-forgets",
            });
        }
        let target = SkillBkt::new(base);
        let prior = target.population();
        BaseReader::train(kind, target, &prior, train, valid, k, cfg, progress)
    }

    /// Checks a loaded reader against the file's base.
    ///
    /// # Errors
    /// The field and what is wrong with it.
    pub(crate) fn check_bkt(&self, base: &Bkt) -> std::result::Result<(), (String, String)> {
        let t = &self.target().base;
        let same = t.skills.len() == base.skills.len()
            && t.skills.iter().zip(&base.skills).all(|(a, b)| a.is_some() == b.is_some())
            && t.item_skills == base.item_skills;
        if !same {
            return Err(("target.base".into(), "does not match the file's base model".into()));
        }
        self.check_shapes()
    }
}

#[cfg(test)]
mod tests {
    use attune_core::{DatasetBuilder, NoProgress};
    use attune_kt::BktConfig;

    use super::*;

    /// BKT fitted on a small population over three skills.
    fn target() -> SkillBkt {
        let mut b = DatasetBuilder::default();
        let skills: Vec<_> = (0..3).map(|s| b.skill(&format!("s{s}"))).collect();
        let items: Vec<_> = (0..3).map(|i| b.item(&format!("q{i}"))).collect();
        for l in 0..60 {
            let st = b.student(&format!("l{l}"));
            for t in 0..12 {
                let s = (l + t) % 3;
                b.push_row(st, items[s], &[skills[s]], (l * 7 + t * 3) % 5 < 2 + t / 4, t as i64);
            }
        }
        let data = b.finish();
        SkillBkt::new(&BktConfig::default().fit(&data, &NoProgress).unwrap())
    }

    fn a(skill: u32, correct: bool) -> Answer {
        Answer { item: skill, skill, correct, gap: 0.0 }
    }

    #[test]
    fn query_gradient_matches_finite_differences() {
        let t = target();
        let support = [a(0, false), a(1, true), a(0, true)];
        let query = [a(0, true), a(2, false), a(1, true), a(0, false), a(2, true)];
        let profile: Vec<f64> = t.population().iter().enumerate().map(|(j, p)| p + 0.3 * (j as f64 - 2.0)).collect();
        let mut grad = vec![0.0; t.width()];
        t.query_loss(&profile, &support, &query, &mut grad);
        for j in 0..t.width() {
            let (mut up, mut down) = (profile.clone(), profile.clone());
            up[j] += 1e-6;
            down[j] -= 1e-6;
            let sink = &mut vec![0.0; t.width()];
            let fd = (t.query_loss(&up, &support, &query, sink) - t.query_loss(&down, &support, &query, sink)) / 2e-6;
            assert!((fd - grad[j]).abs() < 1e-6, "parameter {j}: analytic {} vs {fd}", grad[j]);
        }
    }

    /// The loss is the adapted model's own: its predictions, answer by answer, give it.
    #[test]
    fn the_loss_is_the_adapted_bkt_s() {
        let t = target();
        let mut b = DatasetBuilder::default();
        let skills: Vec<_> = (0..3).map(|s| b.skill(&format!("s{s}"))).collect();
        let items: Vec<_> = (0..3).map(|i| b.item(&format!("q{i}"))).collect();
        let st = b.student("x");
        let ys = [(0, false), (1, true), (0, true), (0, true), (2, false), (1, false)];
        for (time, &(s, y)) in ys.iter().enumerate() {
            b.push_row(st, items[s], &[skills[s]], y, time as i64);
        }
        let data = b.finish();
        let obs: Vec<_> = data.interactions(0..data.len()).collect();
        let profile: Vec<f64> = t.population().iter().map(|p| p - 0.4).collect();
        let answers = t.answers(&obs);
        let loss = t.query_loss(&profile, &answers[..2], &answers[2..], &mut vec![0.0; t.width()]);
        let Adapted { model, mut state } = t.adapted(&profile, &obs[..2]);
        let mut direct = 0.0;
        for o in &obs[2..] {
            let p = model.predict_interaction(&state, o).get();
            direct -= if o.correct { p } else { 1.0 - p }.ln();
            model.update(&mut state, o);
        }
        assert!((loss - direct / 4.0).abs() < 1e-9, "{loss} vs {}", direct / 4.0);
    }
}
