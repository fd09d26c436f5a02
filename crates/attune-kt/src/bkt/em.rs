//! Baum–Welch for the two-state BKT hidden Markov model, over deduplicated weighted sequences.
//!
//! State 0 = skill not known, 1 = known. `learn` = P(0→1), `forget` = P(1→0), emission
//! P(correct | 0) = guess, P(correct | 1) = 1 − slip (per local item under `multigs`).

use super::config::BktConfig;
use super::sequences::SkillSequences;

/// BKT parameters of one skill while fitting; `guess`/`slip` have one entry per local item
/// under `multigs`, otherwise one.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Params {
    pub(super) prior: f64,
    pub(super) learn: f64,
    pub(super) forget: f64,
    pub(super) guess: Vec<f64>,
    pub(super) slip: Vec<f64>,
}

impl Params {
    /// Emission probabilities `[P(obs | unknown), P(obs | known)]` for every step code
    /// `local_item << 1 | correct`, or for the codes 0 and 1 alone when guess and slip are
    /// shared by all items: a table lookup replaces the branches in the hot loop.
    fn emission_table(&self, out: &mut Vec<[f64; 2]>) {
        out.clear();
        for (&g, &s) in self.guess.iter().zip(&self.slip) {
            out.push([1.0 - g, s]);
            out.push([g, 1.0 - s]);
        }
    }

    #[cfg(test)]
    fn emission(&self, step: u32) -> (f64, f64) {
        let mut t = Vec::new();
        self.emission_table(&mut t);
        let e = t[step_index(step, self.guess.len() == 1)];
        (e[0], e[1])
    }
}

#[inline(always)]
fn step_index(step: u32, shared: bool) -> usize {
    if shared { (step & 1) as usize } else { step as usize }
}

/// Sufficient statistics of one E-step.
#[derive(Default)]
struct Counts {
    init_known: f64,
    total: f64,
    learned: f64,
    from_unknown: f64,
    forgot: f64,
    from_known: f64,
    guess_num: Vec<f64>,
    guess_den: Vec<f64>,
    slip_num: Vec<f64>,
    slip_den: Vec<f64>,
}

/// One forward–backward pass over all sequences: returns the log-likelihood and fills `c`.
fn e_step(seqs: &SkillSequences, p: &Params, c: &mut Counts, scratch: &mut Scratch) -> f64 {
    let n_gs = p.guess.len();
    *c = Counts {
        guess_num: std::mem::take(&mut c.guess_num),
        guess_den: std::mem::take(&mut c.guess_den),
        slip_num: std::mem::take(&mut c.slip_num),
        slip_den: std::mem::take(&mut c.slip_den),
        ..Counts::default()
    };
    for v in [&mut c.guess_num, &mut c.guess_den, &mut c.slip_num, &mut c.slip_den] {
        v.clear();
        v.resize(n_gs, 0.0);
    }
    p.emission_table(&mut scratch.emit);
    if n_gs == 1 { e_step_inner::<true>(seqs, p, c, scratch) } else { e_step_inner::<false>(seqs, p, c, scratch) }
}

/// Buffers reused across E-steps: the emission table and the forward variables.
#[derive(Default)]
pub(super) struct Scratch {
    emit: Vec<[f64; 2]>,
    /// Per step: filtered `[P(unknown), P(known)]` and the inverse of the step's scale.
    alpha: Vec<[f64; 3]>,
}

