use attune_data::{DatasetFolder, Protocol};

use crate::data_dir;

#[test]
fn e1_has_a_shared_vocabulary_and_an_early_stopping_split() {
    let f = DatasetFolder::open(&data_dir().join("assist2009_updated")).unwrap();
    let folds = Protocol::E1.folds(&f).unwrap();
    assert_eq!(folds.len(), 1);
    let fold = &folds[0];
    let es = fold.early_stopping.as_ref().unwrap();
    assert_eq!(es.train.len() + es.valid.len(), fold.train.len());
    // One set of id maps for all splits: a skill id means the same skill everywhere.
    assert!(std::sync::Arc::ptr_eq(fold.train.vocab_arc(), fold.test.vocab_arc()));
    assert!(std::sync::Arc::ptr_eq(es.valid.vocab_arc(), fold.test.vocab_arc()));
}

#[test]
fn e3_has_five_folds_with_disjoint_test_chunks() {
    let f = DatasetFolder::open(&data_dir().join("akt_statics")).unwrap();
    let folds = Protocol::E3.folds(&f).unwrap();
    assert_eq!(folds.len(), 5);
    // 5 chunks of 66 learners; 3 "leftover" learners are only ever in training (AKT's split).
    assert!(folds.iter().all(|f| f.test.n_learners() == 66));
    let tested: usize = folds.iter().map(|f| f.test.len()).sum();
    assert_eq!(tested, 189_297 - 2_655);
    // Fold k validates on chunk k % 5 + 1, which is fold k+1's test chunk.
    for k in 0..5 {
        let valid = &folds[k].early_stopping.as_ref().unwrap().valid;
        assert_eq!(valid.correct(), folds[(k + 1) % 5].test.correct());
    }
}

#[test]
fn protocols_reject_folders_of_another_layout() {
    let f = DatasetFolder::open(&data_dir().join("lpp_statics")).unwrap();
    let e = Protocol::E1.folds(&f).unwrap_err().to_string();
    assert!(e.contains("protocol e1 needs a DKVMN folder"), "{e}");
    assert!("e4".parse::<Protocol>().is_err());
}
