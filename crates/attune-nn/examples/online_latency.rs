//! Time of one predict + update of a fitted SAKT, DKVMN or AKT learner state (what the service pays
//! per answer), over 20,000 answers of one learner.
//!
//! `cargo run --release -p attune-nn --example online_latency -- <saved model.json>` (a file
//! written by `attune eval --model sakt|dkvmn|akt --save-model`).

use std::time::Instant;

use attune_core::{Interaction, ItemId, KnowledgeTracer, SkillId, StudentId};
use attune_nn::{Akt, Dkvmn, Sakt};

fn time<T: KnowledgeTracer>(model: &T, n_skills: u32) -> (f64, f64) {
    let mut state = model.initial_state();
    let n: u32 = 20_000;
    let skills: Vec<[SkillId; 1]> = (0..n_skills).map(|k| [SkillId(k)]).collect();
    let t0 = Instant::now();
    let mut acc = 0.0;
    for k in 0..n {
        let s = &skills[(k as usize * 7) % skills.len()];
        let obs = Interaction { student: StudentId(0), item: ItemId(s[0].0), skills: s, correct: k % 3 != 0, time: 0 };
        acc += model.predict_interaction(&state, &obs).get();
        model.update(&mut state, &obs);
    }
    (t0.elapsed().as_secs_f64() / f64::from(n), acc)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: online_latency <saved sakt|dkvmn|akt model.json>")?;
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&path)?)?;
    let (name, (per, acc)) = match file["model"].as_str() {
        Some("sakt") => {
            let m: Sakt = serde_json::from_value(file["weights"].clone())?;
            ("sakt", time(&m, m.n_skills() as u32))
        }
        Some("dkvmn") => {
            let m: Dkvmn = serde_json::from_value(file["weights"].clone())?;
            ("dkvmn", time(&m, m.n_skills() as u32))
        }
        Some("akt") => {
            let m: Akt = serde_json::from_value(file["weights"].clone())?;
            ("akt", time(&m, m.n_skills() as u32))
        }
        other => return Err(format!("not a sakt, dkvmn or akt model file: {other:?}").into()),
    };
    println!("{name}: {:.1} µs per predict + update (checksum {acc:.3})", per * 1e6);
    Ok(())
}
