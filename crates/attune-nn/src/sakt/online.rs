//! SAKT answer by answer: a learner's state caches every block's projected keys and values,
//! so predicting costs one query's attention over the cached rows plus a few vector-matrix
//! products, and an answer appends one row per block — no pass over the history. The window
//! rule of [`super::SaktState`] rebuilds the cache once every `window / 2` answers.

use super::engine::{Block, Params};
use crate::kernels;
use crate::layers::{affine, layer_norm, linear};

/// Cached projections: `keys[b]`, `values[b]` are `[rows, d]` for block `b`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Cache {
    pub(crate) keys: Vec<Vec<f32>>,
    pub(crate) values: Vec<Vec<f32>>,
}

/// One block's output at one query position, attending over the cached `keys`/`values`
/// (`[rows, d]`) and, for blocks after the first, this position's own row `extra`.
fn block_row(
    p: &Block,
    heads: usize,
    q0: &[f32],
    keys: &[f32],
    values: &[f32],
    extra: Option<&(Vec<f32>, Vec<f32>)>,
) -> Vec<f32> {
    let d = q0.len();
    let dh = d / heads;
    let cached = keys.len() / d;
    let rows = cached + usize::from(extra.is_some());
    let key = |j: usize| if j < cached { &keys[j * d..(j + 1) * d] } else { extra.map_or(&[][..], |e| &e.0[..]) };
    let value = |j: usize| if j < cached { &values[j * d..(j + 1) * d] } else { extra.map_or(&[][..], |e| &e.1[..]) };
    let scale = 1.0 / (dh as f32).sqrt();
    let q = affine(q0, &p.w_q, &p.b_q);
    let mut o = vec![0.0; d];
    let mut w = vec![0.0; rows];
    for h in 0..heads {
        let cols = h * dh..(h + 1) * dh;
        for (j, wj) in w.iter_mut().enumerate() {
            *wj = scale * kernels::dot(&q[cols.clone()], &key(j)[cols.clone()]);
        }
        let max = w.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let mut sum = 0.0;
        w.iter_mut().for_each(|v| {
            *v = kernels::exp(*v - max);
            sum += *v;
        });
        for (j, wj) in w.iter().enumerate() {
            let vrow = &value(j)[cols.clone()];
            o[cols.clone()].iter_mut().zip(vrow).for_each(|(o, v)| *o += wj / sum * v);
        }
    }
    let mut r1 = affine(&o, &p.w_o, &p.b_o);
    r1.iter_mut().zip(q0).for_each(|(r, q)| *r += q);
    let (r1, _, _) = layer_norm(&r1, d, &p.ln1_g, &p.ln1_b);
    p.ffn.view().row(&r1)
}

impl Params {
    /// The key row of key position `j` holding interaction token `tok`, projected for block 0.
    fn key_row(&self, tok: usize, j: usize) -> Vec<f32> {
        let d = self.d;
        self.e_int[tok * d..(tok + 1) * d].iter().zip(&self.pos[j * d..(j + 1) * d]).map(|(e, p)| e + p).collect()
    }

    fn push_kv(&self, cache: &mut Cache, b: usize, row: &[f32]) {
        let block = &self.blocks[b];
        cache.keys[b].extend(affine(row, &block.w_k, &block.b_k));
        cache.values[b].extend(affine(row, &block.w_v, &block.b_v));
    }

    /// A cache holding only the start token.
    pub(crate) fn empty_cache(&self) -> Cache {
        let n = self.blocks.len();
        let mut c = Cache { keys: vec![Vec::new(); n], values: vec![Vec::new(); n] };
        self.push_kv(&mut c, 0, &self.key_row(2 * self.n_skills, 0));
        c
    }

