use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use crate::{Error, Interaction, ItemId, Result, SkillId, StudentId};

/// Maps original ids (strings as they appear in a file) to dense `u32` indices and back.
#[derive(Clone, Debug, Default)]
pub struct Interner {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Interner {
    /// The dense index of `name`, adding it if it is new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), i);
        i
    }

    /// The dense index of `name`, if it was interned.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// The original id of dense index `i`.
    pub fn name(&self, i: u32) -> Option<&str> {
        self.names.get(i as usize).map(String::as_str)
    }

    /// Number of distinct ids.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no id was interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// The id maps of a dataset, shared by its splits: learners, items, skills, and which skills
/// each item exercises (the Q-matrix, from a Q-matrix file or from the skills first seen with
/// the item).
#[derive(Clone, Debug, Default)]
pub struct Vocab {
    /// Learner ids.
    pub students: Interner,
    /// Item ids.
    pub items: Interner,
    /// Skill ids.
    pub skills: Interner,
    /// Skills of each item, indexed by [`ItemId`]; may be shorter than `items` for items whose
    /// skills are unknown.
    pub item_skills: Vec<Vec<SkillId>>,
    /// Human-readable skill names, where the dataset ships them.
    pub skill_names: HashMap<SkillId, String>,
}

impl Vocab {
    /// Number of learners.
    pub fn n_students(&self) -> usize {
        self.students.len()
    }
    /// Number of items.
    pub fn n_items(&self) -> usize {
        self.items.len()
    }
    /// Number of skills.
    pub fn n_skills(&self) -> usize {
        self.skills.len()
    }
    /// Skills of `item` (empty if unknown).
    pub fn skills_of(&self, item: ItemId) -> &[SkillId] {
        self.item_skills.get(item.index()).map_or(&[], Vec::as_slice)
    }
    /// Records the skills of `item` unless it already has some.
    pub fn set_item_skills_if_unknown(&mut self, item: ItemId, skills: &[SkillId]) {
        if self.item_skills.len() <= item.index() {
            self.item_skills.resize(item.index() + 1, Vec::new());
        }
        let slot = &mut self.item_skills[item.index()];
        if slot.is_empty() {
            slot.extend_from_slice(skills);
        }
    }
}

/// A columnar log of interactions, grouped by learner, each learner's answers in order.
#[derive(Clone, Debug)]
pub struct Dataset {
    student: Vec<StudentId>,
    item: Vec<ItemId>,
    correct: Vec<bool>,
    time: Vec<i64>,
    skill_offsets: Vec<u32>,
    skills: Vec<SkillId>,
    learner_offsets: Vec<usize>,
    source: Vec<u32>,
    vocab: Arc<Vocab>,
    timestamps: bool,
}

impl Dataset {
    /// Each row's position among the rows as they were read (file order), where rows are
    /// grouped by learner here.
    pub fn source_rows(&self) -> &[u32] {
        &self.source
    }
    /// Whether the order keys are timestamps in seconds (so that gaps between answers are
    /// durations), rather than positions or order ids.
    pub fn has_timestamps(&self) -> bool {
        self.timestamps
    }
    /// Number of interactions.
    pub fn len(&self) -> usize {
        self.student.len()
    }
    /// Whether the dataset holds no interaction.
    pub fn is_empty(&self) -> bool {
        self.student.is_empty()
    }
    /// The id maps.
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }
    /// The shared id maps.
    pub fn vocab_arc(&self) -> &Arc<Vocab> {
        &self.vocab
    }
    /// Replaces the id maps by a larger one that extends them (as after reading a later split).
    ///
    /// # Errors
    /// [`Error::ColumnLength`] if `vocab` has fewer ids than this dataset's maps.
    pub fn with_vocab(mut self, vocab: Arc<Vocab>) -> Result<Self> {
        for (column, got, expected) in [
            ("students", vocab.n_students(), self.vocab.n_students()),
            ("items", vocab.n_items(), self.vocab.n_items()),
            ("skills", vocab.n_skills(), self.vocab.n_skills()),
        ] {
            if got < expected {
                return Err(Error::ColumnLength { column, got, expected });
            }
        }
        self.vocab = vocab;
        Ok(self)
    }
    /// Column of learners.
    pub fn students(&self) -> &[StudentId] {
        &self.student
    }
    /// Column of items.
    pub fn items(&self) -> &[ItemId] {
        &self.item
    }
    /// Column of answers.
    pub fn correct(&self) -> &[bool] {
        &self.correct
    }
    /// Column of order keys.
    pub fn times(&self) -> &[i64] {
        &self.time
    }
    /// Skills of interaction `i`.
    #[inline]
    pub fn skills(&self, i: usize) -> &[SkillId] {
        let lo = self.skill_offsets[i] as usize;
        let hi = self.skill_offsets[i + 1] as usize;
        &self.skills[lo..hi]
    }
    /// Interaction `i`.
    #[inline]
    pub fn interaction(&self, i: usize) -> Interaction<'_> {
        Interaction {
            student: self.student[i],
            item: self.item[i],
            skills: self.skills(i),
            correct: self.correct[i],
            time: self.time[i],
        }
    }
    /// Interactions in `range`.
    pub fn interactions(&self, range: Range<usize>) -> impl ExactSizeIterator<Item = Interaction<'_>> {
        range.map(|i| self.interaction(i))
    }
    /// Number of learners with at least one interaction.
    pub fn n_learners(&self) -> usize {
        self.learner_offsets.len() - 1
    }
    /// Each learner's rows, in order.
    pub fn learners(&self) -> Learners<'_> {
        Learners { offsets: &self.learner_offsets, next: 0 }
    }
    /// The row range of the `k`-th learner of this dataset.
    pub fn learner_rows(&self, k: usize) -> Range<usize> {
        self.learner_offsets[k]..self.learner_offsets[k + 1]
    }
    /// Fraction of correct answers (0.5 for an empty dataset).
    pub fn correct_rate(&self) -> f64 {
        if self.is_empty() {
            return 0.5;
        }
        self.correct.iter().filter(|&&c| c).count() as f64 / self.len() as f64
    }
    /// The interactions of several datasets that share one set of id maps (the splits of a
    /// protocol), as one dataset; learners keep their order of appearance.
    ///
    /// # Errors
    /// [`Error::ColumnLength`] if the parts do not all carry the same id maps.
    pub fn concat(parts: &[&Dataset]) -> Result<Self> {
        let Some(first) = parts.first() else {
            return Ok(DatasetBuilder::default().finish());
        };
        let mut b = DatasetBuilder::with_vocab(Vocab::default());
        for part in parts {
            if !Arc::ptr_eq(&part.vocab, &first.vocab) {
                return Err(Error::ColumnLength {
                    column: "id maps (concat needs one shared vocabulary)",
                    got: part.vocab.n_students(),
                    expected: first.vocab.n_students(),
                });
            }
            for i in 0..part.len() {
                b.push_row_at(
                    part.source[i],
                    part.student[i],
                    part.item[i],
                    part.skills(i),
                    part.correct[i],
                    part.time[i],
                );
            }
        }
        b.timestamps(parts.iter().all(|p| p.timestamps));
        let mut ds = b.finish_with_students(first.vocab.n_students());
        ds.vocab = Arc::clone(&first.vocab);
        Ok(ds)
    }

    /// The same rows on other id maps: each row's item through `item` and its skills through
    /// `skill` (a skill mapped to `None` is dropped from the row), learners, order and answers
    /// unchanged; `vocab` must hold every mapped id. One pass over the columns.
    pub fn map_ids(
        &self,
        vocab: Arc<Vocab>,
        item: impl Fn(ItemId) -> ItemId,
        skill: impl Fn(SkillId) -> Option<SkillId>,
    ) -> Self {
        let mut skills = Vec::with_capacity(self.skills.len());
        let mut skill_offsets = Vec::with_capacity(self.skill_offsets.len());
        skill_offsets.push(0);
        for i in 0..self.len() {
            skills.extend(self.skills(i).iter().filter_map(|&s| skill(s)));
            skill_offsets.push(u32::try_from(skills.len()).unwrap_or(u32::MAX));
        }
        Self {
            student: self.student.clone(),
            item: self.item.iter().map(|&i| item(i)).collect(),
            correct: self.correct.clone(),
            time: self.time.clone(),
            skill_offsets,
            skills,
            learner_offsets: self.learner_offsets.clone(),
            source: self.source.clone(),
            vocab,
            timestamps: self.timestamps,
        }
    }

    /// A dataset made of the chosen learners (indices into [`Dataset::learners`]), sharing the
    /// id maps.
    pub fn select_learners(&self, which: &[usize]) -> Self {
        self.select_rows(which.iter().flat_map(|&k| self.learner_rows(k)))
    }

    /// A dataset made of the given rows (each learner's rows keep their order), sharing the id
    /// maps and the rows' source positions.
    pub fn select_rows(&self, rows: impl IntoIterator<Item = usize>) -> Self {
        let mut b = DatasetBuilder::with_vocab(Vocab::default());
        b.timestamps(self.timestamps);
        for i in rows {
            b.push_row_at(self.source[i], self.student[i], self.item[i], self.skills(i), self.correct[i], self.time[i]);
        }
        let mut ds = b.finish_with_students(self.vocab.n_students());
        ds.vocab = Arc::clone(&self.vocab);
        ds
    }
}