fn e_step_inner<const SHARED: bool>(seqs: &SkillSequences, p: &Params, c: &mut Counts, scratch: &mut Scratch) -> f64 {
    let (l, f) = (p.learn, p.forget);
    let emit = &scratch.emit[..];
    let alpha = &mut scratch.alpha;
    let mut ll = 0.0;
    for (k, &w) in seqs.weights.iter().enumerate() {
        let steps = &seqs.steps[seqs.offsets[k]..seqs.offsets[k + 1]];
        let n = steps.len();
        alpha.resize(n.max(alpha.len()), [0.0; 3]);
        let alpha = &mut alpha[..n];
        // Forward. The recursion carries *unnormalised* state masses, so the loop-carried
        // chain is two multiply-adds per step; the normalised filter alpha[t] = P(state |
        // obs ≤ t) and the inverse scale 1 / P(obs_t | obs < t) (the ratio of consecutive
        // masses) are stored off that chain, where their divisions pipeline. The mass is
        // rescaled before it underflows; the log-likelihood is the log of the final mass.
        const RESCALE: f64 = 1e200;
        let (mut a0, mut a1) = (1.0 - p.prior, p.prior);
        let mut log_scale = 0.0;
        for (slot, &s) in alpha.iter_mut().zip(steps) {
            let [e0, e1] = emit[step_index(s, SHARED)];
            let (x0, x1) = (a0 * e0, a1 * e1);
            let before = a0 + a1;
            let mass = x0 + x1;
            let inv_mass = 1.0 / mass;
            *slot = [x0 * inv_mass, x1 * inv_mass, before * inv_mass];
            a0 = x0 * (1.0 - l) + x1 * f;
            a1 = x0 * l + x1 * (1.0 - f);
            if mass < 1.0 / RESCALE {
                a0 *= RESCALE;
                a1 *= RESCALE;
                log_scale -= RESCALE.ln();
            }
        }
        ll += w * ((a0 + a1).ln() + log_scale);
        // Backward, with the same scales; gamma_t = alpha_t * beta_t. Branch-free: whether
        // the answer was correct is a 0/1 factor, because a mispredicted branch per step
        // costs more than the arithmetic.
        let (mut b0, mut b1) = (1.0, 1.0);
        let (mut learned, mut from_unknown, mut forgot, mut from_known) = (0.0, 0.0, 0.0, 0.0);
        let (mut gn, mut gd, mut sn, mut sd) = (0.0, 0.0, 0.0, 0.0);
        let mut emission_counts = |s: u32, g0: f64, g1: f64| {
            let y = f64::from(s & 1);
            if SHARED {
                gn += y * g0;
                gd += g0;
                sn += (1.0 - y) * g1;
                sd += g1;
            } else {
                let li = (s >> 1) as usize;
                c.guess_num[li] += w * y * g0;
                c.guess_den[li] += w * g0;
                c.slip_num[li] += w * (1.0 - y) * g1;
                c.slip_den[li] += w * g1;
            }
        };
        // Pairs (t-1, t) from the end: gamma_t, then the transition t-1 → t.
        for (pair, &s) in alpha.windows(2).rev().zip(steps[1..].iter().rev()) {
            let [p0, p1, _] = pair[0];
            let [fa0, fa1, inv] = pair[1];
            emission_counts(s, fa0 * b0, fa1 * b1);
            let [e0, e1] = emit[step_index(s, SHARED)];
            let (eb0, eb1) = (e0 * b0 * inv, e1 * b1 * inv);
            // xi(i, j) = alpha_{t-1}(i) A(i, j) e_t(j) beta_t(j) / scale_t; the row sums
            // xi(i, 0) + xi(i, 1) are alpha_{t-1}(i) beta_{t-1}(i), and `learn`/`forget`
            // factor out of the sums over t.
            b0 = (1.0 - l) * eb0 + l * eb1;
            b1 = f * eb0 + (1.0 - f) * eb1;
            learned += p0 * eb1;
            forgot += p1 * eb0;
            from_unknown += p0 * b0;
            from_known += p1 * b1;
        }
        if let (Some(&[fa0, fa1, _]), Some(&s)) = (alpha.first(), steps.first()) {
            emission_counts(s, fa0 * b0, fa1 * b1);
            c.init_known += w * fa1 * b1;
        }
        if SHARED {
            c.guess_num[0] += w * gn;
            c.guess_den[0] += w * gd;
            c.slip_num[0] += w * sn;
            c.slip_den[0] += w * sd;
        }
        c.learned += w * l * learned;
        c.from_unknown += w * from_unknown;
        c.forgot += w * f * forgot;
        c.from_known += w * from_known;
        c.total += w;
    }
    ll
}

