//! Adam for the hand-written engines.

/// Adam (Kingma & Ba, 2015) over a fixed list of parameter vectors.
pub(crate) struct Adam {
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    t: i32,
    lr: f32,
}

impl Adam {
    pub(crate) fn for_sizes(sizes: &[usize], lr: f32) -> Self {
        Self {
            m: sizes.iter().map(|&n| vec![0.0; n]).collect(),
            v: sizes.iter().map(|&n| vec![0.0; n]).collect(),
            t: 0,
            lr,
        }
    }

    /// One step on `params` with gradients `grads` (same order and sizes as at creation);
    /// the gradients are zeroed for the next accumulation.
    pub(crate) fn step(&mut self, params: &mut [&mut Vec<f32>], grads: &mut [&mut Vec<f32>]) {
        const B1: f32 = 0.9;
        const B2: f32 = 0.999;
        const EPS: f32 = 1e-8;
        self.t += 1;
        let c1 = 1.0 - B1.powi(self.t);
        let c2 = 1.0 - B2.powi(self.t);
        let lr = self.lr;
        for (((p, g), m), v) in params.iter_mut().zip(grads.iter_mut()).zip(&mut self.m).zip(&mut self.v) {
            for k in 0..p.len() {
                let gk = g[k];
                m[k] = B1 * m[k] + (1.0 - B1) * gk;
                v[k] = B2 * v[k] + (1.0 - B2) * gk * gk;
                p[k] -= lr * (m[k] / c1) / ((v[k] / c2).sqrt() + EPS);
                g[k] = 0.0;
            }
        }
    }
}