/// Iterator over `(learner, rows)` of a [`Dataset`].
#[derive(Clone, Debug)]
pub struct Learners<'a> {
    offsets: &'a [usize],
    next: usize,
}

impl Iterator for Learners<'_> {
    type Item = Range<usize>;
    fn next(&mut self) -> Option<Range<usize>> {
        if self.next + 1 >= self.offsets.len() {
            return None;
        }
        let r = self.offsets[self.next]..self.offsets[self.next + 1];
        self.next += 1;
        Some(r)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.offsets.len().saturating_sub(1 + self.next);
        (n, Some(n))
    }
}

impl ExactSizeIterator for Learners<'_> {}

/// Builds a [`Dataset`] row by row, interning original ids.
///
/// Rows of one learner may be interleaved with other learners' rows; [`DatasetBuilder::finish`]
/// groups them by learner (in order of first appearance), keeping each learner's rows in the
/// order given, or sorted by time when [`DatasetBuilder::sort_by_time`] is set.
#[derive(Debug, Default)]
pub struct DatasetBuilder {
    vocab: Vocab,
    student: Vec<StudentId>,
    item: Vec<ItemId>,
    correct: Vec<bool>,
    time: Vec<i64>,
    skill_offsets: Vec<u32>,
    skills: Vec<SkillId>,
    source: Vec<u32>,
    sort_by_time: bool,
    timestamps: bool,
}

