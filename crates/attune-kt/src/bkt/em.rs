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
    #[inline]
    fn emission(&self, step: u32) -> (f64, f64) {
        let li = (step >> 1) as usize;
        let li = if self.guess.len() == 1 { 0 } else { li };
        let (g, s) = (self.guess[li], self.slip[li]);
        if step & 1 == 1 { (g, 1.0 - s) } else { (1.0 - g, s) }
    }
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
fn e_step(seqs: &SkillSequences, p: &Params, c: &mut Counts, alpha: &mut Vec<[f64; 3]>) -> f64 {
    let n_gs = p.guess.len();
    c.init_known = 0.0;
    c.total = 0.0;
    c.learned = 0.0;
    c.from_unknown = 0.0;
    c.forgot = 0.0;
    c.from_known = 0.0;
    for v in [&mut c.guess_num, &mut c.guess_den, &mut c.slip_num, &mut c.slip_den] {
        v.clear();
        v.resize(n_gs, 0.0);
    }
    let (l, f) = (p.learn, p.forget);
    let mut ll = 0.0;
    for (k, &w) in seqs.weights.iter().enumerate() {
        let steps = &seqs.steps[seqs.offsets[k]..seqs.offsets[k + 1]];
        alpha.clear();
        // Forward, scaled: alpha[t] = (P(state | obs ≤ t)), scale c_t = P(obs_t | obs < t).
        let (mut a0, mut a1) = (1.0 - p.prior, p.prior);
        for &s in steps {
            let (e0, e1) = p.emission(s);
            let (x0, x1) = (a0 * e0, a1 * e1);
            let norm = x0 + x1;
            a0 = x0 / norm;
            a1 = x1 / norm;
            ll += w * norm.ln();
            alpha.push([a0, a1, norm]);
            let (n0, n1) = (a0 * (1.0 - l) + a1 * f, a0 * l + a1 * (1.0 - f));
            a0 = n0;
            a1 = n1;
        }
        // Backward, with the same scales; gamma_t = alpha_t * beta_t.
        let (mut b0, mut b1) = (1.0, 1.0);
        for t in (0..steps.len()).rev() {
            let [a0, a1, _] = alpha[t];
            let (g0, g1) = (a0 * b0, a1 * b1);
            let li = if n_gs == 1 { 0 } else { (steps[t] >> 1) as usize };
            if steps[t] & 1 == 1 {
                c.guess_num[li] += w * g0;
            } else {
                c.slip_num[li] += w * g1;
            }
            c.guess_den[li] += w * g0;
            c.slip_den[li] += w * g1;
            if t == 0 {
                c.init_known += w * g1;
                break;
            }
            // Transition t-1 → t.
            let [p0, p1, _] = alpha[t - 1];
            let (e0, e1) = p.emission(steps[t]);
            let scale = alpha[t][2];
            let (eb0, eb1) = (e0 * b0 / scale, e1 * b1 / scale);
            let xi01 = p0 * l * eb1;
            let xi00 = p0 * (1.0 - l) * eb0;
            let xi10 = p1 * f * eb0;
            let xi11 = p1 * (1.0 - f) * eb1;
            c.learned += w * xi01;
            c.from_unknown += w * (xi00 + xi01);
            c.forgot += w * xi10;
            c.from_known += w * (xi10 + xi11);
            b0 = (1.0 - l) * eb0 + l * eb1;
            b1 = f * eb0 + (1.0 - f) * eb1;
        }
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
    for j in 0..p.guess.len() {
        if c.guess_den[j] > 0.0 {
            p.guess[j] = clamp(c.guess_num[j] / c.guess_den[j], cfg.max_guess_slip);
        }
        if c.slip_den[j] > 0.0 {
            p.slip[j] = clamp(c.slip_num[j] / c.slip_den[j], cfg.max_guess_slip);
        }
    }
}

/// Runs EM from `p` until the log-likelihood settles; returns the final log-likelihood.
///
/// As in pyBKT, the iteration that detects convergence does not apply its M-step, so the
/// returned parameters are those the returned log-likelihood was computed with.
pub(super) fn fit(seqs: &SkillSequences, p: &mut Params, cfg: &BktConfig) -> f64 {
    let mut counts = Counts::default();
    let mut alpha = Vec::with_capacity(seqs.max_len);
    let mut prev = f64::NEG_INFINITY;
    let mut ll = prev;
    for i in 0..cfg.max_iter {
        ll = e_step(seqs, p, &mut counts, &mut alpha);
        if i > 1 && (ll - prev).abs() <= cfg.tol {
            break;
        }
        prev = ll;
        m_step(p, &counts, cfg);
    }
    ll
}

/// Log-likelihood of the sequences under `p` (no update).
#[cfg(test)]
pub(super) fn log_likelihood(seqs: &SkillSequences, p: &Params) -> f64 {
    e_step(seqs, p, &mut Counts::default(), &mut Vec::new())
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
            e_step(&data, &p, &mut c, &mut Vec::new());
            m_step(&mut p, &c, &cfg);
            let ll = log_likelihood(&data, &p);
            assert!(ll >= prev - 1e-9, "{ll} < {prev}");
            prev = ll;
        }
    }
}
