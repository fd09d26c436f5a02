//! BiIRT over the 2PL: the slopes find the items whose answers tell about the learner, the
//! Fisher-information rule asks them, and its files round-trip.

use attune_core::NoProgress;
use attune_meta::{BiPolicy, E4Settings, IrtTester, MetaConfig, MetaModel, Trained, meta_train, run_e4};
use attune_models::{Model, ModelName, ModelSpec, Training, fit};
use attune_policy::cat::{Estimator, Selector};

use crate::files::{assert_same_tests, edit_refused};
use crate::{half_informative, informative_items, informative_share, vendored};

/// Half the items are coin flips. The Rasch model cannot tell them apart (a coin flip looks
/// like an item of middling difficulty, which Active asks first); the 2PL's slopes can, so
/// BiIRT over the 2PL with the information rule asks the informative items and predicts the
/// query better after three answers than IRT-Active over the Rasch model.
#[test]
fn slopes_lead_the_test_to_informative_items() {
    let [train, valid, test] = half_informative();
    let fit_on =
        |name| fit(&ModelSpec::new(name, 42), Training { train: &train, validation: None }, &NoProgress).unwrap();
    let (two, one) = (fit_on(ModelName::Irt2pl), fit_on(ModelName::Irt1pl));
    let Model::Irt(irt) = &two.model else { unreachable!() };
    let cfg = MetaConfig { max_epochs: 10, inner_rates: vec![1.0], ..MetaConfig::default() };
    let (tr, va) = (two.ids.remap(&train), two.ids.remap(&valid));
    let starts = attune_meta::Bi2pl::slope_starts(irt, &tr, &cfg, &NoProgress).unwrap();
    let bi = attune_meta::Bi2pl::train(&starts, BiPolicy::Mfi, &tr, &va, 3, &cfg, &NoProgress).unwrap();
    let active = IrtTester::new(&one, Selector::Active, Estimator::Map).unwrap();
    let (test2, test1) = (two.ids.remap(&test), one.ids.remap(&test));
    let share = informative_share(&bi, &test2, &informative_items(&two));
    let active_share = informative_share(&active, &test1, &informative_items(&one));
    assert!(
        share > 0.9 && active_share < 0.75,
        "informative share: BiIRT-2PL-MFI {share:.2}, IRT-Active {active_share:.2}"
    );
    let settings = E4Settings { steps: vec![3], draws: 2, ..E4Settings::default() };
    let (ours, theirs) = (run_e4(&bi, &test2, &settings).auc_at[&3], run_e4(&active, &test1, &settings).auc_at[&3]);
    assert!(ours > theirs + 0.02, "query AUC after 3 items: BiIRT-2PL-MFI {ours:.4}, IRT-Active {theirs:.4}");
}

/// BiIRT over the 2PL starts from every slope prior with every skill-pooling precision, the
/// base's own values among them and its own pair once; where items have no skills, pooling is
/// not tried (every pooled fit would be the unpooled one).
#[test]
fn starts_cross_slope_priors_with_skill_pooling() {
    let cfg = MetaConfig { slope_priors: vec![10.0], pooling_priors: vec![0.0, 1.0], ..MetaConfig::default() };
    let priors = |data: &attune_core::Dataset| {
        let base = fit(&ModelSpec::new(ModelName::Irt2pl, 42), Training { train: data, validation: None }, &NoProgress)
            .unwrap();
        let Model::Irt(irt) = &base.model else { unreachable!() };
        let starts = attune_meta::Bi2pl::slope_starts(irt, &base.ids.remap(data), &cfg, &NoProgress).unwrap();
        let pairs: Vec<_> = starts.iter().map(|s| (s.config.discrimination_l2, s.config.skill_pooling_l2)).collect();
        (pairs, starts)
    };
    let (pairs, starts) = priors(&vendored("akt_statics"));
    assert_eq!(pairs, [(1.0, 0.0), (10.0, 0.0), (1.0, 1.0), (10.0, 1.0)]);
    let moved = starts[0].difficulty.iter().zip(&starts[2].difficulty).filter(|(a, b)| (*a - *b).abs() > 1e-3).count();
    assert!(moved > 0, "the pooled start is the unpooled fit");
    let [train, ..] = half_informative();
    assert_eq!(priors(&train).0, [(1.0, 0.0), (10.0, 0.0)], "pooling tried without skills");
}

