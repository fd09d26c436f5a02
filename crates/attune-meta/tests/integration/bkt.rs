//! The meta-learners over BKT on a seeded synthetic population whose learners differ in a
//! known learning rate, and a BKT meta-model file's round trip.

use attune_core::{Dataset, DatasetBuilder, Interaction, KnowledgeTracer, NoProgress};
use attune_meta::{Algorithm, Error, MetaBkt, MetaConfig, MetaLearner, MetaModel, meta_train};
use attune_models::{Model, ModelName, ModelSpec, Training, fit};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::vendored;

/// Learners practise two skills in turns under BKT (prior 0.2, guess 0.2, slip 0.1); half
/// learn fast (P(learn) 0.45), half slowly (0.03), which one known only from their answers.
fn population(learners: usize, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut b = DatasetBuilder::default();
    let skills: Vec<_> = (0..2).map(|s| b.skill(&format!("s{s}"))).collect();
    let items: Vec<_> = (0..8).map(|i| b.item(&format!("q{i}"))).collect();
    for s in 0..learners {
        let learn = if s % 2 == 0 { 0.45 } else { 0.03 };
        let student = b.student(&format!("{seed}-{s}"));
        let mut known = [rng.random_bool(0.2), rng.random_bool(0.2)];
        for t in 0..30 {
            let (skill, item) = (t % 2, 2 * rng.random_range(0..4) + t % 2);
            let y = if known[skill] { rng.random_bool(0.9) } else { rng.random_bool(0.2) };
            b.push_row(student, items[item], &[skills[skill]], y, t as i64);
            known[skill] = known[skill] || rng.random_bool(learn);
        }
    }
    b.finish()
}

fn log_loss(p: f64, y: bool) -> f64 {
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    if y { -p.ln() } else { -(1.0 - p).ln() }
}

