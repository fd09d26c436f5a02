//! What the neural models' training loops share: windows of a learner's answers, minibatches
//! of windows, starting item offsets.

use attune_core::Dataset;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

/// One training window: `(skill, correct, item)` per answer.
pub(crate) type Window = Vec<(u32, bool, u32)>;

pub(crate) fn windows(data: &Dataset, n_skills: usize, len: usize) -> Vec<Window> {
    let mut out = Vec::new();
    for rows in data.learners() {
        let seq: Window = rows
            .filter_map(|i| {
                let s = data.skills(i).first()?.0;
                ((s as usize) < n_skills).then_some((s, data.correct()[i], data.items()[i].0))
            })
            .collect();
        out.extend(seq.chunks(len).map(<[(u32, bool, u32)]>::to_vec));
    }
    out
}

/// One epoch's minibatches of window indices, each longest window first. By default windows
/// are shuffled across the whole set, so a batch mixes long and short histories as pyKT's
/// do (the fused engine skips the padding); `sort_by_length` instead groups similar lengths
/// and shuffles only the order of the groups.
pub(crate) fn epoch_batches(
    ws: &[Window],
    batch_size: usize,
    sort_by_length: bool,
    rng: &mut StdRng,
) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..ws.len()).collect();
    let mut batches: Vec<Vec<usize>> = if sort_by_length {
        order.sort_by_key(|&i| (ws[i].len(), i));
        let mut b: Vec<Vec<usize>> = order.chunks(batch_size).map(<[usize]>::to_vec).collect();
        b.shuffle(rng);
        b
    } else {
        order.shuffle(rng);
        order.chunks(batch_size).map(<[usize]>::to_vec).collect()
    };
    for b in &mut batches {
        b.sort_by_key(|&i| std::cmp::Reverse(ws[i].len()));
    }
    batches
}

/// Starting item offsets from the training answers: the logit of the item's correct rate
/// (shrunk toward its skill's with 5 pseudo-answers) minus the logit of the skill's. Adam's
/// steps of about the learning rate would take hundreds of epochs to move offsets of a few
/// logits from zero on datasets with few, long learners (STATICS: 13 minibatches an epoch).
pub(crate) fn item_offsets(data: &Dataset, n_skills: usize) -> Vec<f32> {
    const PRIOR: f64 = 5.0;
    let n_items = data.vocab().n_items();
    let (mut item, mut skill) = (vec![(0.0f64, 0.0f64); n_items], vec![(0.0f64, 0.0f64); n_skills]);
    for i in 0..data.len() {
        let y = f64::from(u8::from(data.correct()[i]));
        let it = &mut item[data.items()[i].index()];
        *it = (it.0 + y, it.1 + 1.0);
        if let Some(s) = data.skills(i).first().filter(|s| s.index() < n_skills) {
            let sk = &mut skill[s.index()];
            *sk = (sk.0 + y, sk.1 + 1.0);
        }
    }
    let logit = |p: f64| (p / (1.0 - p)).ln();
    data.vocab()
        .item_skills
        .iter()
        .zip(&item)
        .map(|(skills, &(c, n))| {
            let Some(&(sc, sn)) = skills.first().and_then(|s| skill.get(s.index())) else { return 0.0 };
            let p_skill = ((sc + 1.0) / (sn + 2.0)).clamp(1e-3, 1.0 - 1e-3);
            let p_item = ((c + PRIOR * p_skill) / (n + PRIOR)).clamp(1e-3, 1.0 - 1e-3);
            (logit(p_item) - logit(p_skill)) as f32
        })
        .collect()
}

/// Runs `run` on every window of a minibatch, the windows (longest first) dealt alternately
/// to two threads, each with its own gradient buffer (`zero()`) and a dropout stream seeded
/// from `rng`; the second buffer is merged into `grads`. Returns the summed losses.
pub(crate) fn deal_windows<G: Send>(
    windows: &[&[(u32, bool, u32)]],
    rng: &mut StdRng,
    grads: &mut G,
    zero: impl Fn() -> G,
    run: impl Fn(&[(u32, bool, u32)], &mut StdRng, &mut G) -> f32 + Sync,
    merge: impl Fn(&mut G, &G),
) -> f32 {
    let mut order = windows.to_vec();
    order.sort_by_key(|w| std::cmp::Reverse(w.len()));
    let (seed_a, seed_b) = (rng.random::<u64>(), rng.random::<u64>());
    let run_all = |ws: Vec<&[(u32, bool, u32)]>, seed: u64, g: &mut G| {
        let mut rng = StdRng::seed_from_u64(seed);
        ws.into_iter().map(|w| run(w, &mut rng, g)).sum::<f32>()
    };
    if order.len() < 2 {
        return run_all(order, seed_a, grads);
    }
    // Always the same two halves with their own streams and sums, whatever the thread count,
    // so that a seeded fit gives the same model on one thread as on sixteen.
    let even: Vec<_> = order.iter().step_by(2).copied().collect();
    let odd: Vec<_> = order.iter().skip(1).step_by(2).copied().collect();
    let mut g_odd = zero();
    let (a, b) = if rayon::current_num_threads() < 2 {
        (run_all(even, seed_a, grads), run_all(odd, seed_b, &mut g_odd))
    } else {
        rayon::join(|| run_all(even, seed_a, grads), || run_all(odd, seed_b, &mut g_odd))
    };
    merge(grads, &g_odd);
    a + b
}

