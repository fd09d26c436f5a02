//! Meta-training throughput of second-order MAML over the Rasch model, the task that
//! `bench/peers/l2l_maml_irt.py` runs in PyTorch + learn2learn: every learner of a DKVMN
//! dataset folder is a task (support: the first 5 answers, query: the next 20), 5 inner
//! steps of rate 0.3 on the mean support loss, Adam 0.01 on (θ₀, b), meta-batches of 32; the
//! difficulties start at each item's smoothed logit of its wrong rate, θ₀ at 0 (as the peer).
//!
//! ```sh
//! cargo run --release -p attune-meta --example maml_throughput -- ../shared/data/assist2009_updated 3
//! ```
//! Prints tasks per second over the given number of epochs (validation excluded), and the
//! query AUC of the last epoch's tasks after adaptation.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::PathBuf;
use std::time::Instant;

use attune_core::metrics;
use attune_data::DatasetFolder;
use attune_meta::inner::{Order, Task, meta_gradient, trajectory};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().unwrap_or_else(|| "data/assist2009_updated".into()));
    let epochs: usize = args.next().map_or(3, |s| s.parse().unwrap());
    let data = DatasetFolder::open(&path).unwrap().read_all().unwrap();
    let n = data.vocab().n_items();
    let (mut right, mut seen) = (vec![1.0; n], vec![2.0; n]);
    for (i, &c) in data.items().iter().zip(data.correct()) {
        right[i.index()] += f64::from(u8::from(c));
        seen[i.index()] += 1.0;
    }
    let (k, q, steps, rate, batch) = (5usize, 20usize, 5usize, 0.3f64, 32usize);
    let tasks: Vec<Task> = data
        .learners()
        .filter(|r| r.len() > k)
        .map(|r| {
            let pairs =
                |r: std::ops::Range<usize>| r.map(|i| (data.items()[i].0, data.correct()[i])).collect::<Vec<_>>();
            Task::new(&pairs(r.start..r.start + k), &pairs(r.start + k..r.end.min(r.start + k + q)), false)
        })
        .collect();
    let mut x: Vec<f64> = std::iter::once(0.0).chain((0..n).map(|i| -(right[i] / (seen[i] - right[i])).ln())).collect();
    let (mut m, mut v) = (vec![0.0; n + 1], vec![0.0; n + 1]);
    let mut order: Vec<usize> = (0..tasks.len()).collect();
    let mut rng = StdRng::seed_from_u64(42);
    let mut t = 0;
    let start = Instant::now();
    for _ in 0..epochs {
        order.shuffle(&mut rng);
        for chunk in order.chunks(batch) {
            let mut g = vec![0.0; n + 1];
            for &i in chunk {
                let task = &tasks[i];
                let psi0: Vec<f64> =
                    std::iter::once(x[0]).chain(task.slots.iter().map(|&s| x[1 + s as usize])).collect();
                let rates = vec![rate; psi0.len()];
                let (_, psi_bar, _) = meta_gradient(task, psi0, &rates, steps, &x[1..], Order::Second, |item, d| {
                    g[1 + item as usize] += d
                });
                g[0] += psi_bar[0];
                for (j, &s) in task.slots.iter().enumerate() {
                    g[1 + s as usize] += psi_bar[1 + j];
                }
            }
            t += 1;
            let (c1, c2) = (1.0 - 0.9f64.powi(t), 1.0 - 0.999f64.powi(t));
            for j in 0..=n {
                let gj = g[j] / chunk.len() as f64;
                m[j] = 0.9 * m[j] + 0.1 * gj;
                v[j] = 0.999 * v[j] + 0.001 * gj * gj;
                x[j] -= 0.01 * (m[j] / c1) / ((v[j] / c2).sqrt() + 1e-8);
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let (mut p, mut y) = (Vec::new(), Vec::new());
    for task in &tasks {
        let psi0: Vec<f64> = std::iter::once(x[0]).chain(task.slots.iter().map(|&s| x[1 + s as usize])).collect();
        let psi = trajectory(task, psi0.clone(), &vec![rate; psi0.len()], steps, false).pop().unwrap();
        for &(item, slot, c) in &task.query {
            let b = slot.map_or(x[1 + item as usize], |s| psi[1 + s as usize]);
            p.push(attune_core::sigmoid(psi[0] - b));
            y.push(c);
        }
    }
    println!(
        "{} tasks x {epochs} epochs in {seconds:.3} s: {:.0} tasks/s; query AUC after adaptation {:.4}",
        tasks.len(),
        (tasks.len() * epochs) as f64 / seconds,
        metrics::auc(&p, &y)
    );
}