fn m_step(p: &mut Params, c: &Counts, cfg: &BktConfig) {
    let clamp = |x: f64, hi: f64| x.clamp(cfg.min_prob, hi);
    let top = 1.0 - cfg.min_prob;
    if c.total > 0.0 {
        p.prior = clamp(c.init_known / c.total, top);
    }
    if c.from_unknown > 0.0 {
        p.learn = clamp(c.learned / c.from_unknown, top);
    }
    if cfg.forgets && c.from_known > 0.0 {
        p.forget = clamp(c.forgot / c.from_known, top);
    }
    // Per-item guess and slip (multigs) are MAP estimates under a Beta prior centred on the
    // skill's pooled estimate, worth `item_prior_strength` pseudo-observations: an item seen
    // twice should not get a guess of 0 or 1. With one shared guess/slip this is plain ML.
    let kappa = if p.guess.len() > 1 { cfg.item_prior_strength } else { 0.0 };
    let ratio = |num: &[f64], den: &[f64]| {
        let d: f64 = den.iter().sum();
        if d > 0.0 { num.iter().sum::<f64>() / d } else { 0.0 }
    };
    let (pool_g, pool_s) = (ratio(&c.guess_num, &c.guess_den), ratio(&c.slip_num, &c.slip_den));
    for j in 0..p.guess.len() {
        if c.guess_den[j] + kappa > 0.0 {
            p.guess[j] = clamp((c.guess_num[j] + kappa * pool_g) / (c.guess_den[j] + kappa), cfg.max_guess_slip);
        }
        if c.slip_den[j] + kappa > 0.0 {
            p.slip[j] = clamp((c.slip_num[j] + kappa * pool_s) / (c.slip_den[j] + kappa), cfg.max_guess_slip);
        }
    }
}

/// Runs EM from `p` until the log-likelihood settles; returns the final log-likelihood.
///
/// As in pyBKT, the iteration that detects convergence does not apply its M-step, so the
/// returned parameters are those the returned log-likelihood was computed with.
pub(super) fn fit(seqs: &SkillSequences, p: &mut Params, cfg: &BktConfig) -> f64 {
    let mut counts = Counts::default();
    let mut scratch = Scratch { alpha: Vec::with_capacity(seqs.max_len), ..Scratch::default() };
    if cfg.accelerate {
        return fit_squarem(seqs, p, cfg, &mut counts, &mut scratch);
    }
    let mut prev = f64::NEG_INFINITY;
    let mut ll = prev;
    for i in 0..cfg.max_iter {
        ll = e_step(seqs, p, &mut counts, &mut scratch);
        if i > 1 && (ll - prev).abs() <= cfg.tol {
            break;
        }
        prev = ll;
        m_step(p, &counts, cfg);
    }
    ll
}

