//! Degenerate training data must fit and predict finite values (DESIGN §6).

use attune_core::{Dataset, DatasetBuilder, KnowledgeTracer, NoProgress, Progress};
use attune_kt::{Error, MODEL_NAMES, ModelKind};

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
    ];
    for &(s, i, ks, c) in rows {
        let (s, i) = (b.student(s), b.item(i));
        let ks: Vec<_> = ks.iter().map(|k| b.skill(k)).collect();
        b.push_row(s, i, &ks, c, 0);
    }
    b.finish()
}

#[test]
fn every_model_fits_degenerate_data_and_predicts_finite_values() {
    let data = degenerate();
    for name in MODEL_NAMES {
        let model = ModelKind::from_name(name).unwrap().config(1).fit(&data, &NoProgress).unwrap();
        for p in model.predict_dataset(&data) {
            assert!(p.get().is_finite() && p.get() > 0.0 && p.get() < 1.0, "{name}: {p:?}");
        }
    }
}

#[test]
fn unseen_items_and_skills_get_finite_predictions() {
    let train = degenerate();
    let m = ModelKind::Bkt.config(1).fit(&train, &NoProgress).unwrap();
    let attune_kt::Fitted::Bkt(bkt) = m else { panic!("not bkt") };
    let s = bkt.initial_state();
    let p = bkt.predict(&s, attune_core::ItemId(999));
    assert!((p.get() - train.correct_rate()).abs() < 1e-9);
    assert!(bkt.mastery(&s, attune_core::SkillId(999)).is_none());
}

#[test]
fn empty_training_sets_are_errors_not_panics() {
    let empty = DatasetBuilder::default().finish();
    for name in MODEL_NAMES {
        let e = ModelKind::from_name(name).unwrap().config(1).fit(&empty, &NoProgress).unwrap_err();
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
    for name in MODEL_NAMES {
        let e = ModelKind::from_name(name).unwrap().config(1).fit(&data, &StopAtOnce).unwrap_err();
        assert!(matches!(e, Error::Cancelled(_)), "{name}: {e}");
    }
}

#[test]
fn unknown_model_names_list_the_known_ones() {
    let e = ModelKind::from_name("sakt").unwrap_err().to_string();
    assert!(e.contains("unknown model \"sakt\"") && e.contains("best-lr"), "{e}");
}

/// Every answer the same: the unpenalised intercept of the logistic models has no finite
/// optimum, so the fits must stop on their own and still predict inside (0, 1).
#[test]
fn every_model_fits_data_with_a_single_outcome() {
    for outcome in [true, false] {
        let mut b = DatasetBuilder::default();
        for (s, i, k) in [("a", "i1", "k1"), ("a", "i2", "k1"), ("b", "i1", "k1"), ("b", "i3", "k2"), ("c", "i3", "k2")]
        {
            let (s, i, k) = (b.student(s), b.item(i), b.skill(k));
            b.push_row(s, i, &[k], outcome, 0);
        }
        let data = b.finish();
        for name in MODEL_NAMES {
            let model = ModelKind::from_name(name).unwrap().config(1).fit(&data, &NoProgress).unwrap();
            for p in model.predict_dataset(&data) {
                assert!(p.get().is_finite() && p.get() > 0.0 && p.get() < 1.0, "{name}, all {outcome}: {p:?}");
            }
        }
    }
}
