//! Reading real learning logs and the evaluation protocols built on them.
//!
//! - [`read_sequences`]: DKVMN/DKT 3-line and AKT 3/4-line sequence files.
//! - [`read_table`]: Gervet et al.'s TSV, pyBKT/ASSISTments CSV and any CSV/TSV through a
//!   [`ColumnMapping`], with an optional [`QMatrix`].
//! - [`read_log`]: one file in any of these formats, named by a [`LogFormat`].
//! - [`DatasetFolder`]: recognises a dataset folder's layout and reads its skill names
//!   ([`parse_skill_names`]); [`Protocol`] loads its folds.
//! - [`read_junyi_prerequisites`], [`read_eedi_subjects`]: prerequisite tables.
//!
//! Every reader accepts gzip-compressed files and returns an [`Error`] naming the file, line
//! and field for bad input; none panics (each has a property test and a fuzz target).
//!
//! ```
//! use attune_data::{parse_sequences, IdBase, Layout};
//! let text = b"3\n12,12,40\n0,1,1\n".to_vec();
//! let ds = parse_sequences("demo.csv".as_ref(), text, Layout::Dkvmn, IdBase::One, Default::default()).unwrap();
//! assert_eq!((ds.len(), ds.n_learners(), ds.vocab().n_skills()), (3, 1, 2));
//! ```

mod error;
mod log;
mod prerequisites;
mod protocol;
mod registry;
mod sequences;
mod source;
mod table;

pub use crate::error::{Error, Result};
pub use crate::log::{LogFormat, read_log};
pub use crate::prerequisites::{
    PrerequisiteTable, parse_eedi_subjects, parse_junyi_prerequisites, read_eedi_subjects, read_junyi_prerequisites,
};
pub use crate::protocol::{EarlyStopping, Fold, Protocol};
pub use crate::registry::{DatasetFolder, FolderKind, list_folders, parse_skill_names};
pub use crate::sequences::{IdBase, Layout, parse_sequences, read_sequences};
pub use crate::table::{ColumnMapping, QMatrix, parse_table, read_table};
