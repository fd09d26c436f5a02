//! The prototypical network (Snell et al., NeurIPS 2017) over learners. Training learners are
//! grouped into **learner types** by k-means on their profiles; a type's prototype is the mean
//! vector of its members' supports (encoded at the same support size as a new learner's, so
//! with no answer every prototype is the zero vector and the type shares are the prior). A new
//! learner's profile mixes the types' profiles by a softmax over the squared distances of its
//! vector to the prototypes, weighted by the types' shares. The encoder, the sharpness and the
//! types' profiles are trained on the query loss; prototypes are recomputed after every epoch.
//!
//! A type is something a teacher can read: its share of learners, its mastery per skill and
//! its typical learning rate (see [`LearnerType`]).

use attune_core::sigmoid;
use serde::{Deserialize, Serialize};

use super::encoder::{ENCODER_DIMS, Encoder};
use super::kmeans::kmeans;
use super::memory::softmax;
use super::profile::{Answer, SkillRasch};
use super::{Learner, ProfileTarget, Reader, Record};

/// One learner type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnerType {
    /// Training learners of the type.
    pub size: usize,
    /// Its share of the training learners.
    pub share: f64,
    /// Its profile: prior ability and offset per skill.
    pub profile: Vec<f64>,
    /// Its members' typical learning rate: the gain in logit of a right answer on a skill per
    /// doubling of the practice on it, fitted to their histories by maximum likelihood.
    pub learning_rate: f64,
    /// Its prototype in the encoder's space, at the trained support size.
    pub centre: Vec<f64>,
}

/// A trained prototypical network and its learner types.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProtoNet {
    /// The base and its skills.
    pub target: SkillRasch,
    /// The encoder.
    pub encoder: Encoder,
    /// Sharpness of the softmax over squared distances.
    pub sharpness: f64,
    /// The types.
    pub types: Vec<LearnerType>,
    /// The type of each training learner (in training order).
    pub members: Vec<usize>,
    /// Training record.
    pub record: Record,
}

#[derive(Default)]
pub(crate) struct Tape {
    z: [f64; ENCODER_DIMS],
    a: Vec<f64>,
}

impl ProtoNet {
    /// `n_types` types from k-means on the training learners' profiles.
    pub(crate) fn new(target: SkillRasch, train: &[Learner], n_types: usize, seed: u64) -> Self {
        let profiles: Vec<Vec<f64>> = train.iter().map(|l| l.profile.clone()).collect();
        let (members, centres) = kmeans(&profiles, n_types, 5, seed);
        let n = train.len().max(1) as f64;
        let types = centres
            .into_iter()
            .enumerate()
            .map(|(t, profile)| {
                let size = members.iter().filter(|&&m| m == t).count();
                let rows: Vec<&Learner> =
                    train.iter().zip(&members).filter(|(_, m)| **m == t).map(|(l, _)| l).collect();
                LearnerType {
                    size,
                    share: size as f64 / n,
                    learning_rate: learning_rate(&target, &rows),
                    profile,
                    centre: vec![0.0; ENCODER_DIMS],
                }
            })
            .collect();
        let encoder = Encoder::new(target.n_skills, seed);
        Self { target, encoder, sharpness: 1.0, types, members, record: Record::default() }
    }

