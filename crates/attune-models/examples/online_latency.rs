//! What the service pays per answer, for every model: the time of one `predict` + `update`
//! and the size of the learner's encoded state after 10, 100 and 1,000 answers.
//!
//! ```sh
//! cargo run --release -p attune-models --example online_latency -- data/assist2009_updated
//! ```
//! Models are fitted on the folder's protocol split at their default sizes; the neural models
//! train one epoch only (`max_epochs=1`), which changes their weights, not their cost. The
//! history is the test split's answers one after another, as one learner.

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use attune_core::{KnowledgeTracer, NoProgress};
use attune_data::{DatasetFolder, FolderKind, Protocol};
use attune_models::{ModelName, ModelSpec, Training, fit};

const CHECKPOINTS: [usize; 3] = [10, 100, 1000];
/// Answers timed at each checkpoint (their mean is reported).
const TIMED: usize = 200;

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "data/assist2009_updated".into());
    let folder = DatasetFolder::open(path.as_ref()).unwrap();
    let protocol = match folder.kind {
        FolderKind::Dkvmn { .. } => Protocol::E1,
        FolderKind::Gervet => Protocol::E2,
        FolderKind::Akt { .. } => Protocol::E3,
    };
    let fold = protocol.folds(&folder).unwrap().remove(0);
    let training =
        Training { train: &fold.train, validation: fold.early_stopping.as_ref().map(|e| (&e.train, &e.valid)) };
    println!("| model | µs at 10 | µs at 100 | µs at 1,000 | state bytes at 10 | at 100 | at 1,000 |");
    println!("|---|---|---|---|---|---|---|");
    for name in ModelName::ALL {
        let mut spec = ModelSpec::new(name, 42);
        if name.is_neural() {
            spec = spec.with_overrides(&["max_epochs=1"]).unwrap();
        }
        let model = fit(&spec, training, &NoProgress).unwrap();
        let test = model.ids.remap(&fold.test);
        let history: Vec<_> = (0..test.len().min(CHECKPOINTS[2] + TIMED)).map(|i| test.interaction(i)).collect();
        let mut state = model.initial_state();
        let (mut micros, mut bytes) = (Vec::new(), Vec::new());
        let mut t = 0;
        for &n in &CHECKPOINTS {
            while t < n {
                model.update(&mut state, &history[t]);
                t += 1;
            }
            bytes.push(model.encode_state(&state).len());
            // The next answers, each predicted then folded in, on a copy of the state.
            let mut s = state.clone();
            let start = Instant::now();
            for obs in &history[n..n + TIMED] {
                black_box(model.predict_interaction(&s, obs));
                model.update(&mut s, obs);
            }
            micros.push(start.elapsed().as_secs_f64() * 1e6 / TIMED as f64);
        }
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {} | {} | {} |",
            micros[0], micros[1], micros[2], bytes[0], bytes[1], bytes[2]
        );
    }
}