impl DatasetBuilder {
    /// Declares the order keys pushed to be timestamps in seconds; [`DatasetBuilder::finish`]
    /// keeps the flag only if some learner's keys actually differ.
    pub fn timestamps(&mut self, yes: bool) {
        self.timestamps = yes;
    }
    /// A builder that extends existing id maps (to read a test split after its train split).
    pub fn with_vocab(vocab: Vocab) -> Self {
        Self { vocab, skill_offsets: vec![0], ..Self::default() }
    }
    /// Sorts each learner's rows by time (stable) when finishing.
    pub fn sort_by_time(&mut self, yes: bool) {
        self.sort_by_time = yes;
    }
    /// The id maps built so far.
    pub fn vocab_mut(&mut self) -> &mut Vocab {
        &mut self.vocab
    }
    /// Interns a learner id.
    pub fn student(&mut self, name: &str) -> StudentId {
        StudentId(self.vocab.students.intern(name))
    }
    /// Interns an item id.
    pub fn item(&mut self, name: &str) -> ItemId {
        ItemId(self.vocab.items.intern(name))
    }
    /// Interns a skill id.
    pub fn skill(&mut self, name: &str) -> SkillId {
        SkillId(self.vocab.skills.intern(name))
    }
    /// Number of rows pushed.
    pub fn len(&self) -> usize {
        self.student.len()
    }
    /// Whether no row was pushed.
    pub fn is_empty(&self) -> bool {
        self.student.is_empty()
    }
    /// Appends a row of interned ids; the item's skills are recorded in the Q-matrix if unknown.
    pub fn push_row(&mut self, student: StudentId, item: ItemId, skills: &[SkillId], correct: bool, time: i64) {
        let at = u32::try_from(self.student.len()).unwrap_or(u32::MAX);
        self.push_row_at(at, student, item, skills, correct, time);
    }
    /// [`DatasetBuilder::push_row`] for a row that stood at `source_row` of the input (see
    /// [`Dataset::source_rows`]), as when rebuilding a dataset read earlier.
    pub fn push_row_at(
        &mut self,
        source_row: u32,
        student: StudentId,
        item: ItemId,
        skills: &[SkillId],
        correct: bool,
        time: i64,
    ) {
        if self.skill_offsets.is_empty() {
            self.skill_offsets.push(0);
        }
        self.vocab.set_item_skills_if_unknown(item, skills);
        self.source.push(source_row);
        self.student.push(student);
        self.item.push(item);
        self.correct.push(correct);
        self.time.push(time);
        self.skills.extend_from_slice(skills);
        self.skill_offsets.push(u32::try_from(self.skills.len()).unwrap_or(u32::MAX));
    }
    /// Groups the rows by learner and returns the dataset.
    pub fn finish(self) -> Dataset {
        let n_students = self.vocab.n_students();
        self.finish_with_students(n_students)
    }

