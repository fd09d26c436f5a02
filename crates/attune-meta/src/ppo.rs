//! BOBCAT's "Unbiased" selection policy: the selection network trained by proximal policy
//! optimisation (Schulman et al., 2017) on the reward of the tests it samples, as BOBCAT
//! (Ghosh & Lan, IJCAI 2021) trains it.
//!
//! A training test samples each item from the softmax of the network's scores over the
//! unasked pool; its reward is how much better the response model, adapted on the sampled
//! answers, predicts the learner's query answers than adapted on as many random pool answers
//! (BOBCAT's random-selection baseline), measured by the mean log-likelihood rather than
//! BOBCAT's accuracy, which on a dozen query answers is too coarse to rank tests. Every step
//! of a test shares its reward; a batch's rewards are centred and scaled (in place of
//! BOBCAT's learned critic, whose role the centring plays), and the network takes
//! [`PPO_EPOCHS`] passes of the clipped surrogate with an entropy bonus.

use attune_core::{Dataset, ItemId};
use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use crate::bobcat::Trace;
use crate::e4::AdaptiveTester;
use crate::policy::{Policy, PolicyAdam, PolicyGrad};
use crate::tasks::pool_and_query;

/// Passes over a batch's steps per update (BOBCAT's `K_epochs`).
pub(crate) const PPO_EPOCHS: usize = 4;

/// The surrogate's clip (BOBCAT's `eps_clip`).
const CLIP: f64 = 0.2;

/// Weight of the entropy bonus.
const ENTROPY: f64 = 0.01;

/// One sampled choice.
#[derive(Clone, Debug)]
struct Choice {
    answers: Vec<(u32, bool)>,
    items: Vec<u32>,
    pick: usize,
    log_prob: f64,
}

/// One sampled training test and its reward.
#[derive(Clone, Debug)]
pub(crate) struct Rollout {
    choices: Vec<Choice>,
    reward: f64,
}

/// The softmax of `logits`, in f64.
pub(crate) fn softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f64> = logits.iter().map(|&l| f64::from(l - max).exp()).collect();
    let z: f64 = e.iter().sum();
    e.iter().map(|x| x / z).collect()
}

/// Mean log-likelihood of the query answers after `tester` reads `rows`.
fn query_log_likelihood<T: AdaptiveTester>(tester: &T, data: &Dataset, rows: &[usize], query: &[usize]) -> f64 {
    let mut s = tester.start();
    for &r in rows {
        tester.observe(&mut s, &data.interaction(r));
    }
    let ll: f64 = query
        .iter()
        .map(|&r| {
            let p = tester.predict(&s, data.items()[r]).get().clamp(1e-9, 1.0 - 1e-9);
            if data.correct()[r] { p.ln() } else { (1.0 - p).ln() }
        })
        .sum();
    ll / query.len().max(1) as f64
}

/// A test of `n` items sampled from `net`'s softmax over the unasked pool of a fresh
/// pool/query draw of `rows`, and its reward against `n` random pool items; the trace feeds
/// the response model's outer loop.
pub(crate) fn rollout<T: AdaptiveTester>(
    tester: &T,
    net: &Policy,
    n: usize,
    data: &Dataset,
    rows: std::ops::Range<usize>,
    seed: u64,
    index: impl Fn(ItemId) -> u32,
) -> (Trace, Rollout) {
    let draw = pool_and_query(rows, seed);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x99);
    let answer = |r: usize| (index(data.items()[r]), data.correct()[r]);
    let candidates: Vec<(u32, bool)> = draw.pool.iter().map(|&r| answer(r)).collect();
    let mut left: Vec<usize> = (0..candidates.len()).collect();
    let mut selected = vec![false; candidates.len()];
    let (mut choices, mut asked, mut asked_rows) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n.min(left.len()) {
        let items: Vec<u32> = left.iter().map(|&c| candidates[c].0).collect();
        let probs = softmax(&net.logits(&net.hidden(&asked), &items));
        let u: f64 = rng.random();
        let mut acc = 0.0;
        let pick = probs.iter().position(|p| {
            acc += p;
            u < acc
        });
        let pick = pick.unwrap_or(items.len() - 1);
        choices.push(Choice { answers: asked.clone(), items, pick, log_prob: probs[pick].max(1e-300).ln() });
        let c = left.swap_remove(pick);
        selected[c] = true;
        asked.push(candidates[c]);
        asked_rows.push(draw.pool[c]);
    }
    let random: Vec<usize> = draw.pool.sample(&mut rng, asked_rows.len()).copied().collect();
    let reward = query_log_likelihood(tester, data, &asked_rows, &draw.query)
        - query_log_likelihood(tester, data, &random, &draw.query);
    let query = draw.query.iter().map(|&r| answer(r)).collect();
    (Trace { asked, steps: Vec::new(), candidates, selected, query }, Rollout { choices, reward })
}