/// Whether an attention model's window of `answers` starting at position `start` is one its
/// updates reach: every skill known, no longer than the window, and starting where the
/// window starts after `start + answers.len()` answers.
pub(crate) fn reachable_window(
    answers: &[(u32, bool, u32)],
    start: usize,
    n_skills: usize,
    stride: usize,
    window: usize,
) -> bool {
    let Some(t) = start.checked_add(answers.len()) else { return false };
    answers.iter().all(|a| (a.0 as usize) < n_skills)
        && window_start(t, stride) == start
        && answers.len() <= window.max(1)
}

/// The first skill of each item, as the models index them (`u32::MAX` when it has none).
pub(crate) fn item_skills(data: &Dataset) -> Vec<u32> {
    data.vocab().item_skills.iter().map(|s| s.first().map_or(u32::MAX, |s| s.0)).collect()
}

/// The model's index of an answer's first skill, when the model knows it.
pub(crate) fn known_skill(skills: &[attune_core::SkillId], n_skills: usize) -> Option<usize> {
    skills.first().map(|s| s.index()).filter(|&s| s < n_skills)
}

/// The model's index of an item's first skill, when the model knows it.
pub(crate) fn item_skill(item_skill: &[u32], n_skills: usize, item: attune_core::ItemId) -> Option<usize> {
    let s = *item_skill.get(item.index())?;
    (s != u32::MAX && (s as usize) < n_skills).then_some(s as usize)
}

/// The epoch with the best validation AUC, if any was validated.
pub(crate) fn best_epoch(history: &[crate::EpochRecord]) -> Option<&crate::EpochRecord> {
    history.iter().filter(|e| !e.valid_auc.is_nan()).max_by(|a, b| a.valid_auc.total_cmp(&b.valid_auc))
}

/// Where the window predicting answer `t` starts, for attention windows of `2 · stride`
/// positions moving by `stride`: `max(0, (⌊t / stride⌋ − 1) · stride)`.
pub(crate) fn window_start(t: usize, stride: usize) -> usize {
    (t / stride).saturating_sub(1) * stride
}

/// The probability of every answer of one learner (`rows` of `data`), each predicted from the
/// window of earlier answers [`window_start`] gives it: `logits` returns every answer's logit of
/// a window in one pass, so two passes over the learner cover all answers. An answer whose
/// skill the model does not know is predicted by `other(window before it, its row)`.
pub(crate) fn predict_learner(
    data: &Dataset,
    rows: std::ops::Range<usize>,
    n_skills: usize,
    stride: usize,
    logits: impl Fn(&[(u32, bool, u32)]) -> Vec<f32>,
    other: impl Fn(&[(u32, bool, u32)], usize, usize) -> attune_core::Probability,
) -> Vec<(usize, attune_core::Probability)> {
    use attune_core::Probability;
    let s = stride.max(1);
    // The answers that enter the model, and for each the row it came from.
    let (mut seq, mut seq_rows, mut others) = (Vec::new(), Vec::new(), Vec::new());
    let mut out = Vec::with_capacity(rows.len());
    for i in rows {
        match known_skill(data.skills(i), n_skills) {
            Some(skill) => {
                seq.push((skill as u32, data.correct()[i], data.items()[i].0));
                seq_rows.push(i);
            }
            None => others.push((i, seq.len())),
        }
    }
    let mut start = 0;
    while start < seq.len() {
        let end = (start + 2 * s).min(seq.len());
        let z = logits(&seq[start..end]);
        let first = if start == 0 { 0 } else { start + s };
        for t in first..end {
            out.push((seq_rows[t], Probability::from_logit(f64::from(z[t - start]))));
        }
        if end == seq.len() {
            break;
        }
        start += s;
    }
    for (i, t) in others {
        let from = window_start(t, s);
        out.push((i, other(&seq[from..t], from, i)));
    }
    out
}

/// Every answer's probability in `data`: `per_learner` predicts one learner's rows (learners
/// run in parallel); rows it leaves out get `base_rate`.
pub(crate) fn predict_learners(
    data: &Dataset,
    base_rate: f64,
    per_learner: impl Fn(std::ops::Range<usize>) -> Vec<(usize, attune_core::Probability)> + Sync,
) -> Vec<attune_core::Probability> {
    use rayon::prelude::*;
    let learners: Vec<std::ops::Range<usize>> = data.learners().collect();
    let predicted: Vec<Vec<(usize, attune_core::Probability)>> = learners.into_par_iter().map(&per_learner).collect();
    let mut out = vec![attune_core::Probability::new(base_rate); data.len()];
    for (i, p) in predicted.into_iter().flatten() {
        out[i] = p;
    }
    out
}
