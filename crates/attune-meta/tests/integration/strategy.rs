//! Strategy selection: on a population mixing learners who do not learn with learners who
//! learn fast, the selector gives each the model that explains them; E5 reports its regret
//! and gain; a trained strategy's file adapts as the one in memory.

use attune_core::{Dataset, DatasetBuilder, NoProgress, sigmoid};
use attune_meta::{
    E4Model, E4Settings, E5Model, E5Run, MetaConfig, MetaLearner, Strategy, StrategyTester, e5, meta_train,
    parse_strategies, run_e4,
};
use attune_models::{ModelName, ModelSpec, Training, fit};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::log_loss;

const SKILLS: usize = 4;
const ITEMS_PER_SKILL: usize = 6;

/// Even learners have a fixed ability (Rasch, no learning); odd ones start far below and
/// gain a lot with each practice of a skill. Each answers 30 items of random skills.
fn population(learners: usize, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut b = DatasetBuilder::default();
    let skills: Vec<_> = (0..SKILLS).map(|s| b.skill(&format!("s{s}"))).collect();
    let items: Vec<_> = (0..SKILLS * ITEMS_PER_SKILL).map(|i| b.item(&format!("q{i}"))).collect();
    let difficulty = |i: usize| -1.0 + 2.0 * (i % ITEMS_PER_SKILL) as f64 / (ITEMS_PER_SKILL - 1) as f64;
    for l in 0..learners {
        let learns = l % 2 == 1;
        let theta = rng.random_range(-1.5..1.5);
        let student = b.student(&format!("{seed}-{l}"));
        let mut practice = [0.0f64; SKILLS];
        for time in 0..30 {
            let s = rng.random_range(0..SKILLS);
            let i = s * ITEMS_PER_SKILL + rng.random_range(0..ITEMS_PER_SKILL);
            let logit = if learns { -3.0 + 1.2 * practice[s] } else { theta - difficulty(i) };
            let y = rng.random_bool(sigmoid(logit));
            practice[s] += 1.0;
            b.push_row(student, items[i], &[skills[s]], y, time);
        }
    }
    b.finish()
}

/// Mean log-loss of the test learners' answers after the support, adapted by `m`.
fn query_loss<M: MetaLearner>(m: &M, test: &Dataset, k: usize) -> f64 {
    let t = attune_meta::trace_e5(m, test, k);
    t.p.iter().zip(&t.y).map(|(&p, &y)| log_loss(p, y)).sum::<f64>() / t.p.len() as f64
}

#[test]
fn the_selector_gives_each_learner_the_model_that_explains_them() {
    let all = population(600, 5);
    let idx = |a: usize, n: usize| (a..a + n).collect::<Vec<_>>();
    let (train, valid, test) =
        (all.select_learners(&idx(0, 300)), all.select_learners(&idx(300, 150)), all.select_learners(&idx(450, 150)));
    let specs = parse_strategies("irt1pl:none,pfa:none,bkt:none").unwrap();
    let cfg = MetaConfig { strategies: specs, ..MetaConfig::default() };
    let training = Training { train: &train, validation: Some((&train, &valid)) };
    let irt = fit(&ModelSpec::new(ModelName::Irt1pl, 42), training, &NoProgress).unwrap();
    let bases = attune_meta::fit_strategy_bases(&cfg.strategies, &irt, &train, &valid, 42, &NoProgress).unwrap();
    let (train_m, valid_m, test_m) = (irt.ids.remap(&train), irt.ids.remap(&valid), irt.ids.remap(&test));
    let k = 8;
    let candidates =
        attune_meta::train_strategy_candidates(&cfg.strategies, &bases, &train_m, &valid_m, k, &cfg, &NoProgress)
            .unwrap();
    let s = Strategy::train(candidates, &valid_m, k, 42).unwrap();
    let mine = query_loss(&s, &test_m, k);
    let singles: Vec<f64> = s.candidates.iter().map(|c| query_loss(c, &test_m, k)).collect();
    let best = singles.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(mine < best - 0.01, "strategy {mine:.4}, candidates {singles:?}");
    // Learners who learn and who do not are given different candidates, mostly.
    let mut split = [[0usize; 3]; 2];
    for (l, rows) in test_m.learners().enumerate() {
        let support: Vec<_> = test_m.interactions(rows.start..rows.start + k).collect();
        split[(450 + l) % 2][s.choose(&support)] += 1;
    }
    let top = |row: [usize; 3]| (0..3).max_by_key(|&c| row[c]).unwrap();
    assert_ne!(top(split[0]), top(split[1]), "choices by kind of learner: {split:?}");
}

