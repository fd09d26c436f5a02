//! Learner states: written and read back as data, bounded whatever the history, and defined
//! for ids the model has never seen.

use attune_core::{Interaction, ItemId, KnowledgeTracer, SkillId, StudentId};
use attune_models::{LearnerState, ModelName, UNKNOWN_ITEM};

use crate::fitted;

/// A long history cycling over the model's items, skills as the Q-matrix gives them.
fn history(model: &attune_models::FittedModel, n: usize) -> Vec<(ItemId, Vec<SkillId>, bool)> {
    (0..n)
        .map(|t| {
            let item = (t * 7) % model.ids.n_items();
            let skills = model.ids.item_skills[item].iter().map(|&s| SkillId(s)).collect();
            (ItemId(item as u32), skills, (t * 13) % 5 < 3)
        })
        .collect()
}

fn answer(item: ItemId, skills: &[SkillId], correct: bool) -> Interaction<'_> {
    Interaction { student: StudentId(0), item, skills, correct, time: 0 }
}

#[test]
fn states_round_trip_as_data_and_stay_bounded() {
    for name in ModelName::ALL {
        let (model, _) = fitted(name);
        let mut state = model.initial_state();
        let mut sizes = Vec::new();
        for (t, (item, skills, correct)) in history(&model, 1000).iter().enumerate() {
            model.update(&mut state, &answer(*item, skills, *correct));
            if [10, 100, 1000].contains(&(t + 1)) {
                let bytes = model.encode_state(&state);
                sizes.push(bytes.len());
                let back = model.decode_state(&bytes).unwrap();
                for probe in [ItemId(0), ItemId(1), UNKNOWN_ITEM] {
                    let (a, b) = (model.predict(&state, probe), model.predict(&back, probe));
                    assert!((a.get() - b.get()).abs() < 1e-6, "{name} after {}: {a:?} vs {b:?}", t + 1);
                }
            }
        }
        // Size does not grow with the history once every item was seen (Best-LR keeps a count
        // per item answered; the others a fixed size).
        let (s100, s1000) = (sizes[1] as f64, sizes[2] as f64);
        assert!(s1000 <= 1.5 * s100 + 512.0, "{name}: state of {s100} bytes after 100 answers, {s1000} after 1000");
    }
}

#[test]
fn unknown_items_and_skills_are_defined_and_cheap() {
    for name in ModelName::ALL {
        let (model, _) = fitted(name);
        let mut state = model.initial_state();
        let huge = [SkillId(u32::MAX - 1), SkillId(4_000_000)];
        for t in 0..50 {
            model.update(&mut state, &answer(ItemId(u32::MAX - (t % 3)), &huge, t % 2 == 0));
            let p = model.predict(&state, UNKNOWN_ITEM);
            assert!(p.is_valid() && p.get() > 0.0 && p.get() < 1.0, "{name}: {p:?}");
            assert!(model.model.mastery(&state, SkillId(u32::MAX)).is_none(), "{name}");
        }
        // An answer on unknown ids leaves the encoded state small.
        assert!(model.encode_state(&state).len() < 200_000, "{name}");
    }
}

#[test]
fn foreign_and_edited_states_are_refused() {
    let (bkt, _) = fitted(ModelName::Bkt);
    let (irt, _) = fitted(ModelName::Irt1pl);
    let (sakt, _) = fitted(ModelName::Sakt);
    let s = bkt.encode_state(&bkt.initial_state());
    assert!(irt.decode_state(&s).is_err(), "a BKT state read by IRT");
    assert!(bkt.decode_state(b"{\"v\":1").is_err());
    assert!(bkt.decode_state(&s[..s.len() / 2]).is_err());
    let mut v: serde_json::Value = serde_json::from_slice(&s).unwrap();
    v["state"]["bkt"][0] = 2.0.into();
    assert!(bkt.decode_state(&serde_json::to_vec(&v).unwrap()).is_err(), "P(known) of 2");
    v["v"] = 9.into();
    assert!(bkt.decode_state(&serde_json::to_vec(&v).unwrap()).is_err(), "version 9");
    let mut st = sakt.initial_state();
    for t in 0..7u32 {
        sakt.update(&mut st, &answer(ItemId(t), &[SkillId(t % 3)], true));
    }
    let mut v: serde_json::Value = serde_json::from_slice(&sakt.encode_state(&st)).unwrap();
    v["state"]["sakt"]["answers"][0][0] = 999.into();
    assert!(sakt.decode_state(&serde_json::to_vec(&v).unwrap()).is_err(), "unknown skill in the window");
    v["state"]["sakt"]["answers"][0][0] = 1.into();
    v["state"]["sakt"]["start"] = 3.into();
    assert!(sakt.decode_state(&serde_json::to_vec(&v).unwrap()).is_err(), "a window start it never reaches");
}

#[test]
fn mastery_has_one_meaning_and_bkt_keeps_knowledge() {
    for name in ModelName::ALL {
        let (model, _) = fitted(name);
        let state = model.initial_state();
        let profile = model.mastery_profile(&state);
        assert_eq!(profile.len(), model.ids.n_skills(), "{name}");
        // Mastery is a probability of a right answer: within what the model predicts for
        // the skill's items.
        for (s, m) in profile.iter().enumerate() {
            let Some(m) = m else { continue };
            let items: Vec<usize> =
                (0..model.ids.n_items()).filter(|&i| model.ids.item_skills[i] == [s as u32]).collect();
            if items.is_empty() {
                continue;
            }
            let ps: Vec<f64> = items.iter().map(|&i| model.predict(&state, ItemId(i as u32)).get()).collect();
            let (lo, hi) = ps.iter().fold((1.0f64, 0.0f64), |(lo, hi), &p| (lo.min(p), hi.max(p)));
            assert!(
                m.get() >= lo - 0.15 && m.get() <= hi + 0.15,
                "{name} skill {s}: mastery {} vs items {lo}..{hi}",
                m.get()
            );
        }
        let knowledge = model.knowledge(&state, SkillId(0));
        let is_bkt = matches!(state, LearnerState::Bkt(_));
        assert_eq!(knowledge.is_some(), is_bkt, "{name}: knowledge only for BKT");
    }
}

/// States no update reaches, that would predict NaN (found by fuzzing the decoder).
#[test]
fn unreachable_states_are_refused() {
    let (irt, _) = fitted(ModelName::Irt2pl);
    let bad = br#"{"v":1,"model":"irt2pl","state":{"irt":{"theta":[1.7e308],"precision":[1e-310]}}}"#;
    assert!(irt.decode_state(bad).is_err());
    let bad = br#"{"v":1,"model":"irt2pl","state":{"irt":{"theta":[0.5],"precision":[0.5]}}}"#;
    assert!(irt.decode_state(bad).is_err(), "a precision below the prior's");
    let good = br#"{"v":1,"model":"irt2pl","state":{"irt":{"theta":[0.5],"precision":[3.5]}}}"#;
    assert!(irt.decode_state(good).is_ok());
    let (dkt, _) = fitted(ModelName::Dkt);
    let mut v: serde_json::Value = serde_json::from_slice(&dkt.encode_state(&dkt.initial_state())).unwrap();
    v["state"]["dkt"]["h"][0] = 3.0.into();
    assert!(dkt.decode_state(&serde_json::to_vec(&v).unwrap()).is_err(), "|h| > 1");
}
