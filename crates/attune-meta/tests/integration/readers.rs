//! The metric- and model-based learners on a seeded synthetic population drawn from three
//! known learner types: the prototypes recover the types, every reader predicts new learners
//! better than the population model, and a trained reader's file adapts as it does.

use attune_core::{Dataset, DatasetBuilder, Interaction, KnowledgeTracer, NoProgress, sigmoid};
use attune_meta::readers::{ReaderTester, adjusted_rand_index};
use attune_meta::tasks::e4_data;
use attune_meta::{E4Settings, IrtTester, MetaConfig, MetaLearner, ReaderKind, ReaderModel, meta_train, run_e4};
use attune_models::{Model, ModelName, ModelSpec, Training, fit};
use attune_policy::cat::{Estimator, Selector};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::log_loss;

const SKILLS: usize = 6;
const ITEMS_PER_SKILL: usize = 8;

/// Three types' abilities per skill: strong on the first half, strong on the second, and
/// alternating.
fn type_ability(t: usize, s: usize) -> f64 {
    let strong = match t {
        0 => s < SKILLS / 2,
        1 => s >= SKILLS / 2,
        _ => s.is_multiple_of(2),
    };
    if strong { 1.5 } else { -1.5 }
}

/// Learners of type `s % 3`, each with an own shift of sd 0.3, answer 40 items: a random
/// skill, then a random item of it (difficulties spread over ±1.5).
fn population(learners: usize, seed: u64) -> (Dataset, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut b = DatasetBuilder::default();
    let skills: Vec<_> = (0..SKILLS).map(|s| b.skill(&format!("s{s}"))).collect();
    let items: Vec<_> = (0..SKILLS * ITEMS_PER_SKILL).map(|i| b.item(&format!("q{i}"))).collect();
    let difficulty = |i: usize| -1.5 + 3.0 * (i % ITEMS_PER_SKILL) as f64 / (ITEMS_PER_SKILL - 1) as f64;
    let mut types = Vec::new();
    for l in 0..learners {
        let t = l % 3;
        types.push(t);
        let shift = rng.random_range(-0.5..0.5);
        let student = b.student(&format!("{seed}-{l}"));
        for time in 0..40 {
            let s = rng.random_range(0..SKILLS);
            let i = s * ITEMS_PER_SKILL + rng.random_range(0..ITEMS_PER_SKILL);
            let y = rng.random_bool(sigmoid(type_ability(t, s) + shift - difficulty(i)));
            b.push_row(student, items[i], &[skills[s]], y, time);
        }
    }
    (b.finish(), types)
}

struct Split {
    irt: attune_kt::Irt,
    train: Dataset,
    valid: Dataset,
    test: Dataset,
    base: attune_models::FittedModel,
    train_types: Vec<usize>,
}

fn split() -> Split {
    let (all, types) = population(480, 7);
    let idx = |a: usize, n: usize| (a..a + n).collect::<Vec<_>>();
    let (train, valid, test) =
        (all.select_learners(&idx(0, 300)), all.select_learners(&idx(300, 90)), all.select_learners(&idx(390, 90)));
    let base =
        fit(&ModelSpec::new(ModelName::Irt1pl, 42), Training { train: &train, validation: None }, &NoProgress).unwrap();
    let Model::Irt(irt) = &base.model else { unreachable!() };
    // Learners keep their order through select_learners and remap.
    let train_types = types[..300].to_vec();
    Split {
        irt: irt.clone(),
        train: base.ids.remap(&train),
        valid: base.ids.remap(&valid),
        test: base.ids.remap(&test),
        base,
        train_types,
    }
}

fn cfg() -> MetaConfig {
    MetaConfig { max_epochs: 15, learner_types: vec![3], ..MetaConfig::default() }
}

