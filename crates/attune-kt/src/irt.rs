//! Item response theory: the Rasch model (1PL; Rasch, 1960), the two-parameter logistic model
//! (2PL; Birnbaum, 1968) and the multidimensional 2PL (MIRT; Reckase, 2009).
//!
//! `P(correct) = σ(a_i · θ_s − b_i)`. Item parameters and the training learners' abilities are
//! fitted jointly by regularised maximum likelihood (a N(0, 1) prior on abilities, L2 on item
//! parameters, discriminations shrunk toward 1 on the first dimension and 0 on the others). A
//! new learner's ability is the MAP estimate given their answers so far, refined by Newton
//! steps after each answer.

use attune_core::{Cancelled, Dataset, Interaction, ItemId, KnowledgeTracer, Probability, Progress};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::error::{Result, check_range};
use crate::logistic::{loss_and_residual, parallel_gradient, sigmoid};
use crate::optim::{Lbfgs, minimize};

/// Hyperparameters of an IRT fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IrtConfig {
    /// Ability dimensions (1 for 1PL/2PL; default 3 for MIRT).
    pub dims: usize,
    /// Fit a discrimination per item and dimension (2PL, MIRT); otherwise all are 1 (1PL).
    pub discrimination: bool,
    /// Precision of the N(0, 1/λ) prior on abilities (default 1).
    pub ability_l2: f64,
    /// L2 penalty on difficulties (default 0.1).
    pub difficulty_l2: f64,
    /// L2 penalty on discriminations around their prior mean (default 1).
    pub discrimination_l2: f64,
    /// Skill pooling of difficulties (default 0, off): when positive, an item's difficulty is
    /// its skills' mean difficulty plus a deviation with this prior precision, and
    /// `difficulty_l2` is the precision of the skill means (and of the difficulty of an item
    /// with no known skill). Items answered by few learners,
    /// or by none, then borrow their skills' difficulty instead of shrinking toward 0
    /// (hierarchical IRT; Gelman & Hill, Data analysis using regression and
    /// multilevel/hierarchical models, 2007, ch. 14).
    #[serde(default)]
    pub skill_pooling_l2: f64,
    /// Most L-BFGS iterations (default 500).
    pub max_iter: usize,
    /// Newton steps on a learner's ability after each answer (default 3).
    pub newton_steps: usize,
    /// Seed of the starting point (default 42).
    pub seed: u64,
}

impl IrtConfig {
    /// The Rasch model.
    pub fn one_pl() -> Self {
        Self {
            dims: 1,
            discrimination: false,
            ability_l2: 1.0,
            difficulty_l2: 0.1,
            discrimination_l2: 1.0,
            skill_pooling_l2: 0.0,
            max_iter: 500,
            newton_steps: 3,
            seed: 42,
        }
    }

    /// The 2PL model.
    pub fn two_pl() -> Self {
        Self { discrimination: true, ..Self::one_pl() }
    }

    /// The multidimensional 2PL with `dims` dimensions. Its posterior is flat along turns of
    /// the ability space, so on ASSIST2009 the fit stops at `max_iter` rather than converging
    /// (E2 converges after about 1,300 iterations, 3× the time, for +0.001 AUC; BENCHMARKS.md).
    pub fn mirt(dims: usize) -> Self {
        Self { dims, ..Self::two_pl() }
    }

    /// Checks the ranges.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`].
    pub fn validate(&self) -> Result<()> {
        check_range("dims", self.dims as f64, 1.0, 16.0, "between 1 and 16")?;
        check_range("newton_steps", self.newton_steps as f64, 1.0, 100.0, "between 1 and 100")?;
        check_range("ability_l2", self.ability_l2, 1e-6, 1e6, "in [1e-6, 1e6]")?;
        check_range("difficulty_l2", self.difficulty_l2, 0.0, 1e6, "in [0, 1e6]")?;
        check_range("discrimination_l2", self.discrimination_l2, 0.0, 1e6, "in [0, 1e6]")?;
        check_range("skill_pooling_l2", self.skill_pooling_l2, 0.0, 1e6, "in [0, 1e6]")?;
        check_range("max_iter", self.max_iter as f64, 1.0, 1e9, "at least 1")
    }

    fn prior_a(&self, k: usize) -> f64 {
        if k == 0 { 1.0 } else { 0.0 }
    }

