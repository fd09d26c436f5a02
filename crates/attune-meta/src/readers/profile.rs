//! What the metric- and model-based learners write for a new learner over the Rasch model:
//! a **profile** `(θ₀, δ_1 … δ_S)`, the prior mean of the learner's ability and an offset of
//! it per skill. The adapted learner is an ordinary [`Irt`]: every item of skill `s` has its
//! difficulty lowered by `δ_s`, the ability starts at `θ₀` with the prior's precision, and the
//! support is read by IRT's own update, as tracing goes on to read every later answer.
//!
//! Training differentiates the query loss through the support's MAP ability exactly: with
//! `θ̂` the maximiser of `−l2/2 (θ − θ₀)² + Σ_j log p(y_j | θ + δ_{s_j} − b_j)`, the implicit
//! function theorem gives `∂θ̂/∂θ₀ = l2 / H` and `∂θ̂/∂δ_s = −W_s / H`, where `H = l2 + Σ_j w_j`,
//! `w_j = p_j (1 − p_j)` and `W_s` sums `w_j` over the support answers on skill `s`.

use attune_core::{Dataset, Interaction, sigmoid, softplus};
use attune_kt::{Irt, IrtState};
use serde::{Deserialize, Serialize};

use crate::e5::Adapted;

/// One answer as the readers see it: the item and its first skill on the model's indices,
/// the answer, and the log of the seconds since the learner's previous answer.
#[derive(Clone, Copy, Debug, PartialEq)]
// Public in a private module: crate-private, yet nameable in the targets' trait.
pub struct Answer {
    pub item: u32,
    /// `n_skills` for an item without a skill.
    pub skill: u32,
    pub correct: bool,
    pub gap: f64,
}

/// The Rasch model fitted normally and the first skill of each of its items.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SkillRasch {
    /// The normal fit.
    pub base: Irt,
    /// The first skill of each item (`n_skills` where the item has none).
    pub item_skill: Vec<u32>,
    /// Skills on the model's indices.
    pub n_skills: usize,
    /// Mean difficulty of each skill's items (for mastery in words).
    pub skill_difficulty: Vec<f64>,
}

/// Prior precision of a training learner's offset per skill when fitting their profile.
const OFFSET_PRECISION: f64 = 1.0;

impl SkillRasch {
    /// The base and the item → skill map read off `train` (model ids).
    pub(crate) fn new(base: &Irt, train: &Dataset) -> Self {
        let n_items = base.difficulty.len();
        let n_skills = (0..train.len()).flat_map(|i| train.skills(i)).map(|s| s.0 as usize + 1).max().unwrap_or(0);
        let mut item_skill = vec![n_skills as u32; n_items];
        for i in 0..train.len() {
            let item = train.items()[i].index();
            if let (Some(slot), Some(s)) = (item_skill.get_mut(item), train.skills(i).first())
                && *slot == n_skills as u32
            {
                *slot = s.0;
            }
        }
        let mut sum = vec![0.0; n_skills];
        let mut count = vec![0usize; n_skills];
        for (i, &s) in item_skill.iter().enumerate() {
            if (s as usize) < n_skills {
                sum[s as usize] += base.difficulty[i];
                count[s as usize] += 1;
            }
        }
        let skill_difficulty =
            sum.iter().zip(&count).map(|(s, &c)| if c == 0 { base.mean_difficulty } else { s / c as f64 }).collect();
        Self { base: base.clone(), item_skill, n_skills, skill_difficulty }
    }

    /// Parameters of a profile: `θ₀` and one offset per skill.
    pub(crate) fn width(&self) -> usize {
        1 + self.n_skills
    }

    fn difficulty(&self, item: u32) -> f64 {
        self.base.difficulty.get(item as usize).copied().unwrap_or(self.base.mean_difficulty)
    }

    fn l2(&self) -> f64 {
        self.base.config.ability_l2
    }