/// Mean loss and AUC on each test learner's ten answers after the first `k`, traced from
/// what `adapt` gives on those `k`.
/// Adapts to a learner from their support: the model and its state.
type Adapt<'f> = &'f dyn Fn(&[Interaction<'_>]) -> (attune_kt::Bkt, Vec<f64>);

fn traced(test: &Dataset, k: usize, adapt: Adapt<'_>) -> (f64, f64) {
    let (mut p, mut y) = (Vec::new(), Vec::new());
    for rows in test.learners() {
        let support: Vec<_> = test.interactions(rows.start..rows.start + k).collect();
        let (model, mut state) = adapt(&support);
        for obs in test.interactions(rows.start + k..rows.start + k + 10) {
            p.push(model.predict_interaction(&state, &obs).get());
            y.push(obs.correct);
            model.update(&mut state, &obs);
        }
    }
    let loss = p.iter().zip(&y).map(|(&p, &y)| log_loss(p, y)).sum::<f64>() / p.len() as f64;
    (loss, attune_core::metrics::auc(&p, &y))
}

/// Adapted on ten answers, every algorithm predicts the next ten better than the normally
/// fitted BKT that has not read them; the meta-learners rank them better (AUC) than that BKT
/// after reading them (E5's `none`) too. Fine-tuning does not: ten answers overfit guess and
/// slip (its log loss is 0.008 above `none`'s here, while knowing each learner's learning
/// rate would take 0.022 off), which is why ANIL over BKT adapts the learner's prior and
/// learning rate only.
#[test]
fn every_algorithm_over_bkt_lowers_query_loss_against_no_adaptation() {
    let all = population(800, 5);
    let idx = |a: usize, n: usize| (a..a + n).collect::<Vec<_>>();
    let (train, valid, test) =
        (all.select_learners(&idx(0, 500)), all.select_learners(&idx(500, 100)), all.select_learners(&idx(600, 200)));
    let base =
        fit(&ModelSpec::new(ModelName::Bkt, 42), Training { train: &train, validation: None }, &NoProgress).unwrap();
    let Model::Bkt(bkt) = &base.model else { unreachable!() };
    let (train, valid, test) = (base.ids.remap(&train), base.ids.remap(&valid), base.ids.remap(&test));
    let k = 10;
    let (unread, _) = traced(&test, k, &|_| (bkt.clone(), bkt.initial_state()));
    let (none, none_auc) = traced(&test, k, &|s| {
        let mut state = bkt.initial_state();
        s.iter().for_each(|o| bkt.update(&mut state, o));
        (bkt.clone(), state)
    });
    assert!(none < unread - 0.02, "the base reading the support {none:.4}, not reading it {unread:.4}");
    let cfg = MetaConfig {
        max_epochs: 30,
        inner_rates: vec![1.0, 3.0, 10.0, 30.0],
        finetune_steps: vec![3, 10],
        ..MetaConfig::default()
    };
    for algorithm in Algorithm::ALL {
        let m = MetaBkt::train(algorithm, bkt, &train, &valid, k, &cfg, &NoProgress).unwrap();
        let (adapted, auc) = traced(&test, k, &|s| {
            let a = m.adapt(s);
            (a.model, a.state)
        });
        assert!(adapted < unread - 0.02, "{algorithm}: query loss {adapted:.4}, not adapted {unread:.4}");
        assert!(adapted < none + 0.01, "{algorithm}: query loss {adapted:.4}, not adapted but reading {none:.4}");
        if algorithm != Algorithm::FineTune {
            assert!(auc > none_auc, "{algorithm}: query AUC {auc:.4}, not adapted but reading {none_auc:.4}");
        }
    }
}

/// A BKT meta-model saved and loaded adapts as the one in memory; an edited probability,
/// rate or step count is refused naming the field, and a multi-skill guess table is refused.
#[test]
fn a_saved_bkt_meta_model_round_trips_and_edits_name_the_field() {
    let data = vendored("STATICS");
    let cfg = MetaConfig { inner_rates: vec![1.0], finetune_steps: vec![3], max_epochs: 2, ..MetaConfig::default() };
    let m = meta_train(&data, "e5", "metasgd", &ModelSpec::new(ModelName::Bkt, 42), 1, &cfg, &NoProgress).unwrap();
    assert_eq!(m.learners.iter().map(|s| s.size).collect::<Vec<_>>(), [1, 3, 5, 10]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metasgd-bkt.json");
    m.save(&path).unwrap();
    let back = MetaModel::load(&path).unwrap();
    let ids = back.base.ids.remap(&data);
    let mut moved = false;
    for rows in ids.learners().take(10) {
        let support: Vec<_> = ids.interactions(rows.start..(rows.start + 4).min(rows.end)).collect();
        let (a, sa) = m.adapt(&support).unwrap();
        let (b, sb) = back.adapt(&support).unwrap();
        assert_eq!(sa, sb);
        let plain = m.base.initial_state();
        for obs in ids.interactions(rows.clone()) {
            assert_eq!(a.predict(&sa, obs.item), b.predict(&sb, obs.item));
            moved |= a.predict(&sa, obs.item) != m.base.predict(&plain, obs.item);
        }
    }
    assert!(moved, "adaptation changed no prediction");
    let json: serde_json::Value = serde_json::from_slice(&m.to_json()).unwrap();
    let check = |edit: &dyn Fn(&mut serde_json::Value), field: &str| {
        let mut j = json.clone();
        edit(&mut j);
        match MetaModel::from_json(std::path::Path::new("m.json"), &serde_json::to_vec(&j).unwrap()) {
            Err(Error::InvalidFile { field: f, .. }) => assert!(f.starts_with(field), "{f} for {field}"),
            Err(e) => panic!("{field}: {e}"),
            Ok(_) => panic!("{field}: accepted"),
        }
    };
    check(
        &|j| {
            let skills = j["learners"][1]["bkt_tracer"]["start"]["skills"].as_array_mut().unwrap();
            skills.iter_mut().find(|s| !s.is_null()).unwrap()["slip"] = 1.5.into();
        },
        "learners[1].start",
    );
    check(
        &|j| j["learners"][0]["bkt_tracer"]["start"]["skills"].as_array_mut().unwrap().truncate(3),
        "learners[0].start",
    );
    check(&|j| j["learners"][0]["bkt_tracer"]["rates"][5] = (-1.0).into(), "learners[0].rates");
    check(&|j| j["learners"][2]["bkt_tracer"]["steps"] = 0.into(), "learners[2].steps");
    check(&|j| j["learners"][3]["bkt_tracer"]["rates"].as_array_mut().unwrap().truncate(2), "learners[3].rates");
    let multigs = ModelSpec::new(ModelName::BktMultigs, 42);
    assert!(matches!(
        meta_train(&data, "e5", "maml", &multigs, 1, &cfg, &NoProgress),
        Err(Error::UnsupportedBase { .. })
    ));
}
