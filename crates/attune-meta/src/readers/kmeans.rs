//! k-means with k-means++ seeding (Arthur & Vassilvitskii, SODA 2007), the clustering the
//! prototypical network's learner types start from, and the adjusted Rand index (Hubert &
//! Arabie, 1985) its tests score them with.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The cluster of each point and the centres, `k` clusters (fewer points: one each),
/// Lloyd's iterations from k-means++ seeds, the best of `restarts` by within-cluster sum.
pub(crate) fn kmeans(points: &[Vec<f64>], k: usize, restarts: usize, seed: u64) -> (Vec<usize>, Vec<Vec<f64>>) {
    let k = k.min(points.len()).max(1);
    let mut best: Option<(f64, Vec<usize>, Vec<Vec<f64>>)> = None;
    for r in 0..restarts.max(1) {
        let mut rng = StdRng::seed_from_u64(seed.wrapping_add(r as u64));
        let (assign, centres) = lloyd(points, seeds(points, k, &mut rng));
        let cost: f64 = points.iter().zip(&assign).map(|(p, &c)| dist2(p, &centres[c])).sum();
        if best.as_ref().is_none_or(|b| cost < b.0) {
            best = Some((cost, assign, centres));
        }
    }
    best.map(|(_, a, c)| (a, c)).unwrap_or_default()
}

fn seeds(points: &[Vec<f64>], k: usize, rng: &mut StdRng) -> Vec<Vec<f64>> {
    let Some(first) = points.get(rng.random_range(0..points.len().max(1))) else { return Vec::new() };
    let mut centres = vec![first.clone()];
    let mut d: Vec<f64> = points.iter().map(|p| dist2(p, first)).collect();
    while centres.len() < k {
        let total: f64 = d.iter().sum();
        let next = if total > 0.0 {
            let mut u = rng.random_range(0.0..total);
            d.iter().position(|&x| {
                u -= x;
                u <= 0.0
            })
        } else {
            None
        };
        let c = points[next.unwrap_or(centres.len() % points.len())].clone();
        for (d, p) in d.iter_mut().zip(points) {
            *d = d.min(dist2(p, &c));
        }
        centres.push(c);
    }
    centres
}

fn lloyd(points: &[Vec<f64>], mut centres: Vec<Vec<f64>>) -> (Vec<usize>, Vec<Vec<f64>>) {
    let mut assign = vec![usize::MAX; points.len()];
    for _ in 0..100 {
        let mut changed = false;
        for (a, p) in assign.iter_mut().zip(points) {
            let c = (0..centres.len())
                .min_by(|&i, &j| dist2(p, &centres[i]).total_cmp(&dist2(p, &centres[j])))
                .unwrap_or(0);
            changed |= *a != c;
            *a = c;
        }
        if !changed {
            break;
        }
        for (c, centre) in centres.iter_mut().enumerate() {
            let members: Vec<&Vec<f64>> =
                points.iter().zip(&assign).filter(|(_, a)| **a == c).map(|(p, _)| p).collect();
            if members.is_empty() {
                continue;
            }
            centre.fill(0.0);
            for p in &members {
                centre.iter_mut().zip(p.iter()).for_each(|(c, x)| *c += x);
            }
            centre.iter_mut().for_each(|c| *c /= members.len() as f64);
        }
    }
    (assign, centres)
}

/// The adjusted Rand index of two labelings of the same points: 1 for identical partitions
/// (up to renaming), about 0 for independent ones.
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> f64 {
    let n = a.len().min(b.len());
    let (ka, kb) = (a.iter().max().map_or(0, |m| m + 1), b.iter().max().map_or(0, |m| m + 1));
    let mut table = vec![0u64; ka * kb];
    for i in 0..n {
        table[a[i] * kb + b[i]] += 1;
    }
    let pairs = |x: u64| (x * x.saturating_sub(1)) as f64 / 2.0;
    let index: f64 = table.iter().map(|&x| pairs(x)).sum();
    let rows: f64 = (0..ka).map(|i| pairs(table[i * kb..(i + 1) * kb].iter().sum())).sum();
    let cols: f64 = (0..kb).map(|j| pairs((0..ka).map(|i| table[i * kb + j]).sum())).sum();
    let total = pairs(n as u64);
    let expected = rows * cols / total.max(1.0);
    let max = (rows + cols) / 2.0;
    if (max - expected).abs() < 1e-12 { 1.0 } else { (index - expected) / (max - expected) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rand_index_of_equal_and_renamed_partitions_is_one() {
        assert!((adjusted_rand_index(&[0, 0, 1, 1, 2], &[2, 2, 0, 0, 1]) - 1.0).abs() < 1e-12);
        let ari = adjusted_rand_index(&[0, 0, 0, 1, 1, 1], &[0, 1, 0, 1, 0, 1]);
        assert!(ari < 0.1, "{ari}");
    }

    #[test]
    fn kmeans_separates_clear_clusters() {
        let pts: Vec<Vec<f64>> =
            (0..30).map(|i| vec![f64::from(i % 3) * 10.0 + f64::from(i) * 0.01, f64::from(i % 3)]).collect();
        let truth: Vec<usize> = (0..30).map(|i| i % 3).collect();
        let (assign, centres) = kmeans(&pts, 3, 3, 7);
        assert_eq!(centres.len(), 3);
        assert!((adjusted_rand_index(&assign, &truth) - 1.0).abs() < 1e-12);
    }
}