    /// Fits item parameters (and training abilities) to `train`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`], [`Error::EmptyTrainingSet`], [`Error::Cancelled`].
    pub fn fit(&self, train: &Dataset, progress: &dyn Progress) -> Result<Irt> {
        self.validate()?;
        if train.is_empty() {
            return Err(Error::EmptyTrainingSet { model: "irt" });
        }
        let d = self.dims;
        let n_items = train.vocab().n_items();
        let n_learners = train.n_learners();
        let mut learner_of_row = vec![0u32; train.len()];
        for (k, rows) in train.learners().enumerate() {
            learner_of_row[rows].fill(u32::try_from(k).unwrap_or(u32::MAX));
        }
        let lay = Layout { d, n_learners, n_items, disc: self.discrimination, pool: self.pooling(train) };
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut x = vec![0.0; lay.len()];
        for v in &mut x[..lay.b()] {
            *v = rng.random_range(-0.1..0.1);
        }
        if self.discrimination {
            for i in 0..n_items {
                for k in 0..d {
                    x[lay.a(i, k)] = self.prior_a(k) + rng.random_range(-0.1..0.1);
                }
            }
        }
        // L-BFGS over u = x / scale, with scale = 1 / √(expected curvature): a learner or
        // item seen a thousand times and one seen twice then look alike to the optimiser.
        let scale = self.curvature_scales(&lay, &learner_of_row, train);
        x.iter_mut().zip(&scale).for_each(|(x, s)| *x /= s);
        let mut x_buf = vec![0.0; x.len()];
        let f = |u: &[f64], grad: &mut [f64]| {
            x_buf.iter_mut().zip(u.iter().zip(&scale)).for_each(|(x, (u, s))| *x = u * s);
            let v = self.objective(&lay, &learner_of_row, train, &x_buf, grad);
            grad.iter_mut().zip(&scale).for_each(|(g, s)| *g *= s);
            v
        };
        progress.start("fitting IRT (L-BFGS)", self.max_iter as u64);
        let mut cancelled = false;
        let cfg = Lbfgs { max_iter: self.max_iter, ..Lbfgs::default() };
        minimize(cfg, &mut x, f, |_, _| {
            cancelled = !progress.advance(1);
            !cancelled
        });
        if cancelled {
            return Err(Cancelled.into());
        }
        x.iter_mut().zip(&scale).for_each(|(x, s)| *x *= s);
        let difficulty = (0..n_items).map(|i| lay.difficulty(&x, i)).collect::<Vec<_>>();
        let discrimination = if self.discrimination {
            x[lay.b() + n_items..lay.m(0)].to_vec()
        } else {
            let mut a = vec![0.0; n_items * d];
            a.iter_mut().step_by(d).for_each(|v| *v = 1.0);
            a
        };
        let mean_difficulty = difficulty.iter().sum::<f64>() / difficulty.len().max(1) as f64;
        Ok(Irt { config: self.clone(), difficulty, discrimination, mean_difficulty })
    }

    /// The skills each item pools its difficulty with, when pooling is on and the dataset
    /// knows items' skills.
    fn pooling(&self, train: &Dataset) -> Pooling {
        let vocab = train.vocab();
        if self.skill_pooling_l2 <= 0.0 || vocab.n_skills() == 0 {
            return Pooling::default();
        }
        let mut pool = Pooling { n_skills: vocab.n_skills(), start: vec![0], skill: Vec::new() };
        for i in 0..vocab.n_items() {
            let skills = vocab.skills_of(ItemId(i as u32));
            pool.skill.extend(skills.iter().map(|s| s.0).filter(|&s| (s as usize) < vocab.n_skills()));
            pool.start.push(pool.skill.len());
        }
        pool
    }

    /// Prior precision of item `i`'s own difficulty parameter: of its deviation from its
    /// skills' mean when it pools, of the difficulty itself otherwise (pooling off, or an
    /// item with no known skill).
    fn item_difficulty_l2(&self, lay: &Layout, i: usize) -> f64 {
        if lay.pool.skills(i).is_empty() { self.difficulty_l2 } else { self.skill_pooling_l2 }
    }

