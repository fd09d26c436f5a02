//! A metric- or model-based learner as an E4 tester: after each answer it reads the answers
//! so far into a profile (one forward pass), and asks next the pool item whose predicted
//! chance of a right answer is nearest one half (Active, as BOBCAT's and the classic
//! testers' baseline rule), drawn among the `randomesque` nearest for exposure control.

use attune_core::{Interaction, ItemId, KnowledgeTracer, Probability, SkillId};
use attune_kt::Irt;
use rand::rngs::StdRng;

use super::ReaderModel;
use crate::e4::{AdaptiveTester, pick_top};
use crate::e5::{Adapted, MetaLearner};

/// A reader trained for one test length, testing with the Active rule.
pub struct ReaderTester {
    /// The trained reader.
    pub reader: ReaderModel,
    /// Items drawn among this many best (1: always the best).
    pub randomesque: usize,
    prior: Adapted<Irt>,
}

/// One learner's answers so far and the student model they write.
pub struct ReaderSession {
    answers: Vec<(ItemId, Vec<SkillId>, bool, i64)>,
    adapted: Adapted<Irt>,
}

impl ReaderTester {
    /// `reader` testing with Active selection.
    pub fn new(reader: ReaderModel, randomesque: usize) -> Self {
        let prior = reader.adapt(&[]);
        Self { reader, randomesque: randomesque.max(1), prior }
    }
}

impl AdaptiveTester for ReaderTester {
    type Session = ReaderSession;

    fn start(&self) -> ReaderSession {
        ReaderSession {
            answers: Vec::new(),
            adapted: Adapted { model: self.prior.model.clone(), state: self.prior.state.clone() },
        }
    }

    fn choose(&self, s: &ReaderSession, pool: &[ItemId], rng: &mut StdRng) -> usize {
        let scores: Vec<f64> =
            pool.iter().map(|&item| -(s.adapted.model.predict(&s.adapted.state, item).get() - 0.5).abs()).collect();
        pick_top(&scores, self.randomesque, rng)
    }

    fn observe(&self, s: &mut ReaderSession, answer: &Interaction<'_>) {
        s.answers.push((answer.item, answer.skills.to_vec(), answer.correct, answer.time));
        let support: Vec<Interaction<'_>> = s
            .answers
            .iter()
            .map(|(item, skills, correct, time)| Interaction {
                student: answer.student,
                item: *item,
                skills,
                correct: *correct,
                time: *time,
            })
            .collect();
        s.adapted = self.reader.adapt(&support);
    }

    fn predict(&self, s: &ReaderSession, item: ItemId) -> Probability {
        s.adapted.model.predict(&s.adapted.state, item)
    }
}
