//! Strategy selection: on a population mixing learners who do not learn with learners who
//! learn fast, the selector gives each the model that explains them; E5 reports its regret
//! and gain; a trained strategy's file adapts as the one in memory.

use attune_core::{Dataset, DatasetBuilder, NoProgress, sigmoid};
use attune_meta::{E5Model, E5Run, MetaConfig, MetaLearner, Strategy, e5, meta_train, parse_strategies};
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
