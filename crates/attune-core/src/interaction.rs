use crate::{ItemId, SkillId, StudentId};

/// One answer: a learner answered an item, which exercises some skills, right or wrong.
///
/// Borrowed from a [`crate::Dataset`] column so that iterating a log allocates nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interaction<'a> {
    /// Who answered.
    pub student: StudentId,
    /// What was answered.
    pub item: ItemId,
    /// The skills the item exercises (usually one; several for multi-skill items, possibly none).
    pub skills: &'a [SkillId],
    /// Whether the first attempt was correct.
    pub correct: bool,
    /// Order key: a timestamp in seconds where the source has one, otherwise the position in
    /// the learner's sequence.
    pub time: i64,
}
