//! The matching network (Vinyals et al., NeurIPS 2016) over learners: a new learner's
//! support is encoded and attends, by the cosine of its vector with theirs, over training
//! learners encoded from their histories; the learner's profile is the attention-weighted
//! sum of theirs — their answers to each skill, summarised as per-skill offsets. Encoder and
//! attention sharpness are trained on the query loss; the training learners' vectors are
//! re-encoded after every epoch (not differentiated), and a training learner never attends
//! to themself.

use serde::{Deserialize, Serialize};

use super::encoder::{ENCODER_DIMS, Encoder, cosine};
use super::memory::softmax;
use super::profile::{Answer, SkillRasch};
use super::{Learner, Reader, Record};

/// Most training learners kept in the memory.
pub(crate) const MATCHING_MEMORY: usize = 1000;

/// A trained matching network.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Matching {
    /// The base and its skills.
    pub target: SkillRasch,
    /// The encoder of supports and of the training learners' histories.
    pub encoder: Encoder,
    /// Attention sharpness on the cosine.
    pub sharpness: f64,
    /// The training learners' vectors, `[m × ENCODER_DIMS]`.
    pub keys: Vec<f64>,
    /// Their profiles, `[m × width]`.
    pub values: Vec<f64>,
    /// Training record.
    pub record: Record,
}

#[derive(Default)]
pub(crate) struct Tape {
    z: [f64; ENCODER_DIMS],
    a: Vec<f64>,
    me: Option<usize>,
}

impl Matching {
    pub(crate) fn new(target: SkillRasch, seed: u64) -> Self {
        let encoder = Encoder::new(target.n_skills, seed);
        Self { target, encoder, sharpness: 5.0, keys: Vec::new(), values: Vec::new(), record: Record::default() }
    }

    fn len(&self) -> usize {
        self.keys.len() / ENCODER_DIMS
    }

    pub(crate) fn key(&self, m: usize) -> &[f64] {
        &self.keys[m * ENCODER_DIMS..(m + 1) * ENCODER_DIMS]
    }

    fn value(&self, m: usize) -> &[f64] {
        let w = self.target.width();
        &self.values[m * w..(m + 1) * w]
    }
}

/// The memory of `train`'s first `cap` learners under `encoder`: their vectors and profiles.
pub(crate) fn memory_of(target: &SkillRasch, encoder: &Encoder, train: &[Learner], cap: usize) -> (Vec<f64>, Vec<f64>) {
    let mut keys = Vec::with_capacity(cap.min(train.len()) * ENCODER_DIMS);
    let mut values = Vec::with_capacity(cap.min(train.len()) * target.width());
    for l in train.iter().take(cap) {
        keys.extend(encoder.encode(target, &l.history));
        values.extend(&l.profile);
    }
    (keys, values)
}

impl Reader for Matching {
    type Tape = Tape;

    type Target = SkillRasch;

    fn target(&self) -> &SkillRasch {
        &self.target
    }

    fn read(&self, support: &[Answer], me: Option<usize>, tape: &mut Tape) -> Vec<f64> {
        let w = self.target.width();
        tape.z = self.encoder.encode(&self.target, support);
        tape.me = me;
        let logits: Vec<f64> = (0..self.len())
            .map(|m| if Some(m) == me { f64::NEG_INFINITY } else { self.sharpness * cosine(&tape.z, self.key(m)).0 })
            .collect();
        tape.a = softmax(&logits);
        let mut profile = vec![0.0; w];
        for (m, &a) in tape.a.iter().enumerate() {
            if a > 1e-12 {
                profile.iter_mut().zip(self.value(m)).for_each(|(p, v)| *p += a * v);
            }
        }
        profile
    }

    fn back(&self, support: &[Answer], tape: &Tape, dprofile: &[f64], grad: &mut [f64]) {
        let n_enc = self.encoder.w.len();
        let da: Vec<f64> =
            (0..self.len()).map(|m| self.value(m).iter().zip(dprofile).map(|(v, d)| v * d).sum()).collect();
        let mean: f64 = tape.a.iter().zip(&da).map(|(a, d)| a * d).sum();
        let mut dz = [0.0; ENCODER_DIMS];
        for (m, (&a, &da)) in tape.a.iter().zip(&da).enumerate() {
            if Some(m) == tape.me || a < 1e-12 {
                continue;
            }
            let dlogit = a * (da - mean);
            let (c, dc) = cosine(&tape.z, self.key(m));
            grad[n_enc] += dlogit * c;
            for j in 0..ENCODER_DIMS {
                dz[j] += dlogit * self.sharpness * dc[j];
            }
        }
        self.encoder.backward(&self.target, support, &dz, &mut grad[..n_enc]);
    }

    fn params(&self) -> Vec<f64> {
        let mut x = self.encoder.w.clone();
        x.push(self.sharpness);
        x
    }

    fn set_params(&mut self, x: &[f64]) {
        let n = self.encoder.w.len();
        self.encoder.w.copy_from_slice(&x[..n]);
        self.sharpness = x[n].clamp(0.0, 100.0);
    }

    fn refresh(&mut self, train: &[Learner]) {
        (self.keys, self.values) = memory_of(&self.target, &self.encoder, train, MATCHING_MEMORY);
    }

    fn record(&mut self) -> &mut Record {
        &mut self.record
    }
}