    /// `1 / √h` per parameter, `h` its prior precision plus a quarter (the logistic curvature
    /// at p = ½) per answer it enters, with unit abilities and discriminations.
    fn curvature_scales(&self, lay: &Layout, learner_of_row: &[u32], train: &Dataset) -> Vec<f64> {
        let mut h = vec![0.0; lay.len()];
        for (r, item) in train.items().iter().enumerate() {
            let (s, i) = (learner_of_row[r] as usize, item.index());
            h[lay.b() + i] += 0.25;
            let skills = lay.pool.skills(i);
            for &k in skills {
                h[lay.m(k as usize)] += 0.25 / skills.len() as f64;
            }
            for k in 0..lay.d {
                h[s * lay.d + k] += 0.25;
                if lay.disc {
                    h[lay.a(i, k)] += 0.25;
                }
            }
        }
        let prior = |j: usize| {
            if j < lay.b() {
                self.ability_l2
            } else if j < lay.b() + lay.n_items {
                self.item_difficulty_l2(lay, j - lay.b())
            } else if j < lay.m(0) {
                self.discrimination_l2
            } else {
                self.difficulty_l2
            }
        };
        h.iter().enumerate().map(|(j, h)| 1.0 / (h + prior(j)).max(1e-6).sqrt()).collect()
    }

    /// Negative log-posterior of all parameters and its gradient.
    fn objective(&self, lay: &Layout, learner_of_row: &[u32], train: &Dataset, x: &[f64], grad: &mut [f64]) -> f64 {
        let (items, correct, d) = (train.items(), train.correct(), lay.d);
        let loss = parallel_gradient(train.len(), grad, |rows, g| {
            let mut loss = 0.0;
            for r in rows {
                let (s, i) = (learner_of_row[r] as usize, items[r].index());
                let mut z = -lay.difficulty(x, i);
                for k in 0..d {
                    z += lay.a_of(x, i, k) * x[s * d + k];
                }
                let (l, resid) = loss_and_residual(z, correct[r]);
                loss += l;
                g[lay.b() + i] -= resid;
                for k in 0..d {
                    g[s * d + k] += resid * lay.a_of(x, i, k);
                    if lay.disc {
                        g[lay.a(i, k)] += resid * x[s * d + k];
                    }
                }
            }
            loss
        });
        // An item's difficulty gradient flows to its skills' means, split evenly.
        for i in 0..lay.n_items {
            let skills = lay.pool.skills(i);
            let g = grad[lay.b() + i] / skills.len().max(1) as f64;
            for &k in skills {
                grad[lay.m(k as usize)] += g;
            }
        }
        self.add_priors(lay, x, grad) + loss
    }

    fn add_priors(&self, lay: &Layout, x: &[f64], grad: &mut [f64]) -> f64 {
        let mut pen = 0.0;
        for j in lay.m(0)..lay.len() {
            pen += 0.5 * self.difficulty_l2 * x[j] * x[j];
            grad[j] += self.difficulty_l2 * x[j];
        }
        for j in 0..lay.b() {
            pen += 0.5 * self.ability_l2 * x[j] * x[j];
            grad[j] += self.ability_l2 * x[j];
        }
        for i in 0..lay.n_items {
            let j = lay.b() + i;
            let item_l2 = self.item_difficulty_l2(lay, i);
            pen += 0.5 * item_l2 * x[j] * x[j];
            grad[j] += item_l2 * x[j];
            if lay.disc {
                for k in 0..lay.d {
                    let j = lay.a(i, k);
                    let dev = x[j] - self.prior_a(k);
                    pen += 0.5 * self.discrimination_l2 * dev * dev;
                    grad[j] += self.discrimination_l2 * dev;
                }
            }
        }
        pen
    }
}

/// Where each parameter lives in the flat vector: abilities, difficulties (deviations from
/// the skill means when pooling), discriminations, skill mean difficulties.
struct Layout {
    d: usize,
    n_learners: usize,
    n_items: usize,
    disc: bool,
    pool: Pooling,
}

/// The skills of each item whose mean difficulty it shares (compressed rows; empty when
/// pooling is off).
#[derive(Default)]
struct Pooling {
    n_skills: usize,
    start: Vec<usize>,
    skill: Vec<u32>,
}

impl Pooling {
    fn skills(&self, item: usize) -> &[u32] {
        match (self.start.get(item), self.start.get(item + 1)) {
            (Some(&a), Some(&b)) => &self.skill[a..b],
            _ => &[],
        }
    }
}