#[test]
fn e5_reports_regret_and_gain() {
    let data = crate::vendored("assist2009_updated");
    let mut run = E5Run::new(E5Model::Strategy, ModelSpec::new(ModelName::Irt1pl, 42), 42);
    run.folds = vec![1];
    run.resamples = 100;
    run.meta = MetaConfig {
        max_epochs: 2,
        inner_rates: vec![1.0],
        finetune_steps: vec![3],
        strategies: parse_strategies("irt1pl:none,bkt:none,irt1pl:finetune").unwrap(),
        ..MetaConfig::default()
    };
    let r = e5(&data, &run, &NoProgress).unwrap();
    let st = r.strategy.as_ref().unwrap();
    assert_eq!(st.candidates, ["irt1pl:none", "bkt:none", "irt1pl:finetune"]);
    for k in ["1", "3", "5", "10"] {
        // The oracle takes each learner's lowest log-loss: nothing is below it.
        assert!(st.regret_log_loss[k] >= -1e-12 && st.headroom_log_loss[k] >= -1e-12, "{k}: {st:?}");
        let g = st.gain[k];
        assert!(g.lo <= g.diff && g.diff <= g.hi);
        let shares: f64 = st.chosen[k].values().sum();
        assert!((shares - 1.0).abs() < 1e-9, "{k}: {:?}", st.chosen[k]);
        assert!(r.versus["best-single"].contains_key(k) && r.versus["bkt:none"].contains_key(k));
        // Every other learner has its own intervals against both baselines.
        assert!(r.baseline_intervals["bkt:none"]["none"].contains_key(k));
        assert!(r.baseline_intervals["bkt:none"]["finetune"].contains_key(k));
        assert_eq!(r.baseline_intervals["finetune"].keys().collect::<Vec<_>>(), ["none"]);
    }
    // `none` and `finetune` over the run's base are the candidates of the same name.
    assert_eq!(r.baselines["none"].auc_at, r.baselines["irt1pl:none"].auc_at);
    assert_eq!(r.baselines["finetune"].auc_at, r.baselines["irt1pl:finetune"].auc_at);
    for name in ["none", "finetune", "oracle", "best-single", "bkt:none"] {
        assert!(r.baselines.contains_key(name), "missing {name}");
    }
    let json = serde_json::to_value(&r).unwrap();
    for key in ["auc_at", "accuracy_at", "vs_none", "vs_finetune", "strategy"] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
}

#[test]
fn a_saved_strategy_adapts_as_the_one_in_memory() {
    let data = crate::vendored("assist2009_updated");
    let cfg = MetaConfig {
        max_epochs: 2,
        finetune_steps: vec![3],
        strategies: parse_strategies("irt1pl:none,bkt:none,irt1pl:finetune").unwrap(),
        ..MetaConfig::default()
    };
    let spec = ModelSpec::new(ModelName::Irt1pl, 42);
    let m = meta_train(&data, "e5", "strategy", &spec, 1, &cfg, &NoProgress).unwrap();
    assert_eq!(m.learners.len(), 4);
    let mut names = std::collections::BTreeSet::new();
    // The adapted model is the chosen candidate's own kind, named as such.
    crate::assert_round_trip(&m, &data, 40, 5, &mut |a, _, _| {
        names.insert(a.name().as_str());
    });
    assert!(!names.is_empty());
    // A hand-edited selector is named.
    let field = crate::edited_field(&m, &|j| {
        let weights = j["learners"][1]["strategy"]["selector"]["weights"].as_array_mut().unwrap();
        let edit = weights.iter_mut().find(|w| !w.as_array().unwrap().is_empty()).unwrap();
        edit.as_array_mut().unwrap().pop();
    });
    assert!(field.starts_with("learners[1].strategy.selector.weights["), "{field}");
}