/// Mean query log-loss on answers 11–40 of the test learners after a support of 10.
fn query_loss(test: &Dataset, k: usize, predict: &dyn Fn(&[Interaction<'_>], &Interaction<'_>) -> f64) -> f64 {
    let (mut sum, mut n) = (0.0, 0);
    for rows in test.learners() {
        let support: Vec<_> = test.interactions(rows.start..rows.start + k).collect();
        for obs in test.interactions(rows.start + k..rows.end) {
            sum += log_loss(predict(&support, &obs), obs.correct);
            n += 1;
        }
    }
    sum / f64::from(n)
}

#[test]
fn prototypes_recover_the_learner_types() {
    let s = split();
    let m = ReaderModel::train(ReaderKind::ProtoNet, &s.irt, &s.train, &s.valid, 10, &cfg(), &NoProgress).unwrap();
    let p = m.learner_types().unwrap();
    assert_eq!(p.types.len(), 3);
    let ari = adjusted_rand_index(&p.members, &s.train_types);
    assert!(ari >= 0.9, "adjusted Rand index {ari:.3}");
    // Each type's mastery reads as its generating profile: above one half where strong.
    for (t, ty) in p.types.iter().enumerate() {
        let truth = (0..s.train_types.len()).filter(|&l| p.members[l] == t).map(|l| s.train_types[l]).next().unwrap();
        for skill in 0..SKILLS {
            let strong = type_ability(truth, skill) > 0.0;
            assert_eq!(p.mastery(t, skill).unwrap() > 0.5, strong, "type {t} skill {skill}: {ty:?}");
        }
    }
}

#[test]
fn every_reader_predicts_new_learners_better_than_the_population() {
    let s = split();
    let k = 10;
    let state0 = s.base.initial_state();
    let population = query_loss(&s.test, k, &|_, obs| s.base.predict(&state0, obs.item).get());
    // The base reading the support with its own update: a scalar ability cannot follow a
    // type's per-skill profile.
    let base_reads = query_loss(&s.test, k, &|support, obs| {
        let st = s.base.replay(support.iter().copied());
        s.base.predict(&st, obs.item).get()
    });
    for kind in ReaderKind::ALL {
        let m = ReaderModel::train(kind, &s.irt, &s.train, &s.valid, k, &cfg(), &NoProgress).unwrap();
        let loss = query_loss(&s.test, k, &|support, obs| {
            let a = m.adapt(support);
            a.model.predict(&a.state, obs.item).get()
        });
        let name = kind.as_str();
        assert!(loss < population - 0.02, "{name}: {loss:.4}, population {population:.4}");
        assert!(loss < base_reads, "{name}: {loss:.4}, base reading the support {base_reads:.4}");
    }
}

/// E4 with tests of ten answers: every reader trained on IRT-Active's tests reads a test
/// better than IRT-Active's own scalar ability, which cannot follow a type's profile.
#[test]
fn readers_trained_for_tests_read_a_test_better_than_irt_active() {
    let s = split();
    let (train, valid, test) = (e4_data(&s.train), e4_data(&s.valid), e4_data(&s.test));
    let n = 10;
    let settings = E4Settings { steps: vec![n], draws: 2, ..E4Settings::default() };
    let active = IrtTester::new(&s.base, Selector::Active, Estimator::Map).unwrap();
    let irt = crate::e4_loss(&run_e4(&active, &test, &settings), n);
    for kind in ReaderKind::ALL {
        let m = ReaderModel::train_for_tests(kind, &s.irt, &train, &valid, n, &cfg(), &NoProgress).unwrap();
        let name = kind.as_str();
        assert!(m.validation_auc() > 0.6, "{name}: validation AUC {}", m.validation_auc());
        let loss = crate::e4_loss(&run_e4(&ReaderTester::new(m, 1), &test, &settings), n);
        assert!(loss < irt - 0.02, "{name}: {loss:.4}, irt-active {irt:.4}");
    }
}

#[test]
fn a_saved_reader_adapts_as_the_one_in_memory() {
    let data = crate::vendored("assist2009_updated");
    let small = MetaConfig { max_epochs: 2, learner_types: vec![2], ..MetaConfig::default() };
    let spec = ModelSpec::new(ModelName::Irt1pl, 42);
    let m = meta_train(&data, "e5", "protonet", &spec, 1, &small, &NoProgress).unwrap();
    crate::assert_round_trip(&m, &data, 10, 4, &mut |_, _, _| {});
    // A hand-edited profile length is named.
    let field = crate::edited_field(&m, &|j| {
        j["learners"][0]["reader"]["types"][0]["profile"].as_array_mut().unwrap().pop();
    });
    assert_eq!(field, "learners[0].types[0].profile");
}

/// Two types of learner under BKT: one knows the first half of the skills at the start, the
/// other the second half; both learn. Read from ten answers, the RNN and memory readers' per-skill prior
/// and learn rate predict the next answers better than BKT reading the same answers with its
/// own update (which cannot carry what one skill shows to another).
#[test]
fn the_readers_over_bkt_transfer_across_skills() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut b = DatasetBuilder::default();
    let skills: Vec<_> = (0..SKILLS).map(|s| b.skill(&format!("s{s}"))).collect();
    let items: Vec<_> = (0..SKILLS).map(|i| b.item(&format!("q{i}"))).collect();
    for l in 0..480 {
        let student = b.student(&format!("b{l}"));
        let mut known: Vec<bool> = (0..SKILLS).map(|s| (s < SKILLS / 2) == (l % 2 == 0)).collect();
        for time in 0..30 {
            let s = rng.random_range(0..SKILLS);
            let y = rng.random_bool(if known[s] { 0.9 } else { 0.2 });
            b.push_row(student, items[s], &[skills[s]], y, time);
            known[s] |= rng.random_bool(0.1);
        }
    }
    let all = b.finish();
    let idx = |a: usize, n: usize| (a..a + n).collect::<Vec<_>>();
    let (train, valid, test) =
        (all.select_learners(&idx(0, 300)), all.select_learners(&idx(300, 90)), all.select_learners(&idx(390, 90)));
    let training = Training { train: &train, validation: Some((&train, &valid)) };
    let base = fit(&ModelSpec::new(ModelName::Bkt, 42), training, &NoProgress).unwrap();
    let Model::Bkt(bkt) = &base.model else { unreachable!() };
    let (train, valid, test) = (base.ids.remap(&train), base.ids.remap(&valid), base.ids.remap(&test));
    let k = 10;
    let base_reads = query_loss(&test, k, &|support, obs| {
        let st = bkt.replay(support.iter().copied());
        bkt.predict_interaction(&st, obs).get()
    });
    for kind in [ReaderKind::RnnReader, ReaderKind::MemoryReader] {
        let reader =
            attune_meta::readers::BktReader::train_bkt(kind, bkt, &train, &valid, k, &cfg(), &NoProgress).unwrap();
        let loss = query_loss(&test, k, &|support, obs| {
            let a = reader.adapt(support);
            a.model.predict_interaction(&a.state, obs).get()
        });
        let name = kind.as_str();
        assert!(loss < base_reads - 0.02, "{name} {loss:.4}, bkt reading the support {base_reads:.4}");
    }
    // The metric-based learners write Rasch profiles only.
    let err =
        attune_meta::readers::BktReader::train_bkt(ReaderKind::ProtoNet, bkt, &train, &valid, k, &cfg(), &NoProgress);
    assert!(err.is_err());
}