/// Every test length's tester comes from one start: the one whose testers have the best
/// validation AUC averaged over the lengths.
#[test]
fn one_start_serves_every_test_length() {
    let data = vendored("akt_statics");
    let base =
        fit(&ModelSpec::new(ModelName::Irt2pl, 42), Training { train: &data, validation: None }, &NoProgress).unwrap();
    let Model::Irt(irt) = &base.model else { unreachable!() };
    let ids = base.ids.remap(&data);
    let cut = ids.n_learners() * 3 / 4;
    let (train, valid) = (
        ids.select_learners(&(0..cut).collect::<Vec<_>>()),
        ids.select_learners(&(cut..ids.n_learners()).collect::<Vec<_>>()),
    );
    let cfg = MetaConfig {
        max_epochs: 1,
        inner_rates: vec![1.0],
        slope_priors: vec![100.0],
        pooling_priors: vec![1.0],
        ..MetaConfig::default()
    };
    let starts = attune_meta::Bi2pl::slope_starts(irt, &train, &cfg, &NoProgress).unwrap();
    let lengths = [1, 3];
    let testers =
        attune_meta::Bi2pl::train_lengths(&starts, BiPolicy::Mfi, &train, &valid, &lengths, &cfg, &NoProgress).unwrap();
    assert_eq!(testers.iter().map(|t| t.n).collect::<Vec<_>>(), lengths);
    let mean = |s: &attune_kt::Irt| {
        let one = std::slice::from_ref(s);
        let train = |n| attune_meta::Bi2pl::train(one, BiPolicy::Mfi, &train, &valid, n, &cfg, &NoProgress).unwrap();
        lengths.iter().map(|&n| train(n).validation_auc).sum::<f64>() / 2.0
    };
    let means: Vec<f64> = starts.iter().map(mean).collect();
    let best = (0..starts.len()).max_by(|&a, &b| means[a].total_cmp(&means[b])).unwrap();
    let kept = attune_meta::StartPriors::of(&starts[best]);
    assert!(testers.iter().all(|t| t.start == kept), "kept {:?}, best mean {kept:?} of {means:?}", testers[0].start);
}

/// An E4 BiIRT-2PL meta-model round-trips (the loaded testers ask the same items and predict
/// the same); hand edits are refused naming the field; over a Rasch base it is refused.
#[test]
fn a_saved_2pl_tester_round_trips() {
    let data = vendored("akt_statics");
    let cfg = MetaConfig {
        max_epochs: 1,
        inner_rates: vec![1.0],
        slope_priors: vec![],
        pooling_priors: vec![],
        ..MetaConfig::default()
    };
    let m = meta_train(&data, "e4", "biirt-mfi", &ModelSpec::new(ModelName::Irt2pl, 42), 1, &cfg, &NoProgress).unwrap();
    assert_eq!(m.learners.iter().map(|s| s.size).collect::<Vec<_>>(), [1, 3, 5, 10]);
    assert!(m.adapt(&[]).is_none(), "an E4 file adapts no tracer");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bi2pl.json");
    m.save(&path).unwrap();
    let back = MetaModel::load(&path).unwrap();
    let ids = back.base.ids.remap(&data);
    for (a, b) in m.learners.iter().zip(&back.learners) {
        let (Trained::Tester2pl(a), Trained::Tester2pl(b)) = (&a.learner, &b.learner) else { panic!("not BiIRT-2PL") };
        assert_same_tests(a, b, &ids);
    }
    let check = edit_refused(&m);
    check(&|j| j["learners"][1]["tester_2pl"]["slope"].as_array_mut().unwrap().truncate(3), "learners[1].slope");
    check(&|j| j["learners"][0]["tester_2pl"]["intercept"][0] = 1e9.into(), "learners[0].slope");
    check(&|j| j["learners"][2]["tester_2pl"]["rate"] = (-1.0).into(), "learners[2].rate");
    check(&|j| j["learners"][3]["tester_2pl"]["steps"] = 0.into(), "learners[3].steps");
    // The same learners over a Rasch base: the file says which base it needs.
    let rasch = meta_train(&data, "e4", "biirt-mfi", &ModelSpec::new(ModelName::Irt1pl, 42), 1, &cfg, &NoProgress);
    let mut json: serde_json::Value = serde_json::from_slice(&m.to_json()).unwrap();
    json["base"] = serde_json::from_slice(&rasch.unwrap().base.to_json()).unwrap();
    assert!(MetaModel::from_json(std::path::Path::new("m.json"), &serde_json::to_vec(&json).unwrap()).is_err());
}