    /// As [`DatasetBuilder::finish`] for rows whose learner ids index a vocabulary of
    /// `n_students` held elsewhere.
    fn finish_with_students(self, n_students: usize) -> Dataset {
        let n = self.student.len();
        let mut order: Vec<usize> = (0..n).collect();
        // Rank learners by first appearance so that files keep their learner order.
        let n_ranks = self.student.iter().map(|s| s.index() + 1).max().unwrap_or(0).max(n_students);
        let mut rank = vec![u32::MAX; n_ranks.max(1)];
        let mut next = 0u32;
        for s in &self.student {
            let r = &mut rank[s.index()];
            if *r == u32::MAX {
                *r = next;
                next += 1;
            }
        }
        if self.sort_by_time {
            order.sort_by_key(|&i| (rank[self.student[i].index()], self.time[i]));
        } else {
            order.sort_by_key(|&i| rank[self.student[i].index()]);
        }
        let mut ds = Dataset {
            student: Vec::with_capacity(n),
            item: Vec::with_capacity(n),
            correct: Vec::with_capacity(n),
            time: Vec::with_capacity(n),
            skill_offsets: Vec::with_capacity(n + 1),
            skills: Vec::with_capacity(self.skills.len()),
            learner_offsets: vec![0],
            source: Vec::with_capacity(n),
            vocab: Arc::new(self.vocab),
            timestamps: false,
        };
        ds.skill_offsets.push(0);
        for (pos, &i) in order.iter().enumerate() {
            if pos > 0 && self.student[i] != ds.student[pos - 1] {
                ds.learner_offsets.push(pos);
            }
            ds.student.push(self.student[i]);
            ds.source.push(self.source[i]);
            ds.item.push(self.item[i]);
            ds.correct.push(self.correct[i]);
            ds.time.push(self.time[i]);
            let (lo, hi) = (self.skill_offsets[i] as usize, self.skill_offsets[i + 1] as usize);
            ds.skills.extend_from_slice(&self.skills[lo..hi]);
            ds.skill_offsets.push(u32::try_from(ds.skills.len()).unwrap_or(u32::MAX));
        }
        if n > 0 {
            ds.learner_offsets.push(n);
        }
        ds.timestamps = self.timestamps && ds.learners().any(|r| ds.time[r.clone()].windows(2).any(|w| w[0] != w[1]));
        ds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_interleaved_learners_in_first_appearance_order() {
        let mut b = DatasetBuilder::default();
        for (s, it, c, t) in [("b", "x", true, 3), ("a", "y", false, 1), ("b", "y", false, 1), ("a", "x", true, 2)] {
            let s = b.student(s);
            let i = b.item(it);
            let k = b.skill(it);
            b.push_row(s, i, &[k], c, t);
        }
        b.sort_by_time(true);
        let ds = b.finish();
        assert_eq!(ds.len(), 4);
        assert_eq!(ds.n_learners(), 2);
        let rows: Vec<_> = ds.learners().collect();
        assert_eq!(rows, vec![0..2, 2..4]);
        // learner "b" first, its rows sorted by time
        assert_eq!(ds.vocab().students.name(ds.students()[0].0), Some("b"));
        assert_eq!(ds.times()[0..2], [1, 3]);
        assert_eq!(ds.vocab().skills_of(ItemId(0)), &[SkillId(0)]);
        assert!((ds.correct_rate() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn concat_and_select_keep_the_shared_maps() {
        let mut b = DatasetBuilder::default();
        for (s, c) in [("a", true), ("b", false), ("a", false)] {
            let (s, i) = (b.student(s), b.item("x"));
            b.push_row(s, i, &[], c, 0);
        }
        let ds = b.finish();
        let one = ds.select_learners(&[1]);
        assert_eq!((one.len(), one.n_learners()), (1, 1));
        assert!(Arc::ptr_eq(one.vocab_arc(), ds.vocab_arc()));
        let both = Dataset::concat(&[&ds, &one]).unwrap();
        // learner "b" appears in both parts: its rows are grouped
        assert_eq!((both.len(), both.n_learners()), (4, 2));
        let other = DatasetBuilder::default().finish();
        assert!(Dataset::concat(&[&ds, &other]).is_err());
    }

    #[test]
    fn empty_dataset_has_no_learners() {
        let ds = DatasetBuilder::default().finish();
        assert!(ds.is_empty());
        assert_eq!(ds.n_learners(), 0);
        assert_eq!(ds.learners().count(), 0);
    }
}
