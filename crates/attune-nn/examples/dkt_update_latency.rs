//! Time of one incremental DKT update (what the service pays per answer).
//!
//! `cargo run --release -p attune-nn --example dkt_update_latency -- <saved dkt.json>`
//! (a file written by `attune eval --model dkt --save-model`); without a file, a freshly
//! initialised 110-skill, 200-hidden model.

use std::time::Instant;

use attune_core::{Interaction, ItemId, KnowledgeTracer, SkillId, StudentId};
use attune_nn::Dkt;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model: Dkt = match std::env::args().nth(1) {
        Some(path) => {
            let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path)?)?;
            serde_json::from_value(v["weights"].clone())?
        }
        None => {
            let (s, h) = (110usize, 200usize);
            Dkt {
                config: attune_nn::DktConfig::default(),
                n_skills: s,
                hidden: h,
                token_gates: (0..(2 * s + 1) * 4 * h).map(|k| ((k % 97) as f32 - 48.0) / 100.0).collect(),
                w_hh: (0..h * 4 * h).map(|k| ((k % 89) as f32 - 44.0) / 1000.0).collect(),
                w_out: vec![0.01; s * h],
                b_out: vec![0.0; s],
                item_bias: vec![0.0; s],
                item_skill: (0..s as u32).collect(),
                base_rate: 0.6,
                history: Vec::new(),
                skill_ids: Vec::new(),
            }
        }
    };
    let mut state = model.initial_state();
    let n = 100_000;
    let skills: Vec<[SkillId; 1]> = (0..model.n_skills as u32).map(|k| [SkillId(k)]).collect();
    let t0 = Instant::now();
    let mut acc = 0.0;
    for k in 0..n {
        let s = &skills[k % skills.len()];
        let obs = Interaction { student: StudentId(0), item: ItemId(s[0].0), skills: s, correct: k % 3 != 0, time: 0 };
        acc += model.predict_interaction(&state, &obs).get();
        model.update(&mut state, &obs);
    }
    let per = t0.elapsed().as_secs_f64() / n as f64;
    println!("{} hidden units: {:.1} µs per predict + update (checksum {acc:.3})", model.hidden, per * 1e6);
    Ok(())
}
