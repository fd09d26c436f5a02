use attune_data::{DatasetFolder, FolderKind, Layout, list_folders};

use crate::data_dir;

#[test]
fn every_vendored_folder_is_recognised() {
    let names: Vec<String> = list_folders(&data_dir()).unwrap().iter().map(DatasetFolder::name).collect();
    for want in ["STATICS", "akt_statics", "assist2009_updated", "lpp_statics", "synthetic"] {
        assert!(names.iter().any(|n| n == want), "{want} missing from {names:?}");
    }
}

#[test]
fn assist2009_counts_match_the_published_figures() {
    let f = DatasetFolder::open(&data_dir().join("assist2009_updated")).unwrap();
    assert_eq!(f.kind, FolderKind::Dkvmn { prefix: "assist2009_updated".into() });
    let sets = f.read_shared(&["assist2009_updated_train.csv", "assist2009_updated_test.csv"]).unwrap();
    let (train, test) = (&sets[0], &sets[1]);
    assert_eq!((train.n_learners(), train.len()), (2921, 224_218));
    assert_eq!((test.n_learners(), test.len()), (1230, 101_419));
    assert_eq!(test.vocab().n_skills(), 110);
    assert!((train.correct_rate() - 0.6582).abs() < 1e-4);
}

#[test]
fn statics_and_synthetic_counts() {
    let f = DatasetFolder::open(&data_dir().join("STATICS")).unwrap();
    let s = f.read_shared(&["STATICS_train.csv", "STATICS_test.csv"]).unwrap();
    assert_eq!((s[0].n_learners(), s[0].len(), s[1].n_learners(), s[1].len()), (229, 130_184, 104, 59_113));
    // Synthetic-5 lines end with a comma; 50 exercises, 2000 learners x 50 answers per split.
    let f = DatasetFolder::open(&data_dir().join("synthetic")).unwrap();
    let s = f.read_shared(&["naive_c5_q50_s4000_v0_train.csv"]).unwrap();
    assert_eq!((s[0].n_learners(), s[0].len(), s[0].vocab().n_skills()), (2000, 100_000, 50));
}

#[test]
fn gervet_statics_uses_the_q_matrix_skills() {
    let f = DatasetFolder::open(&data_dir().join("lpp_statics")).unwrap();
    assert_eq!(f.kind, FolderKind::Gervet);
    let s = f.read_shared(&["preprocessed_data_train.csv", "preprocessed_data_test.csv"]).unwrap();
    assert_eq!((s[0].n_learners(), s[0].len()), (225, 155_697));
    assert_eq!((s[1].n_learners(), s[1].len()), (57, 33_600));
    assert_eq!(s[1].vocab().n_skills(), 98);
    assert!((0..s[0].len()).all(|i| s[0].skills(i).len() == 1));
}

#[test]
fn akt_folder_layout_is_detected() {
    let f = DatasetFolder::open(&data_dir().join("akt_statics")).unwrap();
    assert_eq!(f.kind, FolderKind::Akt { prefix: "statics".into(), layout: Layout::Dkvmn });
}

#[test]
fn skill_names_come_from_the_shipped_maps() {
    let a = DatasetFolder::open(&data_dir().join("assist2009_updated")).unwrap().skill_names().unwrap();
    assert_eq!(a.get("31").map(String::as_str), Some("Circumference"));
    assert_eq!(a.len(), 110);
    let s = DatasetFolder::open(&data_dir().join("STATICS")).unwrap().skill_names().unwrap();
    assert_eq!(s.get("1").map(String::as_str), Some("identify_interaction"));
    assert!(DatasetFolder::open(&data_dir().join("lpp_statics")).unwrap().skill_names().unwrap().is_empty());
}

#[test]
fn read_all_holds_every_learner_once() {
    for (folder, learners, answers) in
        [("assist2009_updated", 4151, 325_637), ("akt_statics", 333, 189_297), ("lpp_statics", 282, 189_297)]
    {
        let ds = DatasetFolder::open(&data_dir().join(folder)).unwrap().read_all().unwrap();
        assert_eq!((ds.n_learners(), ds.len()), (learners, answers), "{folder}");
    }
}

#[test]
fn junyi_prerequisite_table_has_the_published_counts() {
    let t = attune_data::read_junyi_prerequisites(&data_dir().join("junyi/junyi_Exercise_table.csv.gz")).unwrap();
    assert_eq!(t.nodes.len(), 837);
    assert_eq!(t.edges.len(), 988);
}