    /// The mixture weights of the types for a learner with these answers (model ids).
    pub fn weights(&self, answers: &[attune_core::Interaction<'_>]) -> Vec<f64> {
        let mut tape = Tape::default();
        self.read(&self.target.answers(answers), None, &mut tape);
        tape.a
    }

    /// The type that best explains a learner's answers (model ids): the most probable a
    /// posteriori, `ln share + Σ log p(answer | the type's profile)` — with no answer the
    /// largest type. A whole history says more than the network's few-answer reading, which
    /// is what prediction uses.
    pub fn type_of(&self, answers: &[attune_core::Interaction<'_>]) -> usize {
        let answers = self.target.answers(answers);
        let score = |t: &LearnerType| {
            t.share.max(1e-9).ln()
                + answers.iter().map(|a| self.target.log_likelihood(&t.profile, t.profile[0], a)).sum::<f64>()
        };
        let scores: Vec<f64> = self.types.iter().map(score).collect();
        (0..scores.len()).max_by(|&i, &j| scores[i].total_cmp(&scores[j])).unwrap_or(0)
    }

    /// Starts the sharpness where distances between prototypes matter: one over their mean
    /// squared distance.
    pub(crate) fn scale_sharpness(&mut self, train: &[Learner]) {
        self.refresh(train);
        let (mut sum, mut n) = (0.0, 0.0);
        for (i, a) in self.types.iter().enumerate() {
            for b in &self.types[i + 1..] {
                sum += dist2(&a.centre, &b.centre);
                n += 1.0;
            }
        }
        if n > 0.0 && sum > 1e-12 {
            self.sharpness = (n / sum).clamp(1e-3, 1e4);
        }
    }

    /// The mastery of `skill` (a typical item of it) for a learner of type `t`.
    pub fn mastery(&self, t: usize, skill: usize) -> Option<f64> {
        let ty = self.types.get(t)?;
        (skill < self.target.n_skills).then(|| self.target.mastery(&ty.profile, skill))
    }
}

fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The logit gain per doubling of practice that best fits a group's histories, holding each
/// member's own profile: `γ` maximising `Σ log p(y | θ + δ_s − b + γ (log₂(1 + o) − ō))`, with
/// `o` the member's earlier answers on the skill and `ō` its mean over the group's answers
/// (so that `γ` moves no one's average), by Newton's method from zero.
pub(crate) fn learning_rate(target: &SkillRasch, group: &[&Learner]) -> f64 {
    let mut rows = Vec::new();
    for l in group {
        let mut seen = std::collections::HashMap::new();
        for a in &l.history {
            let o = seen.entry(a.skill).or_insert(0u32);
            let base = l.profile[0] + l.profile.get(1 + a.skill as usize).copied().unwrap_or(0.0)
                - target.base.difficulty.get(a.item as usize).copied().unwrap_or(target.base.mean_difficulty);
            rows.push((base, f64::from(*o + 1).log2(), a.correct));
            *o += 1;
        }
    }
    if rows.is_empty() {
        return 0.0;
    }
    let mean = rows.iter().map(|r| r.1).sum::<f64>() / rows.len() as f64;
    let mut gamma = 0.0;
    for _ in 0..20 {
        let (mut g, mut h) = (0.0, 1e-3);
        for &(base, x, y) in &rows {
            let x = x - mean;
            let p = sigmoid(base + gamma * x);
            g += (p - f64::from(u8::from(y))) * x;
            h += p * (1.0 - p) * x * x;
        }
        let step = (g / h).clamp(-1.0, 1.0);
        gamma -= step;
        if step.abs() < 1e-9 {
            break;
        }
    }
    gamma
}

impl Reader for ProtoNet {
    type Tape = Tape;

    type Target = SkillRasch;

    fn target(&self) -> &SkillRasch {
        &self.target
    }

    fn read(&self, support: &[Answer], _me: Option<usize>, tape: &mut Tape) -> Vec<f64> {
        let w = self.target.width();
        tape.z = self.encoder.encode(&self.target, support);
        // Prototypes are the members' supports of the trained size read: with no answer they
        // would all be the zero vector, so the type shares alone decide.
        let empty = support.is_empty();
        let logits: Vec<f64> = self
            .types
            .iter()
            .map(|t| t.share.max(1e-9).ln() - if empty { 0.0 } else { self.sharpness * dist2(&tape.z, &t.centre) })
            .collect();
        tape.a = softmax(&logits);
        let mut profile = vec![0.0; w];
        for (t, &a) in self.types.iter().zip(&tape.a) {
            profile.iter_mut().zip(&t.profile).for_each(|(p, v)| *p += a * v);
        }
        profile
    }

    fn back(&self, support: &[Answer], tape: &Tape, dprofile: &[f64], grad: &mut [f64]) {
        let (n_enc, w) = (self.encoder.w.len(), self.target.width());
        let da: Vec<f64> =
            self.types.iter().map(|t| t.profile.iter().zip(dprofile).map(|(v, d)| v * d).sum()).collect();
        let mean: f64 = tape.a.iter().zip(&da).map(|(a, d)| a * d).sum();
        let mut dz = [0.0; ENCODER_DIMS];
        for (t, ty) in self.types.iter().enumerate() {
            let a = tape.a[t];
            let dlogit = a * (da[t] - mean);
            grad[n_enc] -= dlogit * dist2(&tape.z, &ty.centre);
            for ((dz, z), c) in dz.iter_mut().zip(&tape.z).zip(&ty.centre) {
                *dz -= dlogit * 2.0 * self.sharpness * (z - c);
            }
            let off = n_enc + 1 + t * w;
            grad[off..off + w].iter_mut().zip(dprofile).for_each(|(g, d)| *g += a * d);
        }
        self.encoder.backward(&self.target, support, &dz, &mut grad[..n_enc]);
    }

    fn params(&self) -> Vec<f64> {
        let mut x = self.encoder.w.clone();
        x.push(self.sharpness);
        for t in &self.types {
            x.extend(&t.profile);
        }
        x
    }

    fn set_params(&mut self, x: &[f64]) {
        let (n, w) = (self.encoder.w.len(), self.target.width());
        self.encoder.w.copy_from_slice(&x[..n]);
        self.sharpness = x[n].clamp(0.0, 1e4);
        for (t, ty) in self.types.iter_mut().enumerate() {
            ty.profile.copy_from_slice(&x[n + 1 + t * w..n + 1 + (t + 1) * w]);
        }
    }

    fn refresh(&mut self, train: &[Learner]) {
        for (t, ty) in self.types.iter_mut().enumerate() {
            let mut c = vec![0.0; ENCODER_DIMS];
            let mut n = 0.0;
            for (l, _) in train.iter().zip(&self.members).filter(|(_, m)| **m == t) {
                let z = self.encoder.encode(&self.target, &l.support);
                c.iter_mut().zip(&z).for_each(|(c, z)| *c += z);
                n += 1.0;
            }
            if n > 0.0 {
                c.iter_mut().for_each(|c| *c /= n);
            }
            ty.centre = c;
        }
    }

    fn record(&mut self) -> &mut Record {
        &mut self.record
    }
}
