//! What a new learner costs: adapting an IRT-based meta-learner to a support set of k answers
//! (E5), and a BiIRT adaptive test of ten items (nine answers read, each re-adapting the
//! ability, and the tenth item chosen from a 16-item pool), and adapting a DKT-based one (all
//! of a 200-unit LSTM's weights, five gradient steps; the cost depends on the shapes only, so
//! the base is fitted for one epoch), and a BKT-based one (the support's skills' four
//! parameters), the metric- and model-based readers (one forward pass) and strategy
//! selection (its features and the chosen candidate's adaptation). `cargo bench -p attune-meta --bench adapt`; the bounds are 1 ms per new
//! learner for IRT- and BKT-based learners, readers and strategies, and 10 ms for DKT-based ones.

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;

use attune_core::{Dataset, NoProgress};
use attune_data::DatasetFolder;
use attune_meta::tasks::e4_data;
use attune_meta::{
    AdaptiveTester, Algorithm, BiIrt, BiPolicy, MetaBkt, MetaConfig, MetaDkt, MetaIrt, MetaLearner, ReaderKind,
    ReaderModel, Strategy, StrategyTester, fit_strategy_bases, parse_strategies, train_strategy_candidates,
    train_test_candidates,
};
use attune_models::{Model, ModelName, ModelSpec, Training, fit};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn data() -> Dataset {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/assist2009_updated");
    DatasetFolder::open(&path).unwrap().read_all().unwrap()
}

