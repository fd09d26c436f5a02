//! Degenerate training data must fit and predict finite values for every model (DESIGN §6),
//! asserted on the raw fitted values; empty data and cancellation are errors, not panics.

use attune_core::{Dataset, DatasetBuilder, NoProgress, Progress};
use attune_kt::Error as KtError;
use attune_models::{Error, Model, ModelName, Training, fit};

use crate::small;

/// Learners with one answer, a skill everyone gets right, a skill everyone gets wrong, an
/// item with no skill, and a multi-skill item.
fn degenerate() -> Dataset {
    let mut b = DatasetBuilder::default();
    let rows: &[(&str, &str, &[&str], bool)] = &[
        ("solo", "easy1", &["easy"], true),
        ("a", "easy1", &["easy"], true),
        ("a", "easy2", &["easy"], true),
        ("a", "hard1", &["hard"], false),
        ("b", "hard1", &["hard"], false),
        ("b", "both", &["easy", "hard"], true),
        ("b", "bare", &[], true),
        ("c", "easy2", &["easy"], true),
        ("d", "hard1", &["hard"], false),
        ("d", "easy1", &["easy"], true),
        ("e", "easy2", &["easy"], true),
        ("e", "hard1", &["hard"], false),
    ];
    for &(s, i, ks, c) in rows {
        let (s, i) = (b.student(s), b.item(i));
        let ks: Vec<_> = ks.iter().map(|k| b.skill(k)).collect();
        b.push_row(s, i, &ks, c, 0);
    }
    b.finish()
}

fn all_finite(name: ModelName, v: impl IntoIterator<Item = f64>) {
    for (k, x) in v.into_iter().enumerate() {
        assert!(x.is_finite(), "{name}: parameter {k} is {x}");
    }
}

/// The fitted values themselves, not only the clamped predictions.
fn raw_values_are_finite(name: ModelName, model: &Model) {
    match model {
        Model::Bkt(m) => all_finite(
            name,
            m.skills.iter().flatten().flat_map(|p| [p.prior, p.learn, p.forget, p.guess, p.slip, p.log_likelihood]),
        ),
        Model::Irt(m) => all_finite(name, m.difficulty.iter().chain(&m.discrimination).copied()),
        Model::Counts(m) => all_finite(name, m.weights.iter().copied()),
        Model::Elo(m) => all_finite(name, m.difficulty.iter().copied().chain([m.alpha, m.beta, m.train_log_loss])),
        Model::Dkt(m) => m.validate().unwrap(),
        Model::Dkvmn(m) => m.validate().unwrap(),
        Model::Sakt(m) => m.validate().unwrap(),
        Model::Akt(m) => m.validate().unwrap(),
    }
}

#[test]
fn every_model_fits_degenerate_data_with_finite_parameters() {
    let data = degenerate();
    for name in ModelName::ALL {
        let model = fit(&small(name, 1), Training { train: &data, validation: None }, &NoProgress).unwrap();
        raw_values_are_finite(name, &model.model);
        for p in model.predict_dataset(&data) {
            assert!(p.is_valid() && p.get() > 0.0 && p.get() < 1.0, "{name}: {p:?}");
        }
    }
}

/// Every answer the same: the unpenalised intercept of the logistic models has no finite
/// optimum, so the fits must stop on their own with finite parameters.
#[test]
fn every_model_fits_data_with_a_single_outcome() {
    for outcome in [true, false] {
        let mut b = DatasetBuilder::default();
        for (s, i, k) in [
            ("a", "i1", "k1"),
            ("a", "i2", "k1"),
            ("b", "i1", "k1"),
            ("b", "i3", "k2"),
            ("c", "i3", "k2"),
            ("c", "i1", "k1"),
            ("d", "i2", "k1"),
            ("d", "i3", "k2"),
        ] {
            let (s, i, k) = (b.student(s), b.item(i), b.skill(k));
            b.push_row(s, i, &[k], outcome, 0);
        }
        let data = b.finish();
        for name in ModelName::ALL {
            let model = fit(&small(name, 1), Training { train: &data, validation: None }, &NoProgress).unwrap();
            raw_values_are_finite(name, &model.model);
            for p in model.predict_dataset(&data) {
                assert!(p.is_valid() && p.get() > 0.0 && p.get() < 1.0, "{name}, all {outcome}: {p:?}");
            }
        }
    }
}

#[test]
fn empty_training_sets_are_errors_not_panics() {
    let empty = DatasetBuilder::default().finish();
    for name in ModelName::ALL {
        let e = fit(&small(name, 1), Training { train: &empty, validation: None }, &NoProgress).unwrap_err();
        assert!(matches!(e, Error::EmptyTrainingSet { .. }), "{name}: {e}");
    }
}

struct StopAtOnce;
impl Progress for StopAtOnce {
    fn advance(&self, _: u64) -> bool {
        false
    }
}

#[test]
fn every_fit_can_be_cancelled() {
    let data = degenerate();
    for name in ModelName::ALL {
        let e = fit(&small(name, 1), Training { train: &data, validation: None }, &StopAtOnce).unwrap_err();
        let cancelled = matches!(e, Error::Kt(KtError::Cancelled(_)) | Error::Nn(attune_nn::Error::Cancelled(_)));
        assert!(cancelled, "{name}: {e}");
    }
}

#[test]
fn unknown_model_names_list_the_known_ones() {
    let e = "sakt2".parse::<ModelName>().unwrap_err().to_string();
    assert!(e.contains("unknown model \"sakt2\"") && e.contains("best-lr") && e.contains("akt"), "{e}");
}

/// A seeded fit gives the same model on one thread as on two (and so on any number: the
/// work is split the same way whatever the pool).
#[test]
fn seeded_fits_do_not_depend_on_the_thread_count() {
    let (train, valid, test) = crate::synthetic();
    for name in [ModelName::Dkt, ModelName::Sakt, ModelName::Bkt, ModelName::BestLr] {
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let m =
                    fit(&small(name, 9), Training { train: &train, validation: Some((&train, &valid)) }, &NoProgress)
                        .unwrap();
                m.predict_dataset(&m.ids.remap(&test))
            })
        };
        assert!(run(1) == run(3), "{name}: one thread and three give different models");
    }
}
