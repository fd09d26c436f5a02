//! AKT answer by answer. Every layer is causal, so earlier rows never change: a learner's
//! state caches each layer's projected keys and values, a prediction costs one row of the
//! question encoder and one of the retriever, and an answer adds one row to each layer.

use super::attention::{encode, row};
use super::engine::Params;
use crate::layers::{affine, linear};

/// Cached projections `[rows, d]`: keys and values of the knowledge encoder (interactions)
/// and of the question encoder (questions), keys (encoded questions) and values (encoded
/// interactions) of the retriever.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Cache {
    know_k: Vec<f32>,
    know_v: Vec<f32>,
    quest_k: Vec<f32>,
    quest_v: Vec<f32>,
    retr_k: Vec<f32>,
    retr_v: Vec<f32>,
}

/// A question asked at the next position: its row, its question-encoder key and value, and
/// its encoded row and that row's retriever key.
struct Asked {
    x: Vec<f32>,
    k_quest: Vec<f32>,
    v_quest: Vec<f32>,
    x_enc: Vec<f32>,
    k_retr: Vec<f32>,
}

impl Params {
    fn ask(&self, cache: &Cache, skill: usize, item: u32) -> Asked {
        let (q, r) = (&self.quest, &self.retr);
        let x = self.question(skill, item);
        let k_quest = affine(&x, &q.w_k, &q.b_k);
        let v_quest = affine(&x, &q.w_v, &q.b_v);
        let x_enc = row(q, self.heads, &x, &k_quest, (&cache.quest_k, &cache.quest_v), Some((&k_quest, &v_quest)));
        let k_retr = affine(&x_enc, &r.w_k, &r.b_k);
        Asked { x, k_quest, v_quest, x_enc, k_retr }
    }

    /// The cache after `answers`, each layer over all of them in one batched pass: what
    /// pushing them one by one builds (up to float rounding), without a vector–matrix product
    /// per answer and layer.
    pub(crate) fn cache_of(&self, answers: &[(u32, bool, u32)]) -> Cache {
        let (d, rows) = (self.d, answers.len());
        if rows == 0 {
            return Cache::default();
        }
        let (mut x, mut y) = (Vec::with_capacity(rows * d), Vec::with_capacity(rows * d));
        for &(s, c, item) in answers {
            let xr = self.question(s as usize, item);
            y.extend(self.interaction(&xr, c, item));
            x.extend(xr);
        }
        let (y_enc, know_k, know_v) = encode(&self.know, self.heads, &y);
        let (x_enc, quest_k, quest_v) = encode(&self.quest, self.heads, &x);
        let retr_k = linear(&x_enc, rows, &self.retr.w_k, &self.retr.b_k, d, d);
        let retr_v = linear(&y_enc, rows, &self.retr.w_v, &self.retr.b_v, d, d);
        Cache { know_k, know_v, quest_k, quest_v, retr_k, retr_v }
    }

    /// The logit of a next answer on `skill` through `item`.
    pub(crate) fn online_logit(&self, cache: &Cache, skill: usize, item: u32) -> f32 {
        let a = self.ask(cache, skill, item);
        let h = row(&self.retr, self.heads, &a.x_enc, &a.k_retr, (&cache.retr_k, &cache.retr_v), None);
        self.head_logit(&h, &a.x, item)
    }

    /// Appends answer `(skill, correct, item)` at the next position (the retriever's output
    /// for it is not needed: later rows read only its key and the interaction's value).
    pub(crate) fn online_push(&self, cache: &mut Cache, skill: usize, correct: bool, item: u32) {
        let Asked { x, k_quest, v_quest, k_retr, .. } = self.ask(cache, skill, item);
        let k = &self.know;
        let y = self.interaction(&x, correct, item);
        let (k_know, v_know) = (affine(&y, &k.w_k, &k.b_k), affine(&y, &k.w_v, &k.b_v));
        let y_enc = row(k, self.heads, &y, &k_know, (&cache.know_k, &cache.know_v), Some((&k_know, &v_know)));
        cache.quest_k.extend(k_quest);
        cache.quest_v.extend(v_quest);
        cache.retr_k.extend(k_retr);
        cache.know_k.extend(k_know);
        cache.know_v.extend(v_know);
        cache.retr_v.extend(affine(&y_enc, &self.retr.w_v, &self.retr.b_v));
    }
}

#[cfg(test)]
mod tests {
    use super::super::engine::Shape;
    use super::*;

    #[test]
    fn batched_cache_equals_answer_by_answer_pushes() {
        for rasch in [true, false] {
            let shape = Shape { n_skills: 5, n_items: 7, d: 8, heads: 2, ff: 6, fc: (6, 4), window: 16, rasch };
            let mut p = Params::init(&shape, 11);
            p.mu.iter_mut().enumerate().for_each(|(k, v)| *v = 0.4 * (k as f32).cos());
            let answers: Vec<(u32, bool, u32)> = (0..13u32).map(|t| (t * 3 % 5, t % 3 != 0, t * 5 % 7)).collect();
            let mut pushed = Cache::default();
            for &(s, c, item) in &answers {
                p.online_push(&mut pushed, s as usize, c, item);
            }
            let batched = p.cache_of(&answers);
            let pairs = [
                (&pushed.know_k, &batched.know_k),
                (&pushed.know_v, &batched.know_v),
                (&pushed.quest_k, &batched.quest_k),
                (&pushed.quest_v, &batched.quest_v),
                (&pushed.retr_k, &batched.retr_k),
                (&pushed.retr_v, &batched.retr_v),
            ];
            for (k, (a, b)) in pairs.into_iter().enumerate() {
                assert_eq!(a.len(), answers.len() * 8, "tensor {k}");
                assert_eq!(a.len(), b.len(), "tensor {k}");
                for (x, y) in a.iter().zip(b) {
                    assert!((x - y).abs() < 1e-4 * x.abs().max(1.0), "rasch {rasch}, tensor {k}: {x} vs {y}");
                }
            }
            assert_eq!(p.cache_of(&[]), Cache::default());
        }
    }
}
