//! Model files: any bytes give a model or an error, never a panic. A model that loads
//! predicts, updates and reports mastery without panicking (known and unknown items), its
//! states read back, and it saves to a file that loads again.
#![no_main]

use std::path::Path;

use attune_core::{Interaction, ItemId, KnowledgeTracer, SkillId, StudentId};
use attune_models::{FittedModel, UNKNOWN_ITEM};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = FittedModel::from_json(Path::new("fuzz"), data) else { return };
    let mut s = KnowledgeTracer::initial_state(&m);
    let _ = KnowledgeTracer::predict(&m, &s, ItemId(0));
    let _ = m.mastery_profile(&s);
    // A few answers on the model's first items (with their skills), then on an unknown item
    // tagged with a known and an unknown skill.
    let n_items = u32::try_from(m.ids.n_items()).unwrap_or(u32::MAX);
    for (t, item) in (0..n_items.min(6)).map(ItemId).chain([UNKNOWN_ITEM]).enumerate() {
        let mut skills: Vec<SkillId> =
            m.ids.item_skills.get(item.index()).map(|v| v.iter().map(|&k| SkillId(k)).collect()).unwrap_or_default();
        if item == UNKNOWN_ITEM {
            skills = vec![SkillId(0), SkillId(u32::MAX)];
        }
        let obs = Interaction { student: StudentId(0), item, skills: &skills, correct: t % 3 != 1, time: t as i64 };
        assert!(m.predict_interaction(&s, &obs).is_valid());
        m.update(&mut s, &obs);
    }
    assert!(m.predict(&s, UNKNOWN_ITEM).is_valid());
    assert_eq!(m.mastery_profile(&s).len(), m.ids.n_skills());
    // A state the model reached reads back; the model saves to a file that loads.
    let back = m.decode_state(&m.encode_state(&s));
    assert!(back.is_ok(), "a state the model reached does not read back: {back:?}");
    let again = FittedModel::from_json(Path::new("fuzz"), &m.to_json());
    assert!(again.is_ok(), "a model that loaded saves to a file that does not load: {:?}", again.err());
});