/// First attempts for E4: even learners are Rasch (one ability, no skill effect), odd ones
/// are strong in two skills and weak in the other two. Each answers 40 of 60 items once.
fn test_population(learners: usize, seed: u64) -> Dataset {
    const TEST_SKILLS: usize = 4;
    const PER_SKILL: usize = 15;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut b = DatasetBuilder::default();
    let skills: Vec<_> = (0..TEST_SKILLS).map(|s| b.skill(&format!("s{s}"))).collect();
    let items: Vec<_> = (0..TEST_SKILLS * PER_SKILL).map(|i| b.item(&format!("q{i}"))).collect();
    let difficulty = |i: usize| -1.0 + 2.0 * (i % PER_SKILL) as f64 / (PER_SKILL - 1) as f64;
    for l in 0..learners {
        let theta = rng.random_range(-1.5..1.5);
        let sign = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
        let student = b.student(&format!("{seed}-{l}"));
        let mut order: Vec<usize> = (0..items.len()).collect();
        rand::seq::SliceRandom::shuffle(&mut order[..], &mut rng);
        for (time, &i) in order.iter().take(40).enumerate() {
            let s = i / PER_SKILL;
            let ability = if l.is_multiple_of(2) { theta } else { sign * if s.is_multiple_of(2) { 2.5 } else { -2.5 } };
            let y = rng.random_bool(sigmoid(ability - difficulty(i)));
            b.push_row(student, items[i], &[skills[s]], y, time as i64);
        }
    }
    b.finish()
}

#[test]
fn an_e4_strategy_gives_each_learner_the_response_model_that_explains_them() {
    let all = test_population(900, 9);
    let idx = |a: usize, n: usize| (a..a + n).collect::<Vec<_>>();
    let (train, valid, test) =
        (all.select_learners(&idx(0, 400)), all.select_learners(&idx(400, 250)), all.select_learners(&idx(650, 250)));
    let specs = parse_strategies("irt1pl:none,irt1pl:protonet").unwrap();
    // Two learner types: the skill-split learners' two; a Rasch learner is neither.
    let cfg = MetaConfig { learner_types: vec![2], ..MetaConfig::default() };
    let irt =
        fit(&ModelSpec::new(ModelName::Irt1pl, 42), Training { train: &train, validation: None }, &NoProgress).unwrap();
    let (train_m, valid_m, test_m) = (irt.ids.remap(&train), irt.ids.remap(&valid), irt.ids.remap(&test));
    let n = 10;
    // Candidates trained on first answers (as E5 trains them): what is tested is the choice.
    let bases = std::slice::from_ref(&irt);
    let candidates =
        attune_meta::train_strategy_candidates(&specs, bases, &train_m, &valid_m, n, &cfg, &NoProgress).unwrap();
    let s = Strategy::train_for_tests(candidates, &valid_m, n, 42).unwrap();
    let settings = E4Settings { steps: vec![n], draws: 2, ..E4Settings::default() };
    let tester = StrategyTester::new(&s, 1).unwrap();
    let mine = crate::e4_loss(&run_e4(&tester, &test_m, &settings), n);
    let singles: Vec<f64> = (0..2)
        .map(|c| crate::e4_loss(&run_e4(&StrategyTester::new(&s, 1).unwrap().only(c), &test_m, &settings), n))
        .collect();
    let best = singles.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(mine < best - 0.005, "strategy {mine:.4}, candidates {singles:?}");
    // Every test of length n is counted once, under the candidate chosen.
    assert_eq!(tester.chosen_counts().iter().sum::<usize>(), 2 * test_m.n_learners());
    // Rasch learners are given IRT far more often than the skill-split ones are.
    let mut split = [[0usize; 2]; 2];
    for (l, rows) in test_m.learners().enumerate() {
        let support: Vec<_> = test_m.interactions(rows.start..rows.start + n).collect();
        split[l % 2][s.choose(&support)] += 1;
    }
    let irt = |row: [usize; 2]| row[0] as f64 / (row[0] + row[1]) as f64;
    assert!(irt(split[0]) > 0.2 && irt(split[0]) > 5.0 * irt(split[1]).max(0.01), "choices by kind: {split:?}");
}