impl Layout {
    fn b(&self) -> usize {
        self.n_learners * self.d
    }
    fn a(&self, i: usize, k: usize) -> usize {
        self.b() + self.n_items + i * self.d + k
    }
    /// Index of skill `k`'s mean difficulty.
    fn m(&self, k: usize) -> usize {
        self.b() + self.n_items + if self.disc { self.n_items * self.d } else { 0 } + k
    }
    fn len(&self) -> usize {
        self.m(self.pool.n_skills)
    }
    /// Item `i`'s difficulty: its own parameter plus its skills' mean difficulty.
    #[inline]
    fn difficulty(&self, x: &[f64], i: usize) -> f64 {
        let skills = self.pool.skills(i);
        let own = x[self.b() + i];
        if skills.is_empty() {
            own
        } else {
            own + skills.iter().map(|&k| x[self.m(k as usize)]).sum::<f64>() / skills.len() as f64
        }
    }
    #[inline]
    fn a_of(&self, x: &[f64], i: usize, k: usize) -> f64 {
        if self.disc {
            x[self.a(i, k)]
        } else if k == 0 {
            1.0
        } else {
            0.0
        }
    }
}

/// A fitted IRT model: item difficulties and discriminations.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Irt {
    /// The configuration it was fitted with.
    pub config: IrtConfig,
    /// `b_i` by item.
    pub difficulty: Vec<f64>,
    /// `a_i` by item, `dims` values each (all 1 on the first dimension for 1PL).
    pub discrimination: Vec<f64>,
    /// Mean of `difficulty`: the difficulty of an item the model has not seen.
    pub mean_difficulty: f64,
}

/// A learner's state under IRT: the ability estimate and its posterior precision, a
/// Gaussian (Laplace) summary of every answer so far.
///
/// Each answer is folded in by assumed-density filtering: the new MAP ability maximises the
/// previous Gaussian times the answer's likelihood (a few Newton steps from the previous
/// estimate), and the precision gains the answer's Fisher information there. The state is
/// `d + d²` numbers and an update costs `O(newton_steps · d³)` whatever the number of answers
/// (re-solving over all answers, as a batch MAP does, costs time and memory that grow with
/// the history).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IrtState {
    /// MAP ability, one value per dimension.
    pub theta: Vec<f64>,
    /// Posterior precision of the ability (row-major `d × d`, symmetric positive definite);
    /// the prior's `ability_l2 · I` before any answer.
    pub precision: Vec<f64>,
}

impl Irt {
    fn item(&self, item: ItemId) -> Option<(f64, &[f64])> {
        let d = self.config.dims;
        let b = *self.difficulty.get(item.index())?;
        Some((b, self.discrimination.get(item.index() * d..(item.index() + 1) * d)?))
    }