/// EM accelerated by SQUAREM (Varadhan & Roland, Scand. J. Statistics 2008, scheme S3): two
/// EM steps give a secant direction, an extrapolated point is stabilised by one more EM step,
/// and the plain EM point is kept whenever the extrapolation lowers the likelihood. BKT's EM
/// crawls along flat ridges, where this needs several times fewer E-steps for the same
/// optimum. Every E-step counts against `max_iter`.
fn fit_squarem(seqs: &SkillSequences, p: &mut Params, cfg: &BktConfig, c: &mut Counts, sc: &mut Scratch) -> f64 {
    let mut e_steps = 0;
    let mut prev = f64::NEG_INFINITY;
    let mut ll = prev;
    while e_steps < cfg.max_iter {
        let p0 = p.clone();
        let ll0 = e_step(seqs, &p0, c, sc);
        e_steps += 1;
        if (ll0 - prev).abs() <= cfg.tol || e_steps >= cfg.max_iter {
            ll = ll0;
            break;
        }
        let mut p1 = p0.clone();
        m_step(&mut p1, c, cfg);
        e_step(seqs, &p1, c, sc);
        e_steps += 1;
        let mut p2 = p1.clone();
        m_step(&mut p2, c, cfg);
        let (x0, x1, x2) = (p0.to_vec(), p1.to_vec(), p2.to_vec());
        let r: Vec<f64> = x1.iter().zip(&x0).map(|(a, b)| a - b).collect();
        let v: Vec<f64> = x2.iter().zip(&x1).zip(&r).map(|((a, b), r)| a - b - r).collect();
        let (rn, vn) = (norm(&r), norm(&v));
        let mut next = p2;
        if vn > 0.0 && rn > 0.0 {
            let alpha = (-rn / vn).min(-1.0);
            let x: Vec<f64> =
                x0.iter().zip(&r).zip(&v).map(|((x, r), v)| x - 2.0 * alpha * r + alpha * alpha * v).collect();
            let mut cand = p0.with_values(&x, cfg);
            let ll_cand = e_step(seqs, &cand, c, sc);
            e_steps += 1;
            if ll_cand.is_finite() && ll_cand >= ll0 {
                m_step(&mut cand, c, cfg);
                next = cand;
            }
        }
        *p = next;
        prev = ll0;
        ll = ll0;
    }
    if e_steps >= cfg.max_iter {
        // Out of budget: report the likelihood of the parameters actually returned.
        ll = e_step(seqs, p, c, sc);
    }
    ll
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

impl Params {
    fn to_vec(&self) -> Vec<f64> {
        let mut v = vec![self.prior, self.learn, self.forget];
        v.extend_from_slice(&self.guess);
        v.extend_from_slice(&self.slip);
        v
    }

    /// Parameters from a flat vector laid out as [`Params::to_vec`], clamped into the bounds.
    fn with_values(&self, x: &[f64], cfg: &BktConfig) -> Self {
        let top = 1.0 - cfg.min_prob;
        let clamp = |x: f64, hi: f64| if x.is_finite() { x.clamp(cfg.min_prob, hi) } else { cfg.min_prob };
        let n = self.guess.len();
        Self {
            prior: clamp(x[0], top),
            learn: clamp(x[1], top),
            forget: if cfg.forgets { clamp(x[2], top) } else { self.forget },
            guess: x[3..3 + n].iter().map(|&g| clamp(g, cfg.max_guess_slip)).collect(),
            slip: x[3 + n..3 + 2 * n].iter().map(|&s| clamp(s, cfg.max_guess_slip)).collect(),
        }
    }
}

/// Log-likelihood of the sequences under `p` (no update).
#[cfg(test)]
pub(super) fn log_likelihood(seqs: &SkillSequences, p: &Params) -> f64 {
    e_step(seqs, p, &mut Counts::default(), &mut Scratch::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(list: &[&[u32]]) -> SkillSequences {
        let mut s = SkillSequences { offsets: vec![0], items: vec![attune_core::ItemId(0)], ..Default::default() };
        for q in list {
            s.steps.extend_from_slice(q);
            s.offsets.push(s.steps.len());
            s.weights.push(1.0);
            s.max_len = s.max_len.max(q.len());
        }
        s
    }

    fn brute_force_ll(steps: &[u32], p: &Params) -> f64 {
        // Sum over all 2^T hidden paths.
        let t = steps.len();
        let mut total = 0.0;
        for mask in 0..(1u32 << t) {
            let mut prob = 1.0;
            for (i, &s) in steps.iter().enumerate() {
                let st = (mask >> i) & 1;
                prob *= if i == 0 {
                    if st == 1 { p.prior } else { 1.0 - p.prior }
                } else {
                    let prev = (mask >> (i - 1)) & 1;
                    match (prev, st) {
                        (0, 0) => 1.0 - p.learn,
                        (0, _) => p.learn,
                        (_, 0) => p.forget,
                        _ => 1.0 - p.forget,
                    }
                };
                let (e0, e1) = p.emission(s);
                prob *= if st == 1 { e1 } else { e0 };
            }
            total += prob;
        }
        total.ln()
    }

    #[test]
    fn forward_pass_matches_brute_force_enumeration() {
        let p = Params { prior: 0.3, learn: 0.2, forget: 0.05, guess: vec![0.25], slip: vec![0.1] };
        let steps = [0, 1, 0, 1, 1, 1];
        let ll = log_likelihood(&seqs(&[&steps]), &p);
        assert!((ll - brute_force_ll(&steps, &p)).abs() < 1e-12);
    }

    #[test]
    fn em_never_decreases_the_likelihood_without_bounds() {
        let data = seqs(&[&[0, 0, 1, 1, 1], &[1, 1, 1], &[0, 1, 0, 1, 1, 1, 1], &[0, 0, 0, 1]]);
        let cfg = BktConfig { max_guess_slip: 1.0 - 1e-4, forgets: true, ..BktConfig::default() };
        let mut p = Params { prior: 0.5, learn: 0.1, forget: 0.1, guess: vec![0.3], slip: vec![0.2] };
        let mut prev = log_likelihood(&data, &p);
        for _ in 0..20 {
            let single = BktConfig { max_iter: 1, ..cfg.clone() };
            fit(&data, &mut p, &single);
            let mut c = Counts::default();
            e_step(&data, &p, &mut c, &mut Scratch::default());
            m_step(&mut p, &c, &cfg);
            let ll = log_likelihood(&data, &p);
            assert!(ll >= prev - 1e-9, "{ll} < {prev}");
            prev = ll;
        }
    }
}