/// [`PPO_EPOCHS`] clipped-surrogate steps of `net` on a batch of rollouts sampled from it.
pub(crate) fn update(net: &mut Policy, adam: &mut PolicyAdam, grad: &mut PolicyGrad, rollouts: &[Rollout]) {
    let n = rollouts.len().max(1) as f64;
    let mean = rollouts.iter().map(|r| r.reward).sum::<f64>() / n;
    let sd = (rollouts.iter().map(|r| (r.reward - mean).powi(2)).sum::<f64>() / n).sqrt();
    let steps: usize = rollouts.iter().map(|r| r.choices.len()).sum();
    if steps == 0 {
        return;
    }
    for _ in 0..PPO_EPOCHS {
        for r in rollouts {
            let advantage = (r.reward - mean) / (sd + 1e-5);
            for c in &r.choices {
                let h = net.hidden(&c.answers);
                let probs = softmax(&net.logits(&h, &c.items));
                let ratio = (probs[c.pick].max(1e-300).ln() - c.log_prob).exp();
                // The clipped term is flat in the parameters where the clip binds.
                let clipped = (advantage > 0.0 && ratio > 1.0 + CLIP) || (advantage < 0.0 && ratio < 1.0 - CLIP);
                let entropy: f64 = -probs.iter().filter(|&&p| p > 0.0).map(|p| p * p.ln()).sum::<f64>();
                let d: Vec<f32> = probs
                    .iter()
                    .enumerate()
                    .map(|(i, &p)| {
                        let chosen = if i == c.pick { 1.0 } else { 0.0 };
                        let surrogate = if clipped { 0.0 } else { -advantage * ratio * (chosen - p) };
                        let bonus = if p > 0.0 { ENTROPY * p * (p.ln() + entropy) } else { 0.0 };
                        (surrogate + bonus) as f32
                    })
                    .collect();
                net.backward(&c.answers, &h, &c.items, &d, grad);
            }
        }
        adam.step(net, grad, 1.0 / steps as f32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Steps on rollouts whose reward favours one item raise that item's probability.
    #[test]
    fn the_update_moves_toward_rewarded_choices() {
        let mut net = Policy::new(6, 1);
        let items = vec![0u32, 1, 2, 3];
        let before = softmax(&net.logits(&net.hidden(&[]), &items));
        let mut adam = PolicyAdam::new(&net, 1e-2);
        let mut grad = PolicyGrad::zeros(&net);
        for _ in 0..20 {
            let probs = softmax(&net.logits(&net.hidden(&[]), &items));
            let rollouts: Vec<Rollout> = (0..4)
                .map(|pick| Rollout {
                    choices: vec![Choice { answers: vec![], items: items.clone(), pick, log_prob: probs[pick].ln() }],
                    reward: if pick == 2 { 1.0 } else { 0.0 },
                })
                .collect();
            update(&mut net, &mut adam, &mut grad, &rollouts);
        }
        let after = softmax(&net.logits(&net.hidden(&[]), &items));
        assert!(after[2] > before[2] + 0.2, "{before:?} → {after:?}");
    }
}