fn adapt(c: &mut Criterion) {
    let all = data();
    let n = all.n_learners();
    let train = all.select_learners(&(0..n * 3 / 5).collect::<Vec<_>>());
    let valid = all.select_learners(&(n * 3 / 5..n * 4 / 5).collect::<Vec<_>>());
    let base =
        fit(&ModelSpec::new(ModelName::Irt1pl, 42), Training { train: &train, validation: None }, &NoProgress).unwrap();
    let Model::Irt(irt) = &base.model else { unreachable!() };
    let (train, valid) = (base.ids.remap(&train), base.ids.remap(&valid));
    let cfg = MetaConfig { max_epochs: 3, inner_rates: vec![1.0], finetune_steps: vec![10], ..MetaConfig::default() };
    let history: Vec<_> = valid.interactions(valid.learner_rows(0)).collect();
    let mut group = c.benchmark_group("adapt");
    for algorithm in [Algorithm::FineTune, Algorithm::Maml, Algorithm::MetaSgd] {
        for k in [1usize, 3, 5, 10] {
            let m = MetaIrt::train(algorithm, irt, &train, &valid, k, &cfg, &NoProgress).unwrap();
            let support = &history[..k.min(history.len())];
            group.bench_with_input(BenchmarkId::new(algorithm.as_str(), k), &k, |b, _| {
                b.iter(|| black_box(m.adapt(black_box(support))))
            });
        }
    }
    group.finish();

    let spec = ModelSpec::new(ModelName::Dkt, 42).with_overrides(&["max_epochs=1"]).unwrap();
    let raw = (
        all.select_learners(&(0..n * 3 / 5).collect::<Vec<_>>()),
        all.select_learners(&(n * 3 / 5..n * 4 / 5).collect::<Vec<_>>()),
    );
    let dkt_fit = fit(&spec, Training { train: &raw.0, validation: Some((&raw.0, &raw.1)) }, &NoProgress).unwrap();
    let Model::Dkt(dkt) = &dkt_fit.model else { unreachable!() };
    let (dtrain, dvalid) = (dkt_fit.ids.remap(&raw.0), dkt_fit.ids.remap(&raw.1));
    let dcfg = MetaConfig { finetune_steps: vec![5], neural_inner_rates: vec![0.1], ..MetaConfig::default() };
    let history: Vec<_> = dvalid.interactions(dvalid.learner_rows(0)).collect();
    let mut group = c.benchmark_group("adapt_dkt");
    // Every algorithm adapts with the same steps over the same weights (ANIL's rates are zero
    // off the head, not skipped), so fine-tuning's cost is theirs; it needs no meta-training.
    for k in [1usize, 5, 10] {
        let m = MetaDkt::train(Algorithm::FineTune, dkt, &dtrain, &dvalid, k, &dcfg, &NoProgress).unwrap();
        let support = &history[..k.min(history.len())];
        group.bench_with_input(BenchmarkId::new("finetune", k), &k, |b, _| {
            b.iter(|| black_box(m.adapt(black_box(support))))
        });
    }
    group.finish();

    // BKT: the adapted model is a copy of the whole fitted BKT (its Q-matrix included), so
    // the cost grows with the item count as well as with the support.
    let bkt_fit =
        fit(&ModelSpec::new(ModelName::Bkt, 42), Training { train: &raw.0, validation: None }, &NoProgress).unwrap();
    let Model::Bkt(bkt) = &bkt_fit.model else { unreachable!() };
    let (btrain, bvalid) = (bkt_fit.ids.remap(&raw.0), bkt_fit.ids.remap(&raw.1));
    let history: Vec<_> = bvalid.interactions(bvalid.learner_rows(0)).collect();
    let mut group = c.benchmark_group("adapt_bkt");
    for algorithm in [Algorithm::FineTune, Algorithm::MetaSgd] {
        for k in [1usize, 5, 10] {
            let m = MetaBkt::train(algorithm, bkt, &btrain, &bvalid, k, &cfg, &NoProgress).unwrap();
            let support = &history[..k.min(history.len())];
            group.bench_with_input(BenchmarkId::new(algorithm.as_str(), k), &k, |b, _| {
                b.iter(|| black_box(m.adapt(black_box(support))))
            });
        }
    }
    group.finish();

    // Metric- and model-based learners: one forward pass over the support (memory and
    // prototypes included); the adapted model is a copy of the Rasch model.
    let mut group = c.benchmark_group("adapt_readers");
    let rcfg = MetaConfig { max_epochs: 2, learner_types: vec![4], ..MetaConfig::default() };
    let history: Vec<_> = valid.interactions(valid.learner_rows(0)).collect();
    for kind in ReaderKind::ALL {
        for k in [1usize, 10] {
            let m = ReaderModel::train(kind, irt, &train, &valid, k, &rcfg, &NoProgress).unwrap();
            let support = &history[..k.min(history.len())];
            group.bench_with_input(BenchmarkId::new(kind.as_str(), k), &k, |b, _| {
                b.iter(|| black_box(m.adapt(black_box(support))))
            });
        }
    }
    group.finish();

    // Strategy selection: the features (each base reading the support) and the chosen
    // candidate's adaptation, among the Rasch model, fine-tuning, BKT and PFA.
    let specs = parse_strategies("irt1pl:none,irt1pl:finetune,bkt:none,pfa:none").unwrap();
    let scfg = MetaConfig { strategies: specs.clone(), ..cfg.clone() };
    // Every candidate's base on the same ids: fitted with the same training and validation.
    let training = Training { train: &raw.0, validation: Some((&raw.0, &raw.1)) };
    let sbase = fit(&ModelSpec::new(ModelName::Irt1pl, 42), training, &NoProgress).unwrap();
    let bases = fit_strategy_bases(&specs, &sbase, &raw.0, &raw.1, 42, &NoProgress).unwrap();
    let (strain, svalid) = (sbase.ids.remap(&raw.0), sbase.ids.remap(&raw.1));
    let history: Vec<_> = svalid.interactions(svalid.learner_rows(0)).collect();
    let mut group = c.benchmark_group("adapt_strategy");
    for k in [1usize, 10] {
        let cands = train_strategy_candidates(&specs, &bases, &strain, &svalid, k, &scfg, &NoProgress).unwrap();
        let s = Strategy::train(cands, &svalid, k, 42).unwrap();
        let support = &history[..k.min(history.len())];
        group.bench_with_input(BenchmarkId::new("strategy", k), &k, |b, _| {
            b.iter(|| black_box(s.adapt(black_box(support))))
        });
    }
    group.finish();

    let e4 = e4_data(&all);
    let m = e4.n_learners();
    let (t4, v4) = (
        e4.select_learners(&(0..m * 3 / 5).collect::<Vec<_>>()),
        e4.select_learners(&(m * 3 / 5..m).collect::<Vec<_>>()),
    );
    let (t4, v4) = (base.ids.remap(&t4), base.ids.remap(&v4));
    // A whole test of ten: nine answers read (each re-adapts the ability), the tenth item chosen.
    let mut group = c.benchmark_group("test_of_ten");
    for policy in [BiPolicy::Active, BiPolicy::Approx] {
        let tester = BiIrt::train(irt, policy, &t4, &v4, 10, &cfg, &NoProgress).unwrap();
        let rows = v4.learner_rows(0);
        let pool: Vec<_> = rows.clone().take(16).map(|r| v4.items()[r]).collect();
        let answers: Vec<_> = v4.interactions(rows).take(9).collect();
        group.bench_function(format!("{policy:?}").to_lowercase(), |b| {
            let mut rng = StdRng::seed_from_u64(1);
            b.iter(|| {
                let mut s = tester.start();
                for a in &answers {
                    tester.observe(&mut s, a);
                }
                black_box(tester.choose(&s, &pool, &mut rng))
            });
        });
    }
    // The E4 strategy: IRT-Active's test, every candidate reading each answer (the Rasch
    // model, Meta-SGD and two readers).
    let specs = parse_strategies("irt1pl:none,irt1pl:metasgd,irt1pl:protonet,irt1pl:memory-reader").unwrap();
    let cands = train_test_candidates(&specs, &base, &t4, &v4, 10, &rcfg, &NoProgress).unwrap();
    let strategy = Strategy::train_for_tests(cands, &v4, 10, 42).unwrap();
    let tester = StrategyTester::new(&strategy, 1).unwrap();
    let rows = v4.learner_rows(0);
    let pool: Vec<_> = rows.clone().take(16).map(|r| v4.items()[r]).collect();
    let answers: Vec<_> = v4.interactions(rows).take(9).collect();
    group.bench_function("strategy", |b| {
        let mut rng = StdRng::seed_from_u64(1);
        b.iter(|| {
            let mut s = tester.start();
            for a in &answers {
                tester.observe(&mut s, a);
            }
            black_box(tester.choose(&s, &pool, &mut rng))
        });
    });
    group.finish();
}

criterion_group!(benches, adapt);
criterion_main!(benches);