    /// The cache after `answers` (window positions `0..`): with one block, whose keys and
    /// values come from the embeddings alone, all rows are projected in one batched pass;
    /// with more, later blocks' rows depend on earlier blocks' outputs, so the answers are
    /// pushed one by one.
    pub(crate) fn cache_of(&self, answers: &[(u32, bool, u32)]) -> Cache {
        if self.blocks.len() > 1 {
            let mut cache = self.empty_cache();
            for (t, &(s, c, _)) in answers.iter().enumerate() {
                self.online_push(&mut cache, s as usize, c, t);
            }
            return cache;
        }
        let (d, block) = (self.d, &self.blocks[0]);
        // The start token at position 0, then answer t at position t + 1 while in the window.
        let mut rows = self.key_row(2 * self.n_skills, 0);
        for (t, &(s, c, _)) in answers.iter().enumerate().take(self.window().saturating_sub(1)) {
            rows.extend(self.key_row(s as usize + self.n_skills * usize::from(c), t + 1));
        }
        let n = rows.len() / d;
        let keys = linear(&rows, n, &block.w_k, &block.b_k, d, d);
        let values = linear(&rows, n, &block.w_v, &block.b_v, d, d);
        Cache { keys: vec![keys], values: vec![values] }
    }

    /// Every block's output for a query on `skill` at the next position, given the cache of
    /// the positions before it. Returns the last block's output and the outputs of the blocks
    /// before it (the keys of the next blocks at this position).
    fn query(&self, cache: &Cache, skill: usize) -> (Vec<f32>, Vec<Vec<f32>>) {
        let d = self.d;
        let q0 = &self.e_ex[skill * d..(skill + 1) * d];
        let mut inner = Vec::new();
        let mut y = Vec::new();
        for (b, block) in self.blocks.iter().enumerate() {
            // Block b > 0 attends over block b − 1's outputs, this position's included.
            let extra = (b > 0).then(|| (affine(&y, &block.w_k, &block.b_k), affine(&y, &block.w_v, &block.b_v)));
            if b > 0 {
                inner.push(std::mem::take(&mut y));
            }
            y = block_row(block, self.heads, q0, &cache.keys[b], &cache.values[b], extra.as_ref());
        }
        (y, inner)
    }

    /// The logit of a next answer on `skill` with item offset `offset`.
    pub(crate) fn online_logit(&self, cache: &Cache, skill: usize, offset: f32) -> f32 {
        let (y, _) = self.query(cache, skill);
        self.b_p[0] + offset + y.iter().zip(&self.w_p).map(|(y, w)| y * w).sum::<f32>()
    }

    /// Appends answer `(skill, correct)` at position `t` (its index in the window).
    pub(crate) fn online_push(&self, cache: &mut Cache, skill: usize, correct: bool, t: usize) {
        // Only blocks after the first cache rows computed from this position's query.
        if self.blocks.len() > 1 {
            let (_, inner) = self.query(cache, skill);
            for (b, y) in inner.iter().enumerate() {
                self.push_kv(cache, b + 1, y);
            }
        }
        if t + 1 < self.window() {
            let tok = skill + self.n_skills * usize::from(correct);
            self.push_kv(cache, 0, &self.key_row(tok, t + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batched_cache_equals_answer_by_answer_pushes() {
        for blocks in [1, 2] {
            let p = Params::init(3, 4, 8, 2, blocks, 6, 5);
            // longer than the window, so the positions past it are left out the same way
            for len in [0, 3, 9] {
                let answers: Vec<(u32, bool, u32)> = (0..len).map(|t| (t % 3, t % 2 == 0, t % 4)).collect();
                let mut pushed = p.empty_cache();
                for (t, &(s, c, _)) in answers.iter().enumerate() {
                    p.online_push(&mut pushed, s as usize, c, t);
                }
                let batched = p.cache_of(&answers);
                for (a, b) in pushed.keys.iter().chain(&pushed.values).zip(batched.keys.iter().chain(&batched.values)) {
                    assert_eq!(a.len(), b.len(), "{blocks} blocks, {len} answers");
                    for (x, y) in a.iter().zip(b) {
                        assert!((x - y).abs() < 1e-4 * x.abs().max(1.0), "{blocks} blocks, {len} answers: {x} vs {y}");
                    }
                }
            }
        }
    }
}
