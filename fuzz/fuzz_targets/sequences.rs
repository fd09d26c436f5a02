//! DKVMN and AKT sequence files: any bytes give a dataset or an error, never a panic, and a
//! dataset it returns is internally consistent.
#![no_main]

use attune_core::Vocab;
use attune_data::{IdBase, Layout, parse_sequences};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for layout in [Layout::Dkvmn, Layout::AktSkills, Layout::AktProblems] {
        for base in [IdBase::Zero, IdBase::One] {
            if let Ok(ds) = parse_sequences("fuzz".as_ref(), data.to_vec(), layout, base, Vocab::default()) {
                assert!(!ds.is_empty());
                assert_eq!(ds.learners().map(|r| r.len()).sum::<usize>(), ds.len());
                for i in 0..ds.len() {
                    assert!(ds.items()[i].index() < ds.vocab().n_items());
                    assert!(ds.skills(i).iter().all(|s| s.index() < ds.vocab().n_skills()));
                }
            }
        }
    }
});