    /// Item parameters, or those of an unseen item: the mean difficulty, loading on the
    /// first ability dimension only.
    fn item_or_prior<'a>(&'a self, item: ItemId, unseen: &'a [f64; MAX_DIMS]) -> (f64, &'a [f64]) {
        self.item(item).unwrap_or_else(|| (self.mean_difficulty, &unseen[..self.config.dims]))
    }

    /// The posterior-predictive logit: `a·θ − b` shrunk by the ability's uncertainty,
    /// `(a·θ − b) / sqrt(1 + π/8 · aᵀ Σ a)` (MacKay's probit approximation of the logistic
    /// integrated over a Gaussian posterior), so that a learner with two answers is not
    /// predicted with the confidence of one with two hundred.
    fn logit(&self, st: &IrtState, item: ItemId) -> f64 {
        let unseen = unit_first();
        let (b, a) = self.item_or_prior(item, &unseen);
        let d = self.config.dims;
        let z = a.iter().zip(&st.theta).map(|(a, t)| a * t).sum::<f64>() - b;
        // aᵀ Σ a = aᵀ P⁻¹ a: solve P v = a.
        let mut p = [0.0; MAX_DIMS * MAX_DIMS];
        let mut v = [0.0; MAX_DIMS];
        v[..d].copy_from_slice(a);
        let var = if st.precision.len() == d * d && {
            p[..d * d].copy_from_slice(&st.precision);
            solve_spd(&mut p[..d * d], &mut v[..d], d)
        } {
            a.iter().zip(&v).map(|(a, v)| a * v).sum::<f64>()
        } else {
            a.iter().map(|a| a * a).sum::<f64>() / self.config.ability_l2
        };
        z / (1.0 + std::f64::consts::PI / 8.0 * var.max(0.0)).sqrt()
    }

    /// Folds one answer into the Gaussian summary (see [`IrtState`]).
    #[allow(clippy::needless_range_loop)] // small dense matrices: indices are the clearest form
    fn absorb(&self, st: &mut IrtState, item: ItemId, y: bool) {
        let d = self.config.dims;
        let Some((b, a)) = self.item(item) else { return };
        if st.theta.len() != d || st.precision.len() != d * d {
            *st = self.prior_state();
        }
        let (theta0, prec0) = (st.theta.clone(), st.precision.clone());
        let mut theta = theta0.clone();
        let mut grad = [0.0; MAX_DIMS];
        let mut hess = [0.0; MAX_DIMS * MAX_DIMS];
        let mut w = 0.0;
        for _ in 0..self.config.newton_steps.max(1) {
            let z = a.iter().zip(&theta).map(|(a, t)| a * t).sum::<f64>() - b;
            let p = sigmoid(z);
            let r = p - f64::from(u8::from(y));
            w = p * (1.0 - p);
            for k in 0..d {
                grad[k] = r * a[k] + (0..d).map(|l| prec0[k * d + l] * (theta[l] - theta0[l])).sum::<f64>();
                for l in 0..d {
                    hess[k * d + l] = prec0[k * d + l] + w * a[k] * a[l];
                }
            }
            if !solve_spd(&mut hess[..d * d], &mut grad[..d], d) {
                break;
            }
            // Damped Newton: the objective is concave, but a full step from far away can
            // overshoot when discriminations are large.
            let norm = grad[..d].iter().map(|g| g * g).sum::<f64>().sqrt();
            let scale = if norm > 1.0 { 1.0 / norm } else { 1.0 };
            for k in 0..d {
                theta[k] = (theta[k] - scale * grad[k]).clamp(-6.0, 6.0);
            }
        }
        // The precision gains the answer's information at the new estimate.
        let z = a.iter().zip(&theta).map(|(a, t)| a * t).sum::<f64>() - b;
        let p = sigmoid(z);
        if p.is_finite() {
            w = p * (1.0 - p);
        }
        for k in 0..d {
            for l in 0..d {
                st.precision[k * d + l] = prec0[k * d + l] + w * a[k] * a[l];
            }
        }
        if theta.iter().all(|t| t.is_finite()) {
            st.theta = theta;
        }
    }

    fn prior_state(&self) -> IrtState {
        let d = self.config.dims;
        let mut precision = vec![0.0; d * d];
        for k in 0..d {
            precision[k * d + k] = self.config.ability_l2;
        }
        IrtState { theta: vec![0.0; d], precision }
    }
}

/// The most ability dimensions a model may have.
pub(crate) const MAX_DIMS: usize = 16;

fn unit_first() -> [f64; MAX_DIMS] {
    let mut a = [0.0; MAX_DIMS];
    a[0] = 1.0;
    a
}

/// Solves `h x = g` in place (`g` becomes `x`) for a symmetric positive definite `d × d`
/// matrix `h` (row-major, overwritten by its Cholesky factor); returns `false` if `h` is not
/// positive definite.
pub fn solve_spd(h: &mut [f64], g: &mut [f64], d: usize) -> bool {
    for j in 0..d {
        let mut s = h[j * d + j];
        for k in 0..j {
            s -= h[j * d + k] * h[j * d + k];
        }
        if s <= 0.0 || !s.is_finite() {
            return false;
        }
        let l = s.sqrt();
        h[j * d + j] = l;
        for i in j + 1..d {
            let mut s = h[i * d + j];
            for k in 0..j {
                s -= h[i * d + k] * h[j * d + k];
            }
            h[i * d + j] = s / l;
        }
    }
    for i in 0..d {
        let mut s = g[i];
        for k in 0..i {
            s -= h[i * d + k] * g[k];
        }
        g[i] = s / h[i * d + i];
    }
    for i in (0..d).rev() {
        let mut s = g[i];
        for k in i + 1..d {
            s -= h[k * d + i] * g[k];
        }
        g[i] = s / h[i * d + i];
    }
    true
}

impl KnowledgeTracer for Irt {
    type State = IrtState;

    fn initial_state(&self) -> IrtState {
        self.prior_state()
    }

    fn update(&self, st: &mut IrtState, obs: &Interaction<'_>) {
        self.absorb(st, obs.item, obs.correct);
    }

