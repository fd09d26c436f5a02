//! Gradients of every reader against finite differences, and the encoders' order properties.

use attune_kt::{Irt, IrtConfig};

use super::profile::{Answer, SkillRasch};
use super::*;

fn target() -> SkillRasch {
    let base = Irt {
        config: IrtConfig::one_pl(),
        difficulty: vec![-0.8, 0.1, 0.9, -0.3, 0.5, 1.4],
        discrimination: vec![1.0; 6],
        mean_difficulty: 0.3,
    };
    SkillRasch { base, item_skill: vec![0, 0, 1, 1, 2, 2], n_skills: 3, skill_difficulty: vec![-0.35, 0.3, 0.95] }
}

fn a(item: u32, correct: bool, gap: f64) -> Answer {
    Answer { item, skill: item / 2, correct, gap }
}

fn learner(seed: u32) -> Learner {
    let t = target();
    let history: Vec<Answer> =
        (0..12).map(|j| a((j * 5 + seed) % 6, !(j + seed).is_multiple_of(3), f64::from(j % 4))).collect();
    Learner { support: history[..4].to_vec(), query: history[4..].to_vec(), profile: t.fit_profile(&history), history }
}

fn train_set() -> Vec<Learner> {
    (0..12).map(learner).collect()
}

/// The query loss of the reader at its parameters `x` for learner `l`.
fn loss<R: Reader>(r: &R, x: &[f64], l: &Learner, me: Option<usize>) -> f64 {
    let mut r = r.clone();
    r.set_params(x);
    let profile = r.read(&l.support, me, &mut R::Tape::default());
    let mut sink = vec![0.0; profile.len()];
    r.target().query_loss(&profile, &l.support, &l.query, &mut sink)
}

fn check_gradient<R: Reader>(r: &R, name: &str) {
    let l = learner(3);
    let me = Some(1);
    let x = r.params();
    let mut tape = R::Tape::default();
    let profile = r.read(&l.support, me, &mut tape);
    let mut dp = vec![0.0; profile.len()];
    r.target().query_loss(&profile, &l.support, &l.query, &mut dp);
    let mut g = vec![0.0; x.len()];
    r.back(&l.support, &tape, &dp, &mut g);
    let mut checked = 0;
    for j in 0..x.len() {
        let eps = 1e-6;
        let (mut up, mut down) = (x.clone(), x.clone());
        up[j] += eps;
        down[j] -= eps;
        let fd = (loss(r, &up, &l, me) - loss(r, &down, &l, me)) / (2.0 * eps);
        assert!((fd - g[j]).abs() < 1e-6 * (1.0 + fd.abs()), "{name} parameter {j}: analytic {} vs finite {fd}", g[j]);
        checked += usize::from(fd.abs() > 1e-9);
    }
    assert!(checked > 10, "{name}: only {checked} parameters move the loss");
}

#[test]
fn every_trained_reader_has_the_gradient_of_finite_differences() {
    let train = train_set();
    let mut m = Matching::new(target(), 1);
    m.refresh(&train);
    check_gradient(&m, "matching");
    let mut p = ProtoNet::new(target(), &train, 3, 2);
    p.refresh(&train);
    check_gradient(&p, "protonet");
    check_gradient(&MemoryReader::new(target(), &train, 3), "memory-reader");
    check_gradient(&RnnReader::new(target(), &mean_profile(&train, 4), 4), "rnn-reader");
}

/// The Deep Sets encoder gives the same vector whatever the answers' order, and zero for
/// no answer; the RNN reader reads order (and time) and gives the prior for no answer.
#[test]
fn encoders_are_order_free_or_order_aware_as_documented() {
    let t = target();
    let e = Encoder::new(3, 9);
    let answers: Vec<Answer> = (0..6).map(|j| a(j, j % 2 == 0, f64::from(j))).collect();
    let mut reversed = answers.clone();
    reversed.reverse();
    let (z1, z2) = (e.encode(&t, &answers), e.encode(&t, &reversed));
    assert!(z1.iter().zip(&z2).all(|(x, y)| (x - y).abs() < 1e-12));
    assert!(z1.iter().any(|x| x.abs() > 1e-6));
    assert!(e.encode(&t, &[]).iter().all(|&x| x == 0.0));

    let prior = vec![0.2, -0.1, 0.3, 0.0];
    let r = RnnReader::new(t, &prior, 5);
    let mut tape = Default::default();
    assert_eq!(r.read(&[], None, &mut tape), prior);
    let (p1, p2) = (r.read(&answers, None, &mut tape), r.read(&reversed, None, &mut tape));
    assert!(p1.iter().zip(&p2).any(|(x, y)| (x - y).abs() > 1e-6), "the RNN reader ignores order");
}

/// With no answer every metric learner writes the population's profile.
#[test]
fn no_answer_gives_the_population() {
    let train = train_set();
    let prior = mean_profile(&train, 4);
    let mut m = Matching::new(target(), 1);
    m.refresh(&train);
    let got = m.read(&[], None, &mut Default::default());
    assert!(got.iter().zip(&prior).all(|(a, b)| (a - b).abs() < 1e-9), "{got:?} vs {prior:?}");
    let mut p = ProtoNet::new(target(), &train, 3, 2);
    p.refresh(&train);
    let w = p.weights(&[]);
    for (w, t) in w.iter().zip(&p.types) {
        assert!((w - t.share).abs() < 1e-9);
    }
}