#[test]
fn a_saved_bkt_reader_adapts_as_the_one_in_memory() {
    let data = crate::vendored("assist2009_updated");
    let small = MetaConfig { max_epochs: 2, ..MetaConfig::default() };
    let m = meta_train(&data, "e5", "rnn-reader", &ModelSpec::new(ModelName::Bkt, 42), 1, &small, &NoProgress).unwrap();
    crate::assert_round_trip(&m, &data, 10, 4, &mut |a, _, _| assert_eq!(a.name(), ModelName::Bkt));
    let field = crate::edited_field(&m, &|j| {
        j["learners"][0]["bkt_reader"]["weights"].as_array_mut().unwrap().pop();
    });
    assert_eq!(field, "learners[0].weights");
}

#[test]
fn a_saved_dkt_reader_adapts_as_the_one_in_memory() {
    let data = crate::vendored("assist2009_updated");
    let small = MetaConfig { neural_max_epochs: 1, ..MetaConfig::default() };
    let spec = ModelSpec::new(ModelName::Dkt, 42).with_overrides(&["hidden=16", "max_epochs=1"]).unwrap();
    // The memory reader over DKT trains and adapts too (its file holds the same kind of learner).
    let memory = meta_train(&data, "e5", "memory-reader", &spec, 1, &small, &NoProgress).unwrap();
    assert!(memory.learners[0].learner.validation_auc() > 0.5);
    let m = meta_train(&data, "e5", "rnn-reader", &spec, 1, &small, &NoProgress).unwrap();
    let mut moved = false;
    crate::assert_round_trip(&m, &data, 10, 4, &mut |a, state, support| {
        assert_eq!(a.name(), ModelName::Dkt);
        // The state starts where the reader writes it, not at DKT's zero.
        moved |= *state != m.base.replay(support.iter().copied());
    });
    assert!(moved, "the reader wrote DKT's zero state for every learner");
    let field = crate::edited_field(&m, &|j| {
        j["learners"][0]["dkt_reader"]["weights"].as_array_mut().unwrap().pop();
    });
    assert_eq!(field, "learners[0].weights");
}
