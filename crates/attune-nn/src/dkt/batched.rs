//! Predicting a whole dataset with DKT: learners batched through matrix products instead of
//! one matrix-vector product per answer, batches spread over the cores. The same numbers as
//! replaying each learner through [`KnowledgeTracer`] (checked in the tests).

use attune_core::{Dataset, KnowledgeTracer, Probability};
use rayon::prelude::*;

use super::model::Dkt;
use crate::{kernels, linalg};

/// Learners per batch.
const BATCH: usize = 64;

/// One learner's answers: `(row, skill the model knows, correct)` in order.
type Learner = Vec<(usize, Option<usize>, bool)>;

impl Dkt {
    /// The probability of every answer in `data`, each predicted from the learner's earlier
    /// answers: what [`attune_core::predict_sequence`] returns, computed in batches.
    pub fn predict_dataset(&self, data: &Dataset) -> Vec<Probability> {
        let mut learners: Vec<Learner> = data
            .learners()
            .map(|rows| {
                rows.map(|i| {
                    let skill = crate::batching::known_skill(data.skills(i), self.n_skills);
                    (i, skill, data.correct()[i])
                })
                .collect()
            })
            .collect();
        let updates = |l: &Learner| l.iter().filter(|a| a.1.is_some()).count();
        learners.sort_by_key(|l| std::cmp::Reverse(updates(l)));
        let mut out = vec![Probability::new(self.base_rate); data.len()];
        let batches: Vec<Vec<(usize, Probability)>> =
            learners.par_chunks(BATCH).map(|batch| self.predict_batch(batch, data)).collect();
        for (i, p) in batches.into_iter().flatten() {
            out[i] = p;
        }
        out
    }

    /// Learners sorted by their number of state updates, most first.
    fn predict_batch(&self, batch: &[Learner], data: &Dataset) -> Vec<(usize, Probability)> {
        let (h, g4) = (self.hidden, 4 * self.hidden);
        let b = batch.len();
        let mut out = Vec::with_capacity(batch.iter().map(Vec::len).sum());
        // Per learner: the answers still to predict start at `next`; `updates` lists the
        // indices (into the learner) of the answers that step the LSTM.
        let updates: Vec<Vec<usize>> = batch
            .iter()
            .map(|l| l.iter().enumerate().filter(|(_, a)| a.1.is_some()).map(|(k, _)| k).collect())
            .collect();
        let mut next = vec![0usize; b];
        let (mut hs, mut cs) = (vec![0.0f32; b * h], vec![0.0f32; b * h]);
        let (mut gates, mut tanh_c, mut c_new) = (vec![0.0f32; b * g4], vec![0.0f32; h], vec![0.0f32; h]);
        let state_of = |hs: &[f32], r: usize| super::DktState { h: hs[r * h..(r + 1) * h].to_vec(), c: Vec::new() };
        for u in 0.. {
            // Learners with at least u updates form a prefix; predict their answers up to and
            // including the u-th update (or to the end) from the state after u - 1 updates.
            let active = updates.iter().take_while(|up| up.len() >= u).count();
            if active == 0 {
                break;
            }
            for r in 0..active {
                let end = updates[r].get(u).map_or(batch[r].len(), |&k| k + 1);
                let state = state_of(&hs, r);
                for &(i, _, _) in &batch[r][next[r]..end] {
                    out.push((i, self.predict_interaction(&state, &data.interaction(i))));
                }
                next[r] = end;
            }
            let stepping = updates.iter().take_while(|up| up.len() > u).count();
            if stepping == 0 {
                break;
            }
            for r in 0..stepping {
                let (_, skill, correct) = batch[r][updates[r][u]];
                let tok = skill.unwrap_or(0) + self.n_skills * usize::from(correct);
                gates[r * g4..(r + 1) * g4].copy_from_slice(&self.token_gates[tok * g4..(tok + 1) * g4]);
            }
            linalg::gemm(
                stepping,
                g4,
                h,
                &hs[..stepping * h],
                false,
                &self.w_hh,
                false,
                &mut gates[..stepping * g4],
                1.0,
            );
            for r in 0..stepping {
                let row = r * h..(r + 1) * h;
                kernels::lstm_cell(
                    &mut gates[r * g4..(r + 1) * g4],
                    &cs[row.clone()],
                    &mut c_new,
                    &mut tanh_c,
                    &mut hs[row.clone()],
                );
                cs[row].copy_from_slice(&c_new);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use attune_core::{DatasetBuilder, predict_sequence};

    use super::*;
    use crate::DktConfig;
    use crate::dkt::fused::Params;

    /// Batched and one-by-one prediction agree, including items whose skill the model does
    /// not know (predicted at the base rate, no state update) and learners of one answer.
    #[test]
    fn batched_prediction_equals_replay() {
        let mut b = DatasetBuilder::default();
        let mut k = 0u32;
        for learner in 0..150u32 {
            let len = [1usize, 2, 7, 30, 75][learner as usize % 5] + learner as usize % 3;
            for t in 0..len {
                k = k.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let skill = (k >> 16) % 6; // skill 5 is unknown to the model below
                let (u, i, s) =
                    (b.student(&format!("u{learner}")), b.item(&format!("i{skill}")), b.skill(&format!("s{skill}")));
                b.push_row(u, i, &[s], !(k >> 8).is_multiple_of(3), t as i64);
            }
        }
        let data = b.finish();
        let mut p = Params::init(5, data.vocab().n_items(), 8, 4);
        p.b_item.iter_mut().enumerate().for_each(|(k, v)| *v = (k as f32 * 0.7).sin());
        let items = crate::batching::item_skills(&data);
        let model = Dkt::from_params(&p, &DktConfig { hidden: 8, ..DktConfig::default() }, items, 0.6);
        let batched = model.predict_dataset(&data);
        let replayed = predict_sequence(&model, &data);
        assert_eq!(batched.len(), replayed.len());
        for (a, b) in batched.iter().zip(&replayed) {
            assert!((a.get() - b.get()).abs() < 1e-5, "{} vs {}", a.get(), b.get());
        }
    }
}
