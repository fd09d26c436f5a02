//! Meta-trained model files: a round trip adapts identically, hand edits get errors naming the
//! field, and no byte damage makes the loader panic.

use attune_core::{KnowledgeTracer, NoProgress};
use attune_meta::{Error, MetaConfig, MetaModel, meta_train};
use attune_models::{ModelName, ModelSpec};
use proptest::prelude::*;

use crate::vendored;

fn small() -> MetaConfig {
    MetaConfig { max_epochs: 2, inner_rates: vec![1.0], finetune_steps: vec![3], ..MetaConfig::default() }
}

fn trained() -> MetaModel {
    let data = vendored("assist2009_updated");
    meta_train(&data, "e5", "maml", &ModelSpec::new(ModelName::Irt1pl, 42), 1, &small(), &NoProgress).unwrap()
}

#[test]
fn a_saved_meta_model_adapts_as_the_one_in_memory() {
    let m = trained();
    assert_eq!(m.learners.iter().map(|s| s.size).collect::<Vec<_>>(), [1, 3, 5, 10]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("maml.json");
    m.save(&path).unwrap();
    let back = MetaModel::load(&path).unwrap();
    let data = back.base.ids.remap(&vendored("assist2009_updated"));
    for rows in data.learners().take(20) {
        let support: Vec<_> = data.interactions(rows.start..(rows.start + 4).min(rows.end)).collect();
        let (a, sa) = m.adapt(&support).unwrap();
        let (b, sb) = back.adapt(&support).unwrap();
        assert_eq!(sa, sb);
        for obs in data.interactions(rows.clone()) {
            assert_eq!(a.predict(&sa, obs.item), b.predict(&sb, obs.item));
        }
    }
    // E5 meta-models do not test; the fitted model they give is an ordinary one.
    assert_eq!(back.protocol, "e5");
}

/// Cold-start tracing of a log: each answer predicted from the earlier ones, by the model
/// adapted afresh at each trained size and traced on between; an E4 tester traces nothing.
#[test]
fn tracing_adapts_at_each_trained_size_and_traces_on_between() {
    let m = trained();
    let data = m.base.ids.remap(&vendored("assist2009_updated"));
    let rows = data.learners().find(|r| r.len() > 12).unwrap();
    let answers: Vec<_> = data.interactions(rows.clone()).collect();
    let (p, _, last) = m.trace(&answers).unwrap();
    assert_eq!(p.len(), answers.len());
    let (prior, s0) = m.adapt(&[]).unwrap();
    assert_eq!(p[0], prior.predict_interaction(&s0, &answers[0]));
    for j in [1, 3, 5, 10] {
        let (a, s) = m.adapt(&answers[..j]).unwrap();
        assert_eq!(p[j], a.predict_interaction(&s, &answers[j]), "answer {j}");
    }
    // Past the largest size the model adapted to ten answers reads on with its own update.
    let (a, mut s) = m.adapt(&answers[..10]).unwrap();
    for obs in &answers[10..] {
        a.update(&mut s, obs);
    }
    assert_eq!(s, last);
    // Every learner of a dataset at once, in row order.
    let (all, finals) = m.trace_dataset(&data).unwrap();
    assert_eq!((all.len(), finals.len()), (data.len(), data.n_learners()));
    assert_eq!(&all[rows.clone()], &p[..]);
    let tester = meta_train(
        &crate::vendored("akt_statics"),
        "e4",
        "biirt-active",
        &ModelSpec::new(ModelName::Irt1pl, 42),
        1,
        &small(),
        &NoProgress,
    )
    .unwrap();
    assert!(tester.trace(&answers[..0]).is_none());
}

#[test]
fn edited_files_name_the_field() {
    let m = trained();
    let json: serde_json::Value = serde_json::from_slice(&m.to_json()).unwrap();
    let check = |edit: &dyn Fn(&mut serde_json::Value), field: &str| {
        let mut j = json.clone();
        edit(&mut j);
        let bytes = serde_json::to_vec(&j).unwrap();
        match MetaModel::from_json(std::path::Path::new("m.json"), &bytes) {
            Err(Error::InvalidFile { field: f, .. }) => assert!(f.starts_with(field), "{f} for {field}"),
            Err(e) => panic!("{field}: {e}"),
            Ok(_) => panic!("{field}: accepted"),
        }
    };
    check(&|j| j["format_version"] = 9.into(), "format_version");
    check(&|j| j["kind"] = "model".into(), "kind");
    check(&|j| j["learners"][1]["tracer"]["difficulty"].as_array_mut().unwrap().truncate(3), "learners[1].difficulty");
    check(&|j| j["learners"][0]["tracer"]["rate_theta"] = (-1.0).into(), "learners[0].rate_item");
    check(&|j| j["learners"][2]["tracer"]["steps"] = 0.into(), "learners[2].steps");
    check(&|j| j["base"]["format_version"] = 1.into(), "base");
    check(&|j| j["learners"] = serde_json::json!([]), "learners");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    /// Truncating or overwriting bytes of a real file gives an error, never a panic.
    #[test]
    fn damaged_files_are_errors(cut in 0.0f64..1.0, at in 0.0f64..1.0, byte in any::<u8>()) {
        thread_local!(static BYTES: Vec<u8> = trained().to_json());
        let mut bytes = BYTES.with(Clone::clone);
        let k = ((bytes.len() - 1) as f64 * at) as usize;
        bytes[k] = byte;
        bytes.truncate(((bytes.len() as f64) * cut) as usize + 1);
        let _ = MetaModel::from_json(std::path::Path::new("m.json"), &bytes);
    }
}

/// An E4 BiNN meta-model (with its selection network) round-trips: the loaded testers ask the
/// same items and predict the same; edited shapes are refused naming the field.
#[test]
fn a_saved_binn_tester_round_trips() {
    use attune_meta::Trained;
    let data = vendored("akt_statics");
    let cfg = MetaConfig { max_epochs: 1, inner_rates: vec![1.0], ..MetaConfig::default() };
    let m =
        meta_train(&data, "e4", "binn-approx", &ModelSpec::new(ModelName::Irt1pl, 42), 1, &cfg, &NoProgress).unwrap();
    assert_eq!(m.learners.iter().map(|s| s.size).collect::<Vec<_>>(), [1, 3, 5, 10]);
    assert!(m.adapt(&[]).is_none(), "an E4 file adapts no tracer");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("binn.json");
    m.save(&path).unwrap();
    let back = MetaModel::load(&path).unwrap();
    let ids = back.base.ids.remap(&data);
    for (a, b) in m.learners.iter().zip(&back.learners) {
        let (Trained::NnTester(a), Trained::NnTester(b)) = (&a.learner, &b.learner) else { panic!("not a BiNN") };
        assert_same_tests(a, b, &ids);
    }
    let check = edit_refused(&m);
    check(&|j| j["learners"][1]["nn_tester"]["w2"].as_array_mut().unwrap().truncate(7), "learners[1].w2");
    check(&|j| j["learners"][0]["nn_tester"]["steps"] = 0.into(), "learners[0].steps");
    check(&|j| j["learners"][2]["nn_tester"]["net"] = serde_json::Value::Null, "learners[2].net");
    check(&|j| j["learners"][3]["nn_tester"]["net"]["b_out"].as_array_mut().unwrap().truncate(1), "learners[3].net");
}

/// Two testers ask the same items of the first five learners of `data` and predict the same
/// after each of four answers.
pub(crate) fn assert_same_tests<T: attune_meta::AdaptiveTester>(a: &T, b: &T, data: &attune_core::Dataset) {
    use rand::SeedableRng;
    for rows in data.learners().take(5) {
        let pool: Vec<attune_core::ItemId> = rows.clone().map(|r| data.items()[r]).collect();
        let (mut sa, mut sb) = (a.start(), b.start());
        for r in rows.clone().take(4) {
            let mut rng = rand::rngs::StdRng::seed_from_u64(1);
            let pick = a.choose(&sa, &pool, &mut rng);
            let mut rng = rand::rngs::StdRng::seed_from_u64(1);
            assert_eq!(pick, b.choose(&sb, &pool, &mut rng));
            a.observe(&mut sa, &data.interaction(r));
            b.observe(&mut sb, &data.interaction(r));
            assert_eq!(a.predict(&sa, pool[0]), b.predict(&sb, pool[0]));
        }
    }
}

/// A check that `m`'s file edited by `edit` is refused naming a field that starts with `field`.
pub(crate) fn edit_refused(m: &MetaModel) -> impl Fn(&dyn Fn(&mut serde_json::Value), &str) {
    let json: serde_json::Value = serde_json::from_slice(&m.to_json()).unwrap();
    move |edit, field| {
        let mut j = json.clone();
        edit(&mut j);
        match MetaModel::from_json(std::path::Path::new("m.json"), &serde_json::to_vec(&j).unwrap()) {
            Err(Error::InvalidFile { field: f, .. }) => assert!(f.starts_with(field), "{f} for {field}"),
            Err(e) => panic!("{field}: {e}"),
            Ok(_) => panic!("{field}: accepted"),
        }
    }
}
