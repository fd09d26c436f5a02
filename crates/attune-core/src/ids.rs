use serde::{Deserialize, Serialize};

macro_rules! dense_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u32);

        impl $name {
            /// The id as an index into dense per-id tables.
            #[inline]
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

dense_id!(
    /// A learner, as a dense index `0..n_students` into a [`crate::Vocab`].
    StudentId
);
dense_id!(
    /// An item (question, problem, exercise step), as a dense index `0..n_items`.
    ItemId
);
dense_id!(
    /// A skill (knowledge component, concept), as a dense index `0..n_skills`.
    SkillId
);
