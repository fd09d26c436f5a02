//! Which learners need a teacher's attention, by a rule a teacher can read.

use serde::{Deserialize, Serialize};

/// The at-risk rule. A learner with at least `min_answers` answers is at risk when
/// - **low mastery**: the mean estimated mastery over the skills they practised is below
///   `low_mastery`; or
/// - **stalled**: over their last `window` answers the success rate is below `stall_rate`
///   and it rose by less than `min_gain` over the `window` answers before.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AtRiskRule {
    /// Answers needed before any judgement (default 10).
    pub min_answers: usize,
    /// Mean mastery below which a learner is at risk (default 0.4).
    pub low_mastery: f64,
    /// Length of the windows compared for stalling (default 20; with 10, chance alone moves a
    /// success rate by ±0.2 between windows too often to call anything a stall).
    pub window: usize,
    /// Success rate of the last window below which a learner may be stalled (default 0.5).
    pub stall_rate: f64,
    /// Rise of the success rate between windows that counts as progress (default 0.2).
    pub min_gain: f64,
}

impl Default for AtRiskRule {
    fn default() -> Self {
        Self { min_answers: 10, low_mastery: 0.4, window: 20, stall_rate: 0.5, min_gain: 0.2 }
    }
}

/// Why a learner is at risk.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum RiskReason {
    /// Mean mastery below the threshold.
    LowMastery {
        /// The learner's mean mastery.
        mean_mastery: f64,
    },
    /// Little success and no progress in the last window.
    Stalled {
        /// Success rate of the last window.
        recent_rate: f64,
        /// Success rate of the window before.
        previous_rate: f64,
    },
}

impl AtRiskRule {
    /// The rule in words, printed in reports beside the list it produced.
    pub fn describe(&self) -> String {
        format!(
            "A learner with at least {} answers is at risk when their mean estimated mastery over the skills \
             they practised is below {:.2} (low mastery), or when their success rate over the last {} answers is \
             below {:.2} and rose by less than {:.2} over the {} answers before (stalled).",
            self.min_answers, self.low_mastery, self.window, self.stall_rate, self.min_gain, self.window
        )
    }

    /// Why `reason` flagged a learner under this rule, in one short sentence.
    pub fn explain(&self, reason: &RiskReason) -> String {
        match *reason {
            RiskReason::LowMastery { mean_mastery } => {
                format!("low mastery: mean {mean_mastery:.2}, below {:.2}", self.low_mastery)
            }
            RiskReason::Stalled { recent_rate, previous_rate } => format!(
                "stalled: {:.0} % right in the last {w} answers (below {:.0} %), {:.0} % in the {w} before",
                100.0 * recent_rate,
                100.0 * self.stall_rate,
                100.0 * previous_rate,
                w = self.window
            ),
        }
    }

    /// Applies the rule to one learner's answers (in order) and mean mastery.
    pub fn assess(&self, answers: &[bool], mean_mastery: f64) -> Option<RiskReason> {
        if answers.len() < self.min_answers.max(1) {
            return None;
        }
        if mean_mastery < self.low_mastery {
            return Some(RiskReason::LowMastery { mean_mastery });
        }
        let w = self.window.max(1);
        if answers.len() >= 2 * w {
            let rate = |s: &[bool]| s.iter().filter(|&&c| c).count() as f64 / s.len() as f64;
            let recent = rate(&answers[answers.len() - w..]);
            let previous = rate(&answers[answers.len() - 2 * w..answers.len() - w]);
            if recent < self.stall_rate && recent - previous < self.min_gain {
                return Some(RiskReason::Stalled { recent_rate: recent, previous_rate: previous });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::trending_answers;

    #[test]
    fn flags_stalled_learners_and_spares_improving_ones() {
        let rule = AtRiskRule::default();
        // Stalled: success stays at 0.3. By the binomial noise of two windows of 20 answers,
        // about 87 % of them should be flagged; improving learners (0.3 -> 0.95) almost never.
        let stalled = trending_answers(400, 60, 0.3, 0.3, 1);
        let improving = trending_answers(400, 60, 0.3, 0.95, 2);
        let mastered = trending_answers(400, 60, 0.9, 0.9, 3);
        let flagged = |group: &[Vec<bool>]| {
            group.iter().filter(|a| matches!(rule.assess(a, 0.6), Some(RiskReason::Stalled { .. }))).count()
        };
        assert!(flagged(&stalled) >= 320, "stalled flagged: {} of 400", flagged(&stalled));
        assert!(flagged(&improving) <= 8, "improving flagged: {} of 400", flagged(&improving));
        assert_eq!(flagged(&mastered), 0);
    }

    #[test]
    fn low_mastery_needs_enough_answers() {
        let rule = AtRiskRule::default();
        assert_eq!(rule.assess(&[true; 9], 0.1), None);
        assert!(matches!(rule.assess(&[true; 10], 0.1), Some(RiskReason::LowMastery { .. })));
        assert_eq!(rule.assess(&[true; 30], 0.9), None);
        assert!(rule.describe().contains("at least 10 answers"));
    }
}
