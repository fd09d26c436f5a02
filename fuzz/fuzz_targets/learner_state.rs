//! Learner states: any bytes decode to a state or an error, never a panic, for a small model
//! of every kind (BKT first). A state that decodes predicts, updates and reports mastery
//! without panicking, and encodes to bytes that decode to the same state.
#![no_main]

use std::sync::OnceLock;

use attune_core::{DatasetBuilder, Interaction, ItemId, KnowledgeTracer, NoProgress, SkillId, StudentId};
use attune_models::{FittedModel, ModelName, ModelSpec, Training, UNKNOWN_ITEM, fit};
use libfuzzer_sys::fuzz_target;

/// Small settings for the neural models, so that fitting them once takes a moment.
fn overrides(name: ModelName) -> &'static [&'static str] {
    match name {
        ModelName::Dkt => &["embedding=4", "hidden=4", "max_epochs=1", "window=8"],
        ModelName::Dkvmn => &["embedding=4", "slots=2", "max_epochs=1", "window=8"],
        ModelName::Sakt => &["embedding=4", "heads=2", "max_epochs=1", "window=8"],
        ModelName::Akt => &["embedding=4", "heads=2", "ff=4", "fc=[4,4]", "max_epochs=1", "window=8"],
        _ => &[],
    }
}

/// One model of each kind, fitted once on a tiny log: 4 learners, 3 items, 2 skills.
fn models() -> &'static [FittedModel] {
    static MODELS: OnceLock<Vec<FittedModel>> = OnceLock::new();
    MODELS.get_or_init(|| {
        let mut b = DatasetBuilder::default();
        for (learner, answers) in [("a", "0110"), ("b", "0011"), ("c", "1111"), ("d", "0101")] {
            let s = b.student(learner);
            for (t, c) in answers.chars().enumerate() {
                let (item, skill) = (b.item(["q1", "q2", "q3"][t % 3]), b.skill(["add", "sub"][t % 2]));
                b.push_row(s, item, &[skill], c == '1', t as i64);
            }
        }
        let data = b.finish();
        let mut names = vec![ModelName::Bkt];
        names.extend(ModelName::ALL.into_iter().filter(|&n| n != ModelName::Bkt));
        names
            .into_iter()
            .map(|name| {
                let spec = ModelSpec::new(name, 1).with_overrides(overrides(name)).expect("small settings");
                fit(&spec, Training { train: &data, validation: None }, &NoProgress).expect("a tiny fit")
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    for model in models() {
        let Ok(mut state) = model.decode_state(data) else { continue };
        for item in [ItemId(0), ItemId(1), ItemId(2), UNKNOWN_ITEM] {
            assert!(model.predict(&state, item).is_valid(), "{}", model.name());
        }
        assert_eq!(model.mastery_profile(&state).len(), model.ids.n_skills());
        let again = model.decode_state(&model.encode_state(&state));
        assert_eq!(again.ok().as_ref(), Some(&state), "{}: a decoded state does not encode to itself", model.name());
        for (t, (item, skill)) in [(0, 0), (1, 1), (u32::MAX, u32::MAX)].into_iter().enumerate() {
            let skills = [SkillId(skill)];
            let obs =
                Interaction { student: StudentId(0), item: ItemId(item), skills: &skills, correct: t != 1, time: 0 };
            model.update(&mut state, &obs);
            assert!(model.predict(&state, ItemId(0)).is_valid(), "{}", model.name());
        }
        let _ = model.mastery_profile(&state);
    }
});
