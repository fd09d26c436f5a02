//! The fitted DKT in plain Rust: the trained engine's weights (or those of the reference burn
//! network, with the `burn` feature), one LSTM step per answer, so the service updates a learner in microseconds without a tensor library.

use attune_core::{Interaction, ItemId, KnowledgeTracer, Probability, SkillId};
use serde::{Deserialize, Serialize};

use super::config::DktConfig;

/// A fitted DKT model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Dkt {
    /// The configuration it was trained with.
    pub config: DktConfig,
    /// Skills known to the model.
    pub n_skills: usize,
    /// LSTM hidden size.
    pub hidden: usize,
    /// `embedding(token) · W_ih + b_ih` for every token: `[2 · n_skills + 1, 4 · hidden]`.
    /// The embedding feeds only the input projection, so it folds into one table.
    pub token_gates: Vec<f32>,
    /// `W_hh`, row-major `[hidden, 4 · hidden]`.
    pub w_hh: Vec<f32>,
    /// Read-out, row-major by skill: `[n_skills, hidden]`.
    pub w_out: Vec<f32>,
    /// Read-out bias by skill.
    pub b_out: Vec<f32>,
    /// Offset of each item's logit from its skill's ([`ItemId`] index); empty when the model
    /// was trained without item offsets.
    #[serde(default)]
    pub item_bias: Vec<f32>,
    /// First skill of each item ([`ItemId`] index), `u32::MAX` when it has none.
    pub item_skill: Vec<u32>,
    /// Correct rate of the training data, predicted for items without a known skill.
    pub base_rate: f64,
    /// One record per training epoch.
    #[serde(default)]
    pub history: Vec<EpochRecord>,
    /// Source ids of the skills, by the model's skill index.
    #[serde(default)]
    pub skill_ids: Vec<String>,
}

/// What one training epoch did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    /// Validation AUC after the epoch (NaN without a validation set).
    pub valid_auc: f64,
    /// Seconds since training started, at the end of the epoch (validation included).
    pub elapsed_seconds: f64,
    /// Training answers per second of the epoch's optimisation steps.
    pub interactions_per_second: f64,
}

/// A learner's LSTM state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DktState {
    /// Hidden state.
    pub h: Vec<f32>,
    /// Cell state.
    pub c: Vec<f32>,
}

#[cfg(feature = "burn")]
fn to_vec(t: burn::prelude::Tensor<2>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap_or_default()
}

impl Dkt {
    /// Extracts the weights of a trained network.
    #[cfg(feature = "burn")]
    pub fn from_net(
        net: &super::DktNet,
        config: &DktConfig,
        n_skills: usize,
        item_skill: Vec<u32>,
        base_rate: f64,
    ) -> Self {
        let h = config.hidden;
        let emb = net.embedding.weight.val();
        let w_ih = net.w_ih.weight.val();
        let mut gates = emb.matmul(w_ih);
        if let Some(b) = &net.w_ih.bias {
            gates = gates + b.val().unsqueeze_dim(0);
        }
        let out_t = to_vec(net.output.weight.val().transpose());
        let b_out = net
            .output
            .bias
            .as_ref()
            .map_or_else(|| vec![0.0; n_skills], |b| b.val().into_data().try_into_vec::<f32>().unwrap_or_default());
        Self {
            config: config.clone(),
            n_skills,
            hidden: h,
            token_gates: to_vec(gates),
            w_hh: to_vec(net.w_hh.weight.val()),
            w_out: out_t,
            b_out,
            item_bias: Vec::new(),
            item_skill,
            base_rate,
            history: Vec::new(),
            skill_ids: Vec::new(),
        }
    }

    /// A model from fused-engine parameters.
    pub(crate) fn from_params(
        p: &super::fused::Params,
        config: &DktConfig,
        item_skill: Vec<u32>,
        base_rate: f64,
    ) -> Self {
        Self {
            config: config.clone(),
            n_skills: p.n_skills,
            hidden: p.hidden,
            token_gates: p.table.clone(),
            w_hh: p.w_hh.clone(),
            w_out: p.w_out.clone(),
            b_out: p.b_out.clone(),
            item_bias: p.b_item.clone(),
            item_skill,
            base_rate,
            history: Vec::new(),
            skill_ids: Vec::new(),
        }
    }

    /// The epoch with the best validation AUC, if any was validated.
    pub fn best_epoch(&self) -> Option<&EpochRecord> {
        crate::batching::best_epoch(&self.history)
    }

    fn skill_of(&self, item: ItemId) -> Option<usize> {
        crate::batching::item_skill(&self.item_skill, self.n_skills, item)
    }

    fn logit(&self, state: &DktState, skill: usize) -> f32 {
        let row = &self.w_out[skill * self.hidden..(skill + 1) * self.hidden];
        self.b_out[skill] + row.iter().zip(&state.h).map(|(w, h)| w * h).sum::<f32>()
    }

    fn prob(&self, state: &DktState, skill: Option<usize>, item: Option<ItemId>) -> Probability {
        let offset = item.and_then(|i| self.item_bias.get(i.index())).copied().unwrap_or(0.0);
        match skill {
            Some(s) => Probability::from_logit(f64::from(self.logit(state, s) + offset)),
            None => Probability::new(self.base_rate),
        }
    }

    /// One LSTM step on `token`.
    pub fn step(&self, state: &mut DktState, token: usize) {
        let h = self.hidden;
        let mut g = self.token_gates[token * 4 * h..(token + 1) * 4 * h].to_vec();
        for (k, &hk) in state.h.iter().enumerate() {
            if hk != 0.0 {
                let row = &self.w_hh[k * 4 * h..(k + 1) * 4 * h];
                g.iter_mut().zip(row).for_each(|(g, w)| *g += hk * w);
            }
        }
        let c_prev = state.c.clone();
        let mut tanh_c = vec![0.0; h];
        crate::kernels::lstm_cell(&mut g, &c_prev, &mut state.c, &mut tanh_c, &mut state.h);
    }
}

impl KnowledgeTracer for Dkt {
    type State = DktState;

    fn initial_state(&self) -> DktState {
        DktState { h: vec![0.0; self.hidden], c: vec![0.0; self.hidden] }
    }

    fn update(&self, state: &mut DktState, obs: &Interaction<'_>) {
        let skill = crate::batching::known_skill(obs.skills, self.n_skills);
        if let Some(s) = skill {
            self.step(state, s + self.n_skills * usize::from(obs.correct));
        }
    }

    fn predict(&self, state: &DktState, item: ItemId) -> Probability {
        self.prob(state, self.skill_of(item), Some(item))
    }

    fn predict_interaction(&self, state: &DktState, obs: &Interaction<'_>) -> Probability {
        let skill = crate::batching::known_skill(obs.skills, self.n_skills);
        self.prob(state, skill.or_else(|| self.skill_of(obs.item)), Some(obs.item))
    }

    fn mastery(&self, state: &DktState, skill: SkillId) -> Option<Probability> {
        (skill.index() < self.n_skills).then(|| self.prob(state, Some(skill.index()), None))
    }
}
