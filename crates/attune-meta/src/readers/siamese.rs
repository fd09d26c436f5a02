//! The Siamese network over learners (Bromley et al., 1993; Koch et al., 2015): one encoder
//! applied to two sets of answers, trained with a triplet loss so that a learner's support and
//! the same learner's held-out later answers are closer (by cosine) than the support and
//! another learner's held-out answers. A new learner's profile is then the mean profile of the
//! training learners nearest to their support's vector, shrunk toward the population's; the
//! number of neighbours is chosen on the validation learners.

use attune_core::Progress;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::encoder::{ENCODER_DIMS, Encoder, cosine};
use super::matching::{MATCHING_MEMORY, memory_of};
use super::profile::{Answer, SkillRasch};
use super::{Learner, Reader, Record, Validation, mean_profile};
use crate::Result;
use crate::irt_meta::MetaConfig;
use crate::outer::{Adam, keep_best};

/// Margin of the triplet loss (in cosine distance).
const MARGIN: f64 = 0.2;
/// Pseudo-learners of the population's profile mixed into the neighbours' mean.
const SHRINK: f64 = 5.0;
/// Neighbour counts tried on validation.
const NEIGHBOURS: [usize; 4] = [5, 15, 50, 150];

/// A trained Siamese encoder and the training learners it compares with.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Siamese {
    /// The base and its skills.
    pub target: SkillRasch,
    /// The encoder.
    pub encoder: Encoder,
    /// Neighbours averaged.
    pub neighbours: usize,
    /// The population's profile.
    pub prior: Vec<f64>,
    /// The training learners' vectors, `[m × ENCODER_DIMS]`.
    pub keys: Vec<f64>,
    /// Their profiles, `[m × width]`.
    pub values: Vec<f64>,
    /// Training record.
    pub record: Record,
}

impl Siamese {
    /// Trains the encoder with the triplet loss on `train`, stopping on the validation AUC of
    /// the neighbours' profiles, then picks the neighbour count.
    pub(crate) fn train(
        target: SkillRasch,
        train: &[Learner],
        valid: &Validation<'_>,
        cfg: &MetaConfig,
        progress: &dyn Progress,
    ) -> Result<Self> {
        let mut s = Self {
            prior: mean_profile(train, target.width()),
            encoder: Encoder::new(target.n_skills, cfg.seed),
            target,
            neighbours: NEIGHBOURS[1],
            keys: Vec::new(),
            values: Vec::new(),
            record: Record { support: valid.size(), validation_auc: f64::NAN },
        };
        s.refresh(train);
        let start = valid.auc(&s);
        let n = s.encoder.w.len();
        let mut adam = Adam::new(n, cfg.outer_rate);
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let mut order: Vec<usize> = (0..train.len()).collect();
        let (_, mut best) = keep_best(s, start, cfg.max_epochs, cfg.patience, Some(progress), |m, epoch| {
            order.shuffle(&mut rng);
            for batch in order.chunks(cfg.meta_batch) {
                let zero = || vec![0.0; n];
                let grad = batch
                    .par_iter()
                    .fold(zero, |mut g, &t| {
                        let other = (t + 1 + (t * 7919 + epoch * 104_729) % (train.len() - 1).max(1)) % train.len();
                        m.triplet(&train[t], &train[other], &mut g);
                        g
                    })
                    .reduce(zero, |mut a, b| {
                        a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                        a
                    });
                let scale = 1.0 / batch.len() as f64;
                let grad: Vec<f64> = grad.iter().map(|g| g * scale).collect();
                if grad.iter().all(|g| g.is_finite()) {
                    adam.step(&mut m.encoder.w, &grad);
                }
            }
            m.refresh(train);
            Ok(valid.auc(m))
        })?;
        let mut top = (f64::NEG_INFINITY, best.neighbours);
        for kn in NEIGHBOURS {
            best.neighbours = kn;
            let auc = valid.auc(&best);
            if auc > top.0 {
                top = (auc, kn);
            }
        }
        (best.record.validation_auc, best.neighbours) = top;
        Ok(best)
    }

    /// Adds the triplet loss's gradient of one anchor learner and one other to `grad`.
    fn triplet(&self, anchor: &Learner, other: &Learner, grad: &mut [f64]) {
        if anchor.query.is_empty() || other.query.is_empty() {
            return;
        }
        let t = &self.target;
        let za = self.encoder.encode(t, &anchor.support);
        let zp = self.encoder.encode(t, &anchor.query);
        let zn = self.encoder.encode(t, &other.query);
        let (cp, dcp_a) = cosine(&za, &zp);
        let (cn, dcn_a) = cosine(&za, &zn);
        // Distance is 1 − cos: the loss is MARGIN − cos(a, p) + cos(a, n) where positive.
        if MARGIN - cp + cn <= 0.0 {
            return;
        }
        let (_, dcp_p) = cosine(&zp, &za);
        let (_, dcn_n) = cosine(&zn, &za);
        let da: Vec<f64> = (0..ENCODER_DIMS).map(|j| dcn_a[j] - dcp_a[j]).collect();
        let dp: Vec<f64> = dcp_p.iter().map(|g| -g).collect();
        self.encoder.backward(t, &anchor.support, &da, grad);
        self.encoder.backward(t, &anchor.query, &dp, grad);
        self.encoder.backward(t, &other.query, &dcn_n, grad);
    }

    fn len(&self) -> usize {
        self.keys.len() / ENCODER_DIMS
    }
}

impl Reader for Siamese {
    type Tape = ();

    type Target = SkillRasch;

    fn target(&self) -> &SkillRasch {
        &self.target
    }

    fn read(&self, support: &[Answer], me: Option<usize>, _tape: &mut ()) -> Vec<f64> {
        let z = self.encoder.encode(&self.target, support);
        if z.iter().all(|v| v.abs() < 1e-12) {
            return self.prior.clone();
        }
        let mut sims: Vec<(f64, usize)> = (0..self.len())
            .filter(|&m| Some(m) != me)
            .map(|m| (cosine(&z, &self.keys[m * ENCODER_DIMS..(m + 1) * ENCODER_DIMS]).0, m))
            .collect();
        let kn = self.neighbours.min(sims.len());
        if kn == 0 {
            return self.prior.clone();
        }
        sims.select_nth_unstable_by(kn - 1, |a, b| b.0.total_cmp(&a.0));
        let w = self.target.width();
        let mut profile: Vec<f64> = self.prior.iter().map(|p| p * SHRINK).collect();
        for &(_, m) in &sims[..kn] {
            profile.iter_mut().zip(&self.values[m * w..(m + 1) * w]).for_each(|(p, v)| *p += v);
        }
        let n = kn as f64 + SHRINK;
        profile.iter_mut().for_each(|p| *p /= n);
        profile
    }

    fn back(&self, _support: &[Answer], _tape: &(), _dprofile: &[f64], _grad: &mut [f64]) {}

    fn params(&self) -> Vec<f64> {
        self.encoder.w.clone()
    }

    fn set_params(&mut self, x: &[f64]) {
        self.encoder.w.copy_from_slice(x);
    }

    fn refresh(&mut self, train: &[Learner]) {
        (self.keys, self.values) = memory_of(&self.target, &self.encoder, train, MATCHING_MEMORY);
    }

    fn record(&mut self) -> &mut Record {
        &mut self.record
    }
}