    /// The answer on this model's indices (items it has not seen have no skill here).
    pub(crate) fn answer(&self, obs: &Interaction<'_>, previous: Option<i64>) -> Answer {
        let item = obs.item.0.min(self.base.difficulty.len() as u32);
        let skill = self.item_skill.get(item as usize).copied().unwrap_or(self.n_skills as u32);
        let gap = previous.map_or(0.0, |t| ((obs.time - t).max(0) as f64).ln_1p());
        Answer { item, skill, correct: obs.correct, gap }
    }

    /// The answer's residual under the population: `y − σ(−b)`, what the encoders read.
    pub(crate) fn residual(&self, a: &Answer) -> f64 {
        f64::from(u8::from(a.correct)) - sigmoid(-self.difficulty(a.item))
    }

    fn logit(&self, profile: &[f64], theta: f64, a: &Answer) -> f64 {
        theta + profile.get(1 + a.skill as usize).copied().unwrap_or(0.0) - self.difficulty(a.item)
    }

    /// `log p(a)` for a learner with `profile` at ability `theta`.
    pub(crate) fn log_likelihood(&self, profile: &[f64], theta: f64, a: &Answer) -> f64 {
        let z = self.logit(profile, theta, a);
        f64::from(u8::from(a.correct)) * z - softplus(z)
    }

    /// The MAP ability after `support` from prior mean `profile[0]`, and `H`, the posterior
    /// precision there.
    pub(crate) fn map_ability(&self, profile: &[f64], support: &[Answer]) -> (f64, f64) {
        let (theta0, l2) = (profile[0], self.l2());
        let mut theta = theta0;
        let mut h = l2;
        for _ in 0..8 {
            let (mut g, mut w) = (l2 * (theta - theta0), 0.0);
            for a in support {
                let p = sigmoid(self.logit(profile, theta, a));
                g += p - f64::from(u8::from(a.correct));
                w += p * (1.0 - p);
            }
            h = l2 + w;
            let step = (g / h).clamp(-2.0, 2.0);
            theta = (theta - step).clamp(-6.0, 6.0);
            if step.abs() < 1e-9 {
                break;
            }
        }
        (theta, h)
    }

    /// Mean query cross-entropy at the support's MAP ability, and its gradient with respect
    /// to the profile added to `grad` (see the module's comment).
    pub(crate) fn query_loss(&self, profile: &[f64], support: &[Answer], query: &[Answer], grad: &mut [f64]) -> f64 {
        if query.is_empty() {
            return 0.0;
        }
        let (theta, h) = self.map_ability(profile, support);
        let scale = 1.0 / query.len() as f64;
        let (mut loss, mut r_sum) = (0.0, 0.0);
        for a in query {
            let z = self.logit(profile, theta, a);
            let y = f64::from(u8::from(a.correct));
            loss += softplus(z) - y * z;
            let r = (sigmoid(z) - y) * scale;
            r_sum += r;
            if let Some(g) = grad.get_mut(1 + a.skill as usize) {
                *g += r;
            }
        }
        grad[0] += r_sum * self.l2() / h;
        for a in support {
            let p = sigmoid(self.logit(profile, theta, a));
            if let Some(g) = grad.get_mut(1 + a.skill as usize) {
                *g -= r_sum * p * (1.0 - p) / h;
            }
        }
        loss * scale
    }

