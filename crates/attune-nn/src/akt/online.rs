//! AKT answer by answer. Every layer is causal, so earlier rows never change: a learner's
//! state caches each layer's projected keys and values, a prediction costs one row of the
//! question encoder and one of the retriever, and an answer adds one row to each layer.

use super::attention::row;
use super::engine::Params;
use crate::layers::affine;

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
