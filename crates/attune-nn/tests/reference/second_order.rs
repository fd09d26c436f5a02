//! MAML's meta-gradient through an LSTM with nested autodiff (`Autodiff<Autodiff<Flex>>`),
//! checked against finite differences in f64.
//!
//! MAML (Finn et al., ICML 2017) adapts θ to a learner with one gradient step on the support
//! answers, θ' = θ − α ∇L_s(θ), and trains θ on the query loss L_q(θ'). Its gradient needs the
//! Hessian-vector product through ∇L_s, which burn computes only when the inner backward pass
//! itself runs on an autodiff backend. burn does not document this, so this test pins it: a
//! burn upgrade that breaks second-order gradients fails here.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use burn::backend::ops::FloatTensorOps;
use burn::backend::{Autodiff, AutodiffBackend, Backend, Flex, Scalar};
use burn::tensor::TensorData;

type Outer = Autodiff<Flex>;
type Inner = Autodiff<Outer>;
type T<B> = <B as burn::backend::BackendTypes>::FloatTensorPrimitive;

const TOKENS: usize = 5;
const HIDDEN: usize = 3;
const SKILLS: usize = 2;
const ALPHA: f64 = 2.0;

/// Flex reads finish at once; poll the future a single time.
fn ready<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a flex read did not complete at once"),
    }
}

fn values<B: Backend>(t: T<B>) -> Vec<f64> {
    ready(B::float_into_data(t)).unwrap().try_to_vec::<f64>().unwrap()
}

fn tensor<B: Backend>(v: Vec<f64>, shape: [usize; 2]) -> T<B> {
    B::float_from_data(TensorData::new(v, shape), &Default::default())
}

/// One learner's answers as dense matrices per step: the one-hot input token `[1, TOKENS]`,
/// the one-hot skill asked next `[1, SKILLS]`, and the answer.
struct Answers {
    steps: Vec<(Vec<f64>, Vec<f64>, f64)>,
}

impl Answers {
    fn new(seq: &[(usize, bool)]) -> Self {
        let steps = seq
            .windows(2)
            .map(|w| {
                let ((s, c), (next, y)) = (w[0], w[1]);
                let mut x = vec![0.0; TOKENS];
                x[s + SKILLS * usize::from(c)] = 1.0;
                let mut q = vec![0.0; SKILLS];
                q[next] = 1.0;
                (x, q, f64::from(u8::from(y)))
            })
            .collect();
        Self { steps }
    }
}

/// DKT's loss written over backend primitives, as a function of the parameter set
/// `[table (TOKENS × 4H), w_hh (H × 4H), w_out (H × SKILLS)]`: an LSTM over token rows of the
/// gate table, a logit per skill, binary cross-entropy on the skill asked next.
fn loss<B: Backend>(p: &[T<B>], data: &Answers) -> T<B> {
    let slice = |g: &T<B>, k: usize| {
        let idx = [burn::backend::Slice::from(0..1), burn::backend::Slice::from(k * HIDDEN..(k + 1) * HIDDEN)];
        B::float_slice(g.clone(), &idx)
    };
    let sigmoid = |x: T<B>| {
        B::float_add_scalar(
            B::float_mul_scalar(B::float_tanh(B::float_mul_scalar(x, Scalar::Float(0.5))), Scalar::Float(0.5)),
            Scalar::Float(0.5),
        )
    };
    let mut h = tensor::<B>(vec![0.0; HIDDEN], [1, HIDDEN]);
    let mut c = tensor::<B>(vec![0.0; HIDDEN], [1, HIDDEN]);
    let mut total = tensor::<B>(vec![0.0], [1, 1]);
    for (x, q, y) in &data.steps {
        let x = tensor::<B>(x.clone(), [1, TOKENS]);
        let gates = B::float_add(B::float_matmul(x, p[0].clone()), B::float_matmul(h, p[1].clone()));
        let (i, f, g, o) = (
            sigmoid(slice(&gates, 0)),
            sigmoid(slice(&gates, 1)),
            B::float_tanh(slice(&gates, 2)),
            sigmoid(slice(&gates, 3)),
        );
        c = B::float_add(B::float_mul(f, c), B::float_mul(i, g));
        h = B::float_mul(o, B::float_tanh(c.clone()));
        let logits = B::float_matmul(h.clone(), p[2].clone());
        let z = B::float_sum_dim(B::float_mul(logits, tensor::<B>(q.clone(), [1, SKILLS])), 1);
        // softplus(z) − y·z
        let softplus = B::float_log1p(B::float_exp(z.clone()));
        total = B::float_add(total, B::float_sub(softplus, B::float_mul_scalar(z, Scalar::Float(*y))));
    }
    B::float_div_scalar(total, Scalar::Float(data.steps.len() as f64))
}

