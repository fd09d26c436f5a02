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
