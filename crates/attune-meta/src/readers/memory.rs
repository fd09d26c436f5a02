//! The memory-network reader, in the spirit of MAMO (Dong et al., KDD 2020): an external
//! memory of student types, each a key in the encoder's space and a profile. A new learner's
//! support is encoded, attends over the keys, and the profile it gets is the attention-
//! weighted sum of the types' profiles, in one forward pass. The memory's profiles start at
//! k-means clusters of the training learners' profiles; keys, profiles and the encoder are
//! then trained end to end on the query loss.

use serde::{Deserialize, Serialize};

use super::encoder::{ENCODER_DIMS, Encoder, uniform};
use super::kmeans::kmeans;
use super::profile::{Answer, SkillRasch};
use super::{Learner, ProfileTarget, Reader, Record};

/// Slots of the memory.
pub const MEMORY_SLOTS: usize = 8;

/// A trained memory reader, over the Rasch model ([`SkillRasch`]), BKT or DKT.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemoryReader<T = SkillRasch> {
    /// The base and its skills.
    pub target: T,
    /// The support's encoder.
    pub encoder: Encoder,
    /// Keys, `[MEMORY_SLOTS × ENCODER_DIMS]`.
    pub keys: Vec<f64>,
    /// Profiles, `[MEMORY_SLOTS × width]`.
    pub values: Vec<f64>,
    /// Training record.
    pub record: Record,
}

#[derive(Default)]
pub(crate) struct Tape {
    z: [f64; ENCODER_DIMS],
    a: Vec<f64>,
}

impl<T: ProfileTarget> MemoryReader<T> {
    /// The memory started at `MEMORY_SLOTS` clusters of the training profiles.
    pub(crate) fn new(target: T, train: &[Learner], seed: u64) -> Self {
        let w = target.width();
        let profiles: Vec<Vec<f64>> = train.iter().map(|l| l.profile.clone()).collect();
        let (_, centres) = kmeans(&profiles, MEMORY_SLOTS, 3, seed);
        let mut values = vec![0.0; MEMORY_SLOTS * w];
        for (t, c) in centres.iter().enumerate() {
            values[t * w..(t + 1) * w].copy_from_slice(c);
        }
        let encoder = Encoder::new(target.n_skills(), seed);
        let keys = uniform(MEMORY_SLOTS * ENCODER_DIMS, 0.5, seed ^ 0xC0DE);
        Self { target, encoder, keys, values, record: Record::default() }
    }

    fn key(&self, t: usize) -> &[f64] {
        &self.keys[t * ENCODER_DIMS..(t + 1) * ENCODER_DIMS]
    }
}

impl<T: ProfileTarget> Reader for MemoryReader<T> {
    type Tape = Tape;

    type Target = T;

    fn target(&self) -> &T {
        &self.target
    }

    fn read(&self, support: &[Answer], _me: Option<usize>, tape: &mut Tape) -> Vec<f64> {
        let w = self.target.width();
        tape.z = self.encoder.encode(&self.target, support);
        let logits: Vec<f64> =
            (0..MEMORY_SLOTS).map(|t| self.key(t).iter().zip(&tape.z).map(|(k, z)| k * z).sum()).collect();
        tape.a = softmax(&logits);
        let mut profile = vec![0.0; w];
        for (t, &a) in tape.a.iter().enumerate() {
            profile.iter_mut().zip(&self.values[t * w..(t + 1) * w]).for_each(|(p, v)| *p += a * v);
        }
        profile
    }

    fn back(&self, support: &[Answer], tape: &Tape, dprofile: &[f64], grad: &mut [f64]) {
        let w = self.target.width();
        let (n_enc, n_keys) = (self.encoder.w.len(), self.keys.len());
        let da: Vec<f64> = (0..MEMORY_SLOTS)
            .map(|t| self.values[t * w..(t + 1) * w].iter().zip(dprofile).map(|(v, d)| v * d).sum())
            .collect();
        let mean: f64 = tape.a.iter().zip(&da).map(|(a, d)| a * d).sum();
        let mut dz = [0.0; ENCODER_DIMS];
        for t in 0..MEMORY_SLOTS {
            let a = tape.a[t];
            let dlogit = a * (da[t] - mean);
            for j in 0..ENCODER_DIMS {
                grad[n_enc + t * ENCODER_DIMS + j] += dlogit * tape.z[j];
                dz[j] += dlogit * self.key(t)[j];
            }
            let off = n_enc + n_keys + t * w;
            grad[off..off + w].iter_mut().zip(dprofile).for_each(|(g, d)| *g += a * d);
        }
        self.encoder.backward(&self.target, support, &dz, &mut grad[..n_enc]);
    }

    fn params(&self) -> Vec<f64> {
        [&self.encoder.w[..], &self.keys, &self.values].concat()
    }

    fn set_params(&mut self, x: &[f64]) {
        let (n_enc, n_keys) = (self.encoder.w.len(), self.keys.len());
        self.encoder.w.copy_from_slice(&x[..n_enc]);
        self.keys.copy_from_slice(&x[n_enc..n_enc + n_keys]);
        self.values.copy_from_slice(&x[n_enc + n_keys..]);
    }

    fn record(&mut self) -> &mut Record {
        &mut self.record
    }
}

/// Softmax of `x`.
pub(crate) fn softmax(x: &[f64]) -> Vec<f64> {
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = x.iter().map(|v| (v - max).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}