fn shapes() -> [[usize; 2]; 3] {
    [[TOKENS, 4 * HIDDEN], [HIDDEN, 4 * HIDDEN], [HIDDEN, SKILLS]]
}

fn params<B: Backend>(flat: &[f64]) -> Vec<T<B>> {
    let mut at = 0;
    shapes()
        .iter()
        .map(|&[r, c]| {
            let t = tensor::<B>(flat[at..at + r * c].to_vec(), [r, c]);
            at += r * c;
            t
        })
        .collect()
}

/// ∇L_s at `flat`, computed on a first-order autodiff backend.
fn support_gradient(flat: &[f64], support: &Answers) -> Vec<f64> {
    let p: Vec<T<Outer>> = params::<Outer>(flat).into_iter().map(|t| Outer::float_set_require_grad(t, true)).collect();
    let grads = Outer::backward(loss::<Outer>(&p, support));
    p.iter().flat_map(|t| values::<Flex>(Outer::grad(t, &grads).unwrap())).collect()
}

/// The meta-objective L_q(θ − α ∇L_s(θ)) in plain f64 arithmetic around burn.
fn meta_objective(flat: &[f64], support: &Answers, query: &Answers) -> f64 {
    let g = support_gradient(flat, support);
    let adapted: Vec<f64> = flat.iter().zip(&g).map(|(p, g)| p - ALPHA * g).collect();
    values::<Flex>(loss::<Flex>(&params::<Flex>(&adapted), query))[0]
}

#[test]
fn maml_meta_gradient_through_an_lstm_matches_finite_differences() {
    let support = Answers::new(&[(0, true), (1, false), (0, true), (1, true), (0, false)]);
    let query = Answers::new(&[(1, false), (0, true), (1, true), (1, false)]);
    let n: usize = shapes().iter().map(|[r, c]| r * c).sum();
    let flat: Vec<f64> = (0..n).map(|k| 0.8 * ((k as f64 * 1.37).sin() + 0.3 * (k as f64 * 0.61).cos())).collect();

    // Exact: the inner backward runs on Autodiff<Autodiff<Flex>>, so its result is an
    // Autodiff<Flex> tensor that remembers how it depends on θ.
    let theta: Vec<T<Outer>> =
        params::<Outer>(&flat).into_iter().map(|t| Outer::float_set_require_grad(t, true)).collect();
    let lifted: Vec<T<Inner>> =
        theta.iter().map(|t| Inner::float_set_require_grad(Inner::from_inner(t.clone()), true)).collect();
    let inner_grads = Inner::backward(loss::<Inner>(&lifted, &support));
    let adapted: Vec<T<Outer>> = theta
        .iter()
        .zip(&lifted)
        .map(|(t, l)| {
            Outer::float_sub(
                t.clone(),
                Outer::float_mul_scalar(Inner::grad(l, &inner_grads).unwrap(), Scalar::Float(ALPHA)),
            )
        })
        .collect();
    let outer_grads = Outer::backward(loss::<Outer>(&adapted, &query));
    let exact: Vec<f64> = theta.iter().flat_map(|t| values::<Flex>(Outer::grad(t, &outer_grads).unwrap())).collect();

    // First-order MAML drops the Hessian term: ∇L_q evaluated at θ'.
    let g = support_gradient(&flat, &support);
    let adapted_flat: Vec<f64> = flat.iter().zip(&g).map(|(p, g)| p - ALPHA * g).collect();
    let first_order = support_gradient(&adapted_flat, &query);

    let eps = 1e-5;
    let mut worst: f64 = 0.0;
    let mut hessian_term: f64 = 0.0;
    for k in 0..n {
        let bump = |d: f64| {
            let mut q = flat.clone();
            q[k] += d;
            meta_objective(&q, &support, &query)
        };
        let fd = (bump(eps) - bump(-eps)) / (2.0 * eps);
        worst = worst.max((exact[k] - fd).abs() / (1e-6 + fd.abs()));
        hessian_term = hessian_term.max((first_order[k] - fd).abs());
        assert!(
            (exact[k] - fd).abs() < 1e-7 + 1e-5 * fd.abs(),
            "θ[{k}]: autodiff {} vs finite difference {fd}",
            exact[k]
        );
    }
    // The check must be able to fail: the second-order term is far above the tolerance.
    assert!(hessian_term > 1e-3, "second-order term too small to test ({hessian_term})");
    assert!(worst < 1e-4, "worst relative error {worst}");
}
