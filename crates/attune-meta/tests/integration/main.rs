//! The meta-learners on a seeded synthetic population whose learners differ in a known
//! ability, and the E4/E5 protocols end to end on vendored data.

#![allow(clippy::unwrap_used)]

mod bi2pl;
mod bkt;
mod dkt;
mod files;
mod readers;
mod strategy;

use std::path::PathBuf;

use attune_core::{Dataset, DatasetBuilder, Interaction, ItemId, KnowledgeTracer, NoProgress, sigmoid};
use attune_data::DatasetFolder;
use attune_meta::{
    AdaptiveTester, Algorithm, BiIrt, BiNn, BiPolicy, E4Model, E4Settings, E5Model, E5Run, LstmIrt, MetaConfig,
    MetaIrt, MetaLearner, e4, e5, run_e4,
};
use attune_models::{Model, ModelName, ModelSpec, Training, fit};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Learners with abilities uniform on ±2.5 answer 30 random items of 40 (difficulties uniform
/// on ±2) under the Rasch model.
fn population(learners: usize, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let difficulty: Vec<f64> = (0..40).map(|i| -2.0 + 4.0 * f64::from(i) / 39.0).collect();
    let mut b = DatasetBuilder::default();
    let items: Vec<_> = (0..40).map(|i| b.item(&format!("q{i}"))).collect();
    for s in 0..learners {
        let theta = rng.random_range(-2.5..2.5);
        let student = b.student(&format!("{seed}-{s}"));
        for t in 0..30 {
            let i = rng.random_range(0..40);
            let y = rng.random_bool(sigmoid(theta - difficulty[i]));
            b.push_row(student, items[i], &[], y, t);
        }
    }
    b.finish()
}

fn log_loss(p: f64, y: bool) -> f64 {
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    if y { -p.ln() } else { -(1.0 - p).ln() }
}

/// Every optimization-based learner adapted on five answers predicts the next twenty better
/// than the population model without adaptation (no state update either).
#[test]
fn every_algorithm_lowers_query_loss_against_no_adaptation() {
    let all = population(420, 1);
    let idx = |a: usize, n: usize| (a..a + n).collect::<Vec<_>>();
    let (train, valid, test) =
        (all.select_learners(&idx(0, 300)), all.select_learners(&idx(300, 60)), all.select_learners(&idx(360, 60)));
    let spec = ModelSpec::new(ModelName::Irt1pl, 42);
    let base = fit(&spec, Training { train: &train, validation: None }, &NoProgress).unwrap();
    let Model::Irt(irt) = &base.model else { unreachable!() };
    let (train, valid, test) = (base.ids.remap(&train), base.ids.remap(&valid), base.ids.remap(&test));
    let cfg =
        MetaConfig { max_epochs: 8, inner_rates: vec![0.3, 1.0], finetune_steps: vec![3, 10], ..MetaConfig::default() };
    let k = 5;
    let query_loss = |predict: &dyn Fn(&[Interaction<'_>], &Interaction<'_>) -> f64| {
        let (mut sum, mut n) = (0.0, 0);
        for rows in test.learners() {
            let support: Vec<_> = test.interactions(rows.start..rows.start + k).collect();
            for obs in test.interactions(rows.start + k..rows.end) {
                sum += log_loss(predict(&support, &obs), obs.correct);
                n += 1;
            }
        }
        sum / f64::from(n)
    };
    let state0 = base.initial_state();
    let unadapted = query_loss(&|_, obs| base.predict(&state0, obs.item).get());
    let loss_of = |m: &dyn Fn(&[Interaction<'_>]) -> (attune_kt::Irt, attune_kt::IrtState)| {
        query_loss(&|support, obs| {
            let (model, state) = m(support);
            model.predict(&state, obs.item).get()
        })
    };
    for algorithm in Algorithm::ALL {
        let m = MetaIrt::train(algorithm, irt, &train, &valid, k, &cfg, &NoProgress).unwrap();
        let adapted = loss_of(&|s| {
            let a = m.adapt(s);
            (a.model, a.state)
        });
        assert!(adapted < unadapted - 0.02, "{algorithm}: query loss {adapted:.4}, not adapted {unadapted:.4}");
    }
    // The learned optimizer against plain gradient steps with the same budget (five steps,
    // the best rate on validation).
    let sgd_cfg =
        MetaConfig { finetune_steps: vec![cfg.inner_steps], inner_rates: vec![0.1, 0.3, 1.0, 3.0], ..cfg.clone() };
    let sgd = MetaIrt::train(Algorithm::FineTune, irt, &train, &valid, k, &sgd_cfg, &NoProgress).unwrap();
    let lstm = LstmIrt::train(
        irt,
        &train,
        &valid,
        k,
        &MetaConfig { max_epochs: 40, patience: 40, ..cfg.clone() },
        &NoProgress,
    )
    .unwrap();
    let (sgd_loss, lstm_loss) = (
        loss_of(&|s| {
            let a = sgd.adapt(s);
            (a.model, a.state)
        }),
        loss_of(&|s| {
            let a = lstm.adapt(s);
            (a.model, a.state)
        }),
    );
    assert!(lstm_loss < unadapted - 0.02, "lstm-opt: query loss {lstm_loss:.4}, not adapted {unadapted:.4}");
    assert!(lstm_loss < sgd_loss - 0.002, "lstm-opt {lstm_loss:.4} against SGD with the same steps {sgd_loss:.4}");
}

/// Mean log-loss of an E4 outcome's query predictions after `n` answers.
pub(crate) fn e4_loss(o: &attune_meta::E4Outcome, n: usize) -> f64 {
    let p = &o.predictions[&n];
    p.p.iter().zip(&p.y).map(|(&p, &y)| log_loss(p, y)).sum::<f64>() / p.p.len() as f64
}

pub(crate) fn vendored(name: &str) -> Dataset {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data").join(name);
    DatasetFolder::open(&path).unwrap().read_all().unwrap()
}

/// Saves `m`, loads it back, and checks that both adapt each of the first `n` learners of
/// `data` (their first `k` answers the support) to the same kind of model, state and
/// predictions; `each` sees the one in memory's model and state, and the support.
pub(crate) fn assert_round_trip(
    m: &attune_meta::MetaModel,
    data: &Dataset,
    n: usize,
    k: usize,
    each: &mut dyn FnMut(&attune_models::FittedModel, &attune_models::LearnerState, &[Interaction<'_>]),
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("meta.json");
    m.save(&path).unwrap();
    let back = attune_meta::MetaModel::load(&path).unwrap();
    let data = back.base.ids.remap(data);
    for rows in data.learners().take(n) {
        let support: Vec<_> = data.interactions(rows.start..(rows.start + k).min(rows.end)).collect();
        let (a, sa) = m.adapt(&support).unwrap();
        let (b, sb) = back.adapt(&support).unwrap();
        assert_eq!((a.name(), &sa), (b.name(), &sb));
        for obs in data.interactions(rows.clone()) {
            assert_eq!(a.predict(&sa, obs.item), b.predict(&sb, obs.item));
        }
        each(&a, &sa, &support);
    }
}

/// The field the loader names when `m`'s file is edited by `edit`.
pub(crate) fn edited_field(m: &attune_meta::MetaModel, edit: &dyn Fn(&mut serde_json::Value)) -> String {
    let mut json: serde_json::Value = serde_json::from_slice(&m.to_json()).unwrap();
    edit(&mut json);
    match attune_meta::MetaModel::from_json(std::path::Path::new("edited.json"), &serde_json::to_vec(&json).unwrap()) {
        Err(attune_meta::Error::InvalidFile { field, .. }) => field,
        other => panic!("{:?}", other.map(|_| ())),
    }
}

/// E4 on vendored STATICS: every fold tests disjoint learners, IRT with ten answers predicts
/// the query clearly above chance and better than with one, the same seed repeats the run.
#[test]
fn e4_runs_end_to_end_on_vendored_data() {
    let data = vendored("akt_statics");
    let spec = ModelSpec::new(ModelName::Irt1pl, 42);
    let settings = E4Settings { draws: 2, ..E4Settings::default() };
    let r = e4(&data, E4Model::Irt(attune_policy::cat::Selector::Active), &spec, &settings, &[], &NoProgress).unwrap();
    assert_eq!(r.folds.len(), 5);
    assert_eq!(r.folds.iter().map(|f| f.n_learners).sum::<usize>(), r.n_learners);
    assert!(r.auc_at["10"] > 0.6 && r.auc_at["10"] > r.auc_at["1"], "{:?}", r.auc_at);
    assert!((0.0..=1.0).contains(&r.max_exposure) && (0.0..=1.0).contains(&r.mean_overlap));
    let again =
        e4(&data, E4Model::Irt(attune_policy::cat::Selector::Active), &spec, &settings, &[2], &NoProgress).unwrap();
    assert_eq!(again.folds[0].auc_at, r.folds[1].auc_at);
    assert!("biirt-best".parse::<E4Model>().unwrap_err().contains("binn-unbiased"));
    // Every other tester carries its paired interval against IRT-Active on the same draws.
    assert!(r.vs_irt_active.is_none());
    // A Rasch base with other hyperparameters is not BOBCAT's baseline: the Rasch model with
    // the registry's defaults is fitted beside it as the reference.
    let pooled = ModelSpec::new(ModelName::Irt1pl, 42).with_overrides(&["skill_pooling_l2=1"]).unwrap();
    let active = E4Model::Irt(attune_policy::cat::Selector::Active);
    let p = e4(&data, active, &pooled, &settings, &[2], &NoProgress).unwrap();
    let vs = p.vs_irt_active.expect("the plain Rasch model as the reference");
    for n in ["1", "10"] {
        let by_folds = p.folds[0].auc_at[n] - again.folds[0].auc_at[n];
        assert!((vs[n].diff - by_folds).abs() < 0.01, "{n}: pooled {} against per-draw means {by_folds}", vs[n].diff);
    }
    let random =
        e4(&data, E4Model::Irt(attune_policy::cat::Selector::Random), &spec, &settings, &[2], &NoProgress).unwrap();
    let vs = random.vs_irt_active.unwrap();
    for n in ["1", "3", "5", "10"] {
        let i = vs[n];
        assert!(i.lo <= i.diff && i.diff <= i.hi, "{n}: {i:?}");
        let by_folds = random.folds[0].auc_at[n] - again.folds[0].auc_at[n];
        assert!((i.diff - by_folds).abs() < 0.01, "{n}: pooled {} against per-draw means {by_folds}", i.diff);
    }
    // Testers run beside on the same draws get their own intervals; the tester itself and
    // IRT-Active (vs_irt_active) are not repeated. KLI tests the 1PL nearly as Active does.
    let kli = attune_policy::cat::Selector::Kli;
    let beside = E4Settings {
        versus: vec![
            E4Model::Irt(kli),
            E4Model::Irt(attune_policy::cat::Selector::Random),
            E4Model::Irt(attune_policy::cat::Selector::Active),
        ],
        ..settings.clone()
    };
    let r2 = e4(&data, E4Model::Irt(attune_policy::cat::Selector::Random), &spec, &beside, &[2], &NoProgress).unwrap();
    assert_eq!(r2.versus.keys().collect::<Vec<_>>(), ["irt-kli"]);
    for n in ["1", "3", "5", "10"] {
        let (a, b) = (r2.versus["irt-kli"][n], vs[n]);
        assert!((a.diff - b.diff).abs() < 0.005, "{n}: against KLI {a:?}, against Active {b:?}");
    }
    // Randomesque exposure control lowers the most exposed item's rate.
    let spread = E4Settings { randomesque: 5, ..settings.clone() };
    let controlled =
        e4(&data, E4Model::Irt(attune_policy::cat::Selector::Active), &spec, &spread, &[2], &NoProgress).unwrap();
    assert!(controlled.max_exposure < again.max_exposure, "{} vs {}", controlled.max_exposure, again.max_exposure);
}

/// E5 on vendored ASSIST2009 with MAML over the Rasch model: both baselines beside it, an
/// interval per support size that holds its difference, a second fold of learners.
#[test]
fn e5_runs_end_to_end_with_both_baselines() {
    let data = vendored("assist2009_updated");
    let spec = ModelSpec::new(ModelName::Irt1pl, 42);
    let mut run = E5Run::new(E5Model::Meta(Algorithm::Maml), spec, 42);
    run.folds = vec![1];
    run.resamples = 200;
    run.meta = MetaConfig { max_epochs: 3, inner_rates: vec![1.0], finetune_steps: vec![3], ..MetaConfig::default() };
    let r = e5(&data, &run, &NoProgress).unwrap();
    assert_eq!(r.units.len(), 1);
    assert_eq!(r.baselines.keys().collect::<Vec<_>>(), ["finetune", "none"]);
    for k in ["1", "3", "5", "10"] {
        assert!(r.scores.auc_at[k] > 0.55, "k = {k}: {:?}", r.scores.auc_at);
        let i = r.vs_none.as_ref().unwrap()[k];
        assert!(i.lo <= i.diff && i.diff <= i.hi, "{k}: {i:?}");
        assert!(r.vs_finetune.as_ref().unwrap().contains_key(k));
    }
    assert!(r.scores.window_auc["3-10"]["1"].is_finite());
    assert!(r.scores.window_auc["3-10"]["10"].is_nan(), "the support covers answers 3–10 at k = 10");
    let json = serde_json::to_value(&r).unwrap();
    for key in ["auc_at", "accuracy_at", "window_auc", "window_accuracy", "cohort", "vs_none", "vs_finetune"] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    // Over BKT the same keys; a meta-learner over a base it cannot adapt is an error naming both.
    let mut bkt = E5Run::new(E5Model::Meta(Algorithm::MetaSgd), ModelSpec::new(ModelName::Bkt, 42), 42);
    bkt.folds = vec![1];
    bkt.resamples = 100;
    bkt.meta = run.meta.clone();
    let r = e5(&data, &bkt, &NoProgress).unwrap();
    assert_eq!((r.base.as_str(), r.baselines.len()), ("bkt", 2));
    assert!(r.scores.auc_at["5"] > 0.55 && r.vs_finetune.unwrap().contains_key("10"), "{:?}", r.scores.auc_at);
    let pfa = E5Run::new(E5Model::Meta(Algorithm::Maml), ModelSpec::new(ModelName::Pfa, 42), 42);
    let err = e5(&data, &E5Run { folds: vec![1], ..pfa }, &NoProgress).unwrap_err().to_string();
    assert!(err.contains("maml") && err.contains("pfa"), "{err}");
}

/// Half the items carry no information about ability (right with probability 0.5 whatever the
/// learner): BOBCAT's learned selection (Approx and the PPO-trained Unbiased), over BiIRT and
/// over BiNN, must learn to ask the informative ones, and predict the query better than
/// random selection.
#[test]
fn the_learned_selection_avoids_items_without_information() {
    let [train, valid, test] = half_informative();
    let base =
        fit(&ModelSpec::new(ModelName::Irt1pl, 42), Training { train: &train, validation: None }, &NoProgress).unwrap();
    let Model::Irt(irt) = &base.model else { unreachable!() };
    let (train, valid, test) = (base.ids.remap(&train), base.ids.remap(&valid), base.ids.remap(&test));
    let cfg = MetaConfig { max_epochs: 15, patience: 15, inner_rates: vec![1.0], ..MetaConfig::default() };
    let informative = informative_items(&base);
    let settings = E4Settings { steps: vec![3], draws: 2, ..E4Settings::default() };
    let check = |random: &dyn Fn() -> (f64, f64), approx: &dyn Fn() -> (f64, f64), name: &str| {
        let ((r_share, r_auc), (x_share, x_auc)) = (random(), approx());
        assert!(
            x_share > 0.9 && x_share > r_share + 0.3,
            "{name}: informative share: approx {x_share:.2}, random {r_share:.2}"
        );
        assert!(x_auc > r_auc + 0.02, "{name}: query AUC after 3 items: approx {x_auc:.4}, random {r_auc:.4}");
    };
    let random = BiIrt::train(irt, BiPolicy::Random, &train, &valid, 3, &cfg, &NoProgress).unwrap();
    let approx = BiIrt::train(irt, BiPolicy::Approx, &train, &valid, 3, &cfg, &NoProgress).unwrap();
    check(
        &|| (informative_share(&random, &test, &informative), run_e4(&random, &test, &settings).auc_at[&3]),
        &|| (informative_share(&approx, &test, &informative), run_e4(&approx, &test, &settings).auc_at[&3]),
        "biirt",
    );
    let unbiased = BiIrt::train(irt, BiPolicy::Unbiased, &train, &valid, 3, &cfg, &NoProgress).unwrap();
    check(
        &|| (informative_share(&random, &test, &informative), run_e4(&random, &test, &settings).auc_at[&3]),
        &|| (informative_share(&unbiased, &test, &informative), run_e4(&unbiased, &test, &settings).auc_at[&3]),
        "biirt-unbiased",
    );
    let random = BiNn::train(irt, BiPolicy::Random, &train, &valid, 3, &cfg, &NoProgress).unwrap();
    let approx = BiNn::train(irt, BiPolicy::Approx, &train, &valid, 3, &cfg, &NoProgress).unwrap();
    check(
        &|| (informative_share(&random, &test, &informative), run_e4(&random, &test, &settings).auc_at[&3]),
        &|| (informative_share(&approx, &test, &informative), run_e4(&approx, &test, &settings).auc_at[&3]),
        "binn",
    );
    let unbiased = BiNn::train(irt, BiPolicy::Unbiased, &train, &valid, 3, &cfg, &NoProgress).unwrap();
    check(
        &|| (informative_share(&random, &test, &informative), run_e4(&random, &test, &settings).auc_at[&3]),
        &|| (informative_share(&unbiased, &test, &informative), run_e4(&unbiased, &test, &settings).auc_at[&3]),
        "binn-unbiased",
    );
}

/// 500 learners (abilities uniform on ±2.5) answer 40 items once each, cut 350/75/75 into
/// training, validation and test learners: items `q0`–`q19` follow the 2PL with slope 2 and
/// difficulties on ±1.5, items `q20`–`q39` are coin flips (right with probability 0.5
/// whatever the learner).
pub(crate) fn half_informative() -> [Dataset; 3] {
    let mut rng = StdRng::seed_from_u64(11);
    let mut b = DatasetBuilder::default();
    let items: Vec<_> = (0..40).map(|i| b.item(&format!("q{i}"))).collect();
    for s in 0..500 {
        let theta: f64 = rng.random_range(-2.5..2.5);
        let student = b.student(&format!("s{s}"));
        for (i, &item) in items.iter().enumerate() {
            let p = if i < 20 { sigmoid(2.0 * (theta - (-1.5 + 3.0 * i as f64 / 19.0))) } else { 0.5 };
            b.push_row(student, item, &[], rng.random_bool(p), i as i64);
        }
    }
    let all = b.finish();
    let idx = |a: usize, n: usize| (a..a + n).collect::<Vec<_>>();
    [all.select_learners(&idx(0, 350)), all.select_learners(&idx(350, 75)), all.select_learners(&idx(425, 75))]
}

/// Which of a model's items (by index) are [`half_informative`]'s informative ones.
pub(crate) fn informative_items(base: &attune_models::FittedModel) -> Vec<bool> {
    base.ids.items.iter().map(|name| name.trim_start_matches('q').parse::<usize>().unwrap() < 20).collect()
}

/// The share of informative items among the first three a tester asks each test learner.
pub(crate) fn informative_share<T: AdaptiveTester>(m: &T, test: &Dataset, informative: &[bool]) -> f64 {
    let (mut good, mut all) = (0, 0);
    for rows in test.learners() {
        let mut rng = StdRng::seed_from_u64(rows.start as u64);
        let mut left: Vec<usize> = rows.collect();
        let mut s = m.start();
        for _ in 0..3 {
            let items: Vec<ItemId> = left.iter().map(|&r| test.items()[r]).collect();
            let row = left.swap_remove(m.choose(&s, &items, &mut rng));
            good += usize::from(informative[test.items()[row].index()]);
            all += 1;
            m.observe(&mut s, &test.interaction(row));
        }
    }
    good as f64 / all as f64
}