#[test]
fn e4_reports_a_strategys_choices_regret_and_gain() {
    let data = crate::vendored("akt_statics");
    let settings = E4Settings {
        draws: 2,
        resamples: 100,
        strategies: parse_strategies("irt1pl:none,irt1pl:siamese").unwrap(),
        ..E4Settings::default()
    };
    let spec = ModelSpec::new(ModelName::Irt1pl, 42);
    let r = attune_meta::e4(&data, E4Model::Strategy, &spec, &settings, &[1], &NoProgress).unwrap();
    let st = r.strategy.as_ref().unwrap();
    assert_eq!(st.candidates, ["irt1pl:none", "irt1pl:siamese"]);
    for n in ["1", "3", "5", "10"] {
        assert!(st.regret_log_loss[n] >= -1e-12 && st.headroom_log_loss[n] >= -1e-12, "{n}: {st:?}");
        let shares: f64 = st.chosen[n].values().sum();
        assert!((shares - 1.0).abs() < 1e-9, "{n}: {:?}", st.chosen[n]);
        let g = st.gain[n];
        assert!(g.lo <= g.diff && g.diff <= g.hi);
        // The strategy's own AUC pools the same predictions its fold's auc_at averages by draw.
        assert!(
            (st.auc[n]["strategy"] - r.auc_at[n]).abs() < 0.01,
            "{n}: {} vs {}",
            st.auc[n]["strategy"],
            r.auc_at[n]
        );
        for name in ["irt1pl:none", "irt1pl:siamese", "best-single", "oracle"] {
            assert!(r.versus[name].contains_key(n), "{name} at {n}");
        }
        assert!(r.vs_irt_active.as_ref().unwrap().contains_key(n));
    }
    let json = serde_json::to_value(&r).unwrap();
    for key in ["auc_at", "accuracy_at", "vs_irt_active", "max_exposure", "mean_overlap", "strategy", "versus"] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    // Candidates over another base are refused before any training.
    let bkt = E4Settings { strategies: parse_strategies("irt1pl:none,bkt:none").unwrap(), ..settings };
    let err = attune_meta::e4(&data, E4Model::Strategy, &spec, &bkt, &[1], &NoProgress).unwrap_err();
    assert!(err.to_string().contains("bkt:none"), "{err}");
}

#[test]
fn a_saved_e4_strategy_adapts_as_the_one_in_memory() {
    let data = crate::vendored("akt_statics");
    let cfg = MetaConfig {
        max_epochs: 2,
        test_strategies: parse_strategies("irt1pl:none,irt1pl:memory-reader").unwrap(),
        ..MetaConfig::default()
    };
    let m = meta_train(&data, "e4", "strategy", &ModelSpec::new(ModelName::Irt1pl, 42), 1, &cfg, &NoProgress).unwrap();
    assert_eq!(m.learners.len(), 4);
    crate::assert_round_trip(&m, &data, 30, 5, &mut |a, _, _| assert_eq!(a.name(), ModelName::Irt1pl));
    // An E4 strategy reads its candidates; a file saying otherwise is named.
    let field = crate::edited_field(&m, &|j| j["learners"][2]["strategy"]["features"] = "bases".into());
    assert_eq!(field, "learners[2].strategy.features");
}