    fn predict(&self, st: &IrtState, item: ItemId) -> Probability {
        Probability::from_logit(self.logit(st, item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::tests::check_gradient;
    use attune_core::DatasetBuilder;

    fn toy() -> Dataset {
        let mut b = DatasetBuilder::default();
        let answers = [
            ("a", "x", true),
            ("a", "y", false),
            ("b", "x", true),
            ("b", "y", true),
            ("c", "y", false),
            ("c", "z", true),
        ];
        for (s, i, c) in answers {
            let (s, i) = (b.student(s), b.item(i));
            b.push_row(s, i, &[], c, 0);
        }
        b.finish()
    }

    #[test]
    fn gradients_match_finite_differences() {
        let train = toy();
        for cfg in [IrtConfig::one_pl(), IrtConfig::two_pl(), IrtConfig::mirt(2)] {
            let lay =
                Layout { d: cfg.dims, n_learners: 3, n_items: 3, disc: cfg.discrimination, pool: Pooling::default() };
            let x: Vec<f64> = (0..lay.len()).map(|j| ((j * 7 % 11) as f64 - 5.0) / 7.0).collect();
            let learner = [0u32, 0, 1, 1, 2, 2];
            let f = |x: &[f64], g: &mut [f64]| cfg.objective(&lay, &learner, &train, x, g);
            check_gradient(f, &x, 1e-5);
        }
    }

    /// With skill pooling the gradient also reaches the skill means, through items of one
    /// skill, of two, and of none.
    #[test]
    fn pooled_gradients_match_finite_differences() {
        let mut b = DatasetBuilder::default();
        let (k1, k2) = (b.skill("k1"), b.skill("k2"));
        let answers: [(&str, &str, &[_], bool); 7] = [
            ("a", "x", &[k1], true),
            ("a", "y", &[k1, k2], false),
            ("b", "x", &[k1], true),
            ("b", "y", &[k1, k2], true),
            ("c", "y", &[k1, k2], false),
            ("c", "z", &[], true),
            ("c", "w", &[k2], false),
        ];
        for (s, i, skills, c) in answers {
            let (s, i) = (b.student(s), b.item(i));
            b.push_row(s, i, skills, c, 0);
        }
        let train = b.finish();
        for base in [IrtConfig::one_pl(), IrtConfig::two_pl()] {
            let cfg = IrtConfig { skill_pooling_l2: 2.0, ..base };
            let pool = cfg.pooling(&train);
            assert_eq!((pool.n_skills, pool.skills(1), pool.skills(2)), (2, &[0, 1][..], &[][..]));
            let lay = Layout { d: 1, n_learners: 3, n_items: 4, disc: cfg.discrimination, pool };
            let x: Vec<f64> = (0..lay.len()).map(|j| ((j * 7 % 11) as f64 - 5.0) / 7.0).collect();
            let learner = [0u32, 0, 1, 1, 2, 2, 2];
            let f = |x: &[f64], g: &mut [f64]| cfg.objective(&lay, &learner, &train, x, g);
            check_gradient(f, &x, 1e-5);
        }
    }

    /// Simulated Rasch answers where each skill's items share a difficulty up to a small
    /// spread and most items are answered by two or three learners: pooling recovers the
    /// difficulties better, and an item nobody answered gets its skill's difficulty instead
    /// of the overall mean.
    #[test]
    fn pooling_lends_rare_items_their_skills_difficulty() {
        let mut rng = StdRng::seed_from_u64(11);
        let skill_b = [-2.0, -0.5, 1.0, 2.5];
        let mut b = DatasetBuilder::default();
        let skills: Vec<_> = (0..skill_b.len()).map(|k| b.skill(&format!("k{k}"))).collect();
        let truth: Vec<(usize, f64)> =
            (0..200).map(|i| (i % skill_b.len(), skill_b[i % skill_b.len()] + rng.random_range(-0.3..0.3))).collect();
        let items: Vec<_> = (0..truth.len()).map(|i| b.item(&format!("i{i}"))).collect();
        for s in 0..150 {
            let student = b.student(&format!("s{s}"));
            let theta = rng.random_range(-1.0..1.0);
            // items 4.. are answered by few learners; items 0..4 by none
            for (i, &(k, bi)) in truth.iter().enumerate().skip(4) {
                if rng.random_range(0.0..1.0) < 0.02 || (i < 12 && s % 2 == 0) {
                    let correct = rng.random_range(0.0..1.0) < sigmoid(theta - bi);
                    b.push_row(student, items[i], &[skills[k]], correct, 0);
                }
            }
        }
        for (i, &(k, _)) in truth.iter().enumerate().take(4) {
            b.vocab_mut().set_item_skills_if_unknown(items[i], &[skills[k]]);
        }
        let data = b.finish();
        let rmse = |cfg: IrtConfig| {
            let m = cfg.fit(&data, &attune_core::NoProgress).unwrap();
            let se = truth.iter().zip(&m.difficulty).skip(4).map(|(t, e)| (t.1 - e).powi(2)).sum::<f64>();
            ((se / (truth.len() - 4) as f64).sqrt(), m.difficulty)
        };
        let (plain, plain_b) = rmse(IrtConfig::one_pl());
        let (pooled, pooled_b) = rmse(IrtConfig { skill_pooling_l2: 4.0, ..IrtConfig::one_pl() });
        assert!(pooled < 0.7 * plain, "pooled RMSE {pooled:.3}, plain {plain:.3}");
        for (i, &(k, _)) in truth.iter().enumerate().take(4) {
            assert!(
                (pooled_b[i] - skill_b[k]).abs() < 0.4,
                "unseen item {i}: {:.3} vs skill {}",
                pooled_b[i],
                skill_b[k]
            );
            assert!(plain_b[i].abs() < 1e-9, "unseen item {i} without pooling: {:.3}", plain_b[i]);
        }
    }

    /// Simulated Rasch answers with items seen very unequally often (as in real logs, the
    /// case the fit's rescaling is for): the rescaled fit lands on the optimum that plain
    /// L-BFGS on the unscaled parameters reaches (the 1PL posterior is convex).
    #[test]
    fn rescaled_fit_reaches_the_plain_optimum() {
        let mut rng = StdRng::seed_from_u64(7);
        let truth: Vec<f64> = (0..12).map(|i| -1.5 + 3.0 * f64::from(i) / 11.0).collect();
        let mut b = DatasetBuilder::default();
        for s in 0..300 {
            let theta: f64 = (0..12).map(|_| rng.random_range(-0.5..0.5)).sum::<f64>();
            let student = b.student(&format!("s{s}"));
            for (i, &bi) in truth.iter().enumerate() {
                // item i is answered by a share of learners from 1/12 to all of them
                if rng.random_range(0.0..1.0) > (i + 1) as f64 / 12.0 {
                    continue;
                }
                let item = b.item(&format!("i{i}"));
                let correct = rng.random_range(0.0..1.0) < sigmoid(theta - bi);
                b.push_row(student, item, &[], correct, 0);
            }
        }
        let data = b.finish();
        let cfg = IrtConfig::one_pl();
        let fitted = cfg.fit(&data, &attune_core::NoProgress).unwrap();

        let n_items = data.vocab().n_items();
        let lay = Layout { d: 1, n_learners: data.n_learners(), n_items, disc: false, pool: Pooling::default() };
        let mut learner = vec![0u32; data.len()];
        for (k, rows) in data.learners().enumerate() {
            learner[rows].fill(k as u32);
        }
        let mut x = vec![0.0; lay.len()];
        let plain = Lbfgs { max_iter: 20_000, grad_tol: 1e-9, rel_tol: 0.0, ..Lbfgs::default() };
        minimize(plain, &mut x, |x, g| cfg.objective(&lay, &learner, &data, x, g), |_, _| true);
        for i in 0..n_items {
            let (a, b) = (fitted.difficulty[i], x[lay.b() + i]);
            assert!((a - b).abs() < 1e-3, "item {i}: rescaled fit {a:.5}, plain optimum {b:.5}");
        }
    }

    #[test]
    fn online_ability_rises_with_correct_answers() {
        let m = IrtConfig::two_pl().fit(&toy(), &attune_core::NoProgress).unwrap();
        let mut st = m.initial_state();
        let before = m.predict(&st, ItemId(1)).get();
        let obs =
            Interaction { student: attune_core::StudentId(9), item: ItemId(1), skills: &[], correct: true, time: 0 };
        m.update(&mut st, &obs);
        assert!(m.predict(&st, ItemId(1)).get() > before);
        assert!(st.theta[0].is_finite());
    }
}