    /// A training learner's profile from their whole history: the MAP ability, then each
    /// practised skill's MAP offset from it, twice over.
    pub(crate) fn fit_profile(&self, answers: &[Answer]) -> Vec<f64> {
        let mut profile = vec![0.0; self.width()];
        for _ in 0..2 {
            let (theta, _) = self.map_ability(
                &{
                    let mut p = profile.clone();
                    p[0] = 0.0;
                    p
                },
                answers,
            );
            profile[0] = theta;
            let mut g = vec![0.0; self.width()];
            let mut w = vec![OFFSET_PRECISION; self.width()];
            for _ in 0..5 {
                g.iter_mut()
                    .enumerate()
                    .for_each(|(j, g)| *g = OFFSET_PRECISION * if j == 0 { 0.0 } else { profile[j] });
                w.fill(OFFSET_PRECISION);
                for a in answers {
                    let s = 1 + a.skill as usize;
                    if s >= profile.len() {
                        continue;
                    }
                    let p = sigmoid(self.logit(&profile, theta, a));
                    g[s] += p - f64::from(u8::from(a.correct));
                    w[s] += p * (1.0 - p);
                }
                for j in 1..profile.len() {
                    profile[j] = (profile[j] - (g[j] / w[j]).clamp(-2.0, 2.0)).clamp(-6.0, 6.0);
                }
            }
        }
        profile
    }

    /// The ordinary IRT learner a profile writes, its state after reading `support`.
    pub fn adapted(&self, profile: &[f64], support: &[Interaction<'_>]) -> Adapted<Irt> {
        use attune_core::KnowledgeTracer;
        let mut model = self.base.clone();
        for (b, &s) in model.difficulty.iter_mut().zip(&self.item_skill) {
            *b -= profile.get(1 + s as usize).copied().unwrap_or(0.0);
        }
        let theta0 = profile.first().copied().unwrap_or(0.0).clamp(-6.0, 6.0);
        let mut state = IrtState { theta: vec![theta0], precision: vec![self.l2()] };
        for obs in support {
            model.update(&mut state, obs);
        }
        Adapted { model, state }
    }

    /// The probability of a right answer on `item` for a learner with this profile at
    /// ability `theta` (the mastery of a skill: its items' mean difficulty).
    pub(crate) fn mastery(&self, profile: &[f64], skill: usize) -> f64 {
        sigmoid(profile[0] + profile.get(1 + skill).copied().unwrap_or(0.0) - self.skill_difficulty[skill])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use attune_kt::IrtConfig;

    fn model() -> SkillRasch {
        let base = Irt {
            config: IrtConfig::one_pl(),
            difficulty: vec![-0.5, 0.3, 1.2, 0.0],
            discrimination: vec![1.0; 4],
            mean_difficulty: 0.25,
        };
        SkillRasch { base, item_skill: vec![0, 1, 1, 2], n_skills: 2, skill_difficulty: vec![-0.5, 0.75] }
    }

    fn a(item: u32, skill: u32, correct: bool) -> Answer {
        Answer { item, skill, correct, gap: 0.0 }
    }

    /// The implicit gradient through the MAP ability equals finite differences.
    #[test]
    fn query_gradient_matches_finite_differences() {
        let m = model();
        let support = [a(0, 0, true), a(1, 1, false), a(2, 1, true)];
        let query = [a(1, 1, true), a(0, 0, false), a(3, 2, true), a(2, 1, false)];
        let profile = vec![0.3, -0.4, 0.6];
        let mut g = vec![0.0; 3];
        m.query_loss(&profile, &support, &query, &mut g);
        for j in 0..3 {
            let eps = 1e-6;
            let mut up = profile.clone();
            up[j] += eps;
            let mut down = profile.clone();
            down[j] -= eps;
            let mut sink = vec![0.0; 3];
            let fd = (m.query_loss(&up, &support, &query, &mut sink)
                - m.query_loss(&down, &support, &query, &mut sink))
                / (2.0 * eps);
            assert!((fd - g[j]).abs() < 1e-6, "parameter {j}: analytic {} vs finite {fd}", g[j]);
        }
    }

    /// A learner right on skill 0 and wrong on skill 1 gets offsets of those signs.
    #[test]
    fn profiles_follow_the_answers_per_skill() {
        let m = model();
        let answers: Vec<Answer> = (0..10).flat_map(|_| [a(0, 0, true), a(1, 1, false), a(2, 1, false)]).collect();
        let p = m.fit_profile(&answers);
        assert!(p[1] > 0.3 && p[2] < -0.3, "{p:?}");
    }
}
