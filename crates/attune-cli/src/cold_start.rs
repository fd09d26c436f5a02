//! `attune eval --protocol e4|e5`: the cold-start protocols of attune-meta.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use attune_core::Dataset;
use attune_data::DatasetFolder;
use attune_meta::{E4Model, E4Settings, E5Model, E5Run};
use serde::Serialize;

use crate::eval::{Args, EvalProtocol, config_path, write_json};
use crate::progress::Bar;

/// The flags only the cold-start protocols take.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct Flags {
    /// E4/E5: the base student model the tester or meta-learner adapts (`--config`/`--set`
    /// apply to it).
    #[arg(long, default_value = "irt1pl")]
    base: String,
    /// E5: train on random cohorts of N training learners (10 cohorts per fold) instead of the
    /// whole training split.
    #[arg(long, value_name = "N")]
    cohort: Option<usize>,
    /// E5: cohorts per fold with --cohort.
    #[arg(long, default_value_t = 10)]
    cohorts: usize,
    /// E4: test lengths scored (default 1,3,5,10). A length past a learner's pool asks the
    /// whole pool, so `--model irt-random --steps 10,1000` shows how far knowing the ability
    /// can take any tester of that model. Learned testers train one policy per length.
    #[arg(long, value_delimiter = ',', value_name = "N")]
    steps: Vec<usize>,
    /// E4: pool/query draws per test learner.
    #[arg(long, default_value_t = 5)]
    draws: usize,
    /// E4: exposure control, each item drawn among the K best-scored (1: always the best).
    #[arg(long, value_name = "K", default_value_t = 1)]
    randomesque: usize,
    /// E4/E5: bootstrap resamples of each interval (E4: against irt-active; E5: against the
    /// baselines).
    #[arg(long, default_value_t = 1000)]
    resamples: usize,
    /// E4/E5: other testers or learners to run beside on the same folds (and E4 draws), with
    /// paired intervals against each (comma-separated names, e.g. `biirt-approx,protonet` or
    /// `metasgd,lstm-opt`).
    #[arg(long, value_delimiter = ',', value_name = "MODELS")]
    versus: Vec<String>,
    /// `--model strategy`: the candidates it chooses among, `base:adaptation` comma-separated
    /// (E5 default: bkt:none,pfa:none,irt1pl:none,irt1pl:finetune,irt1pl:metasgd,
    /// irt1pl:rnn-reader,dkt:none; E4, every one over irt1pl, default: irt1pl:none,
    /// irt1pl:metasgd,irt1pl:siamese,irt1pl:protonet,irt1pl:memory-reader).
    #[arg(long, value_name = "LIST")]
    strategies: Option<String>,
}

/// The `--strategies` list, or `default`.
pub(crate) fn strategies(list: Option<&str>, default: &str) -> anyhow::Result<Vec<attune_meta::StrategySpec>> {
    attune_meta::parse_strategies(list.unwrap_or(default)).map_err(anyhow::Error::msg).context("--strategies")
}

/// Every answer of a dataset folder (all its splits), or one log file.
fn load(args: &Args) -> anyhow::Result<Dataset> {
    let path: &Path = &args.dataset;
    if path.is_dir() {
        let folder = DatasetFolder::open(path)?;
        Ok(folder.read_all().with_context(|| format!("loading {}", path.display()))?)
    } else {
        args.log.read(path)
    }
}

#[derive(Serialize)]
struct Wrapped<'a, R: Serialize> {
    dataset: String,
    #[serde(flatten)]
    report: &'a R,
}

#[derive(Serialize)]
struct RunConfig<'a> {
    protocol: &'static str,
    dataset: &'a Path,
    model: &'a str,
    base: &'a str,
    seed: u64,
    base_config: serde_json::Value,
    attune_version: &'static str,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let mut base_flags = args.model.clone();
    base_flags.model.clone_from(&args.cold.base);
    let spec = base_flags.spec().with_context(|| format!("--base {}", args.cold.base))?;
    let seed = args.model.seed;
    let data = load(args)?;
    let bar = Bar::new(!args.quiet && std::io::stderr().is_terminal());
    let dataset = args.dataset.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let protocol = if args.protocol == EvalProtocol::E4 { "e4" } else { "e5" };
    let json = match args.protocol {
        EvalProtocol::E4 => {
            let model: E4Model = args.model.model.parse().map_err(anyhow::Error::msg)?;
            if let Some(&n) = args.cold.steps.iter().find(|&&n| n == 0) {
                anyhow::bail!("--steps {n}: a test asks at least one item");
            }
            let mut steps = args.cold.steps.clone();
            steps.sort_unstable();
            steps.dedup();
            let settings = E4Settings {
                steps: if steps.is_empty() { attune_meta::E4_STEPS.to_vec() } else { steps },
                draws: args.cold.draws,
                seed,
                randomesque: args.cold.randomesque,
                resamples: args.cold.resamples,
                strategies: strategies(args.cold.strategies.as_deref(), attune_meta::DEFAULT_TEST_STRATEGIES)?,
                versus: args
                    .cold
                    .versus
                    .iter()
                    .map(|v| v.parse::<E4Model>().map_err(anyhow::Error::msg).context("--versus"))
                    .collect::<anyhow::Result<_>>()?,
            };
            let report = attune_meta::e4(&data, model, &spec, &settings, &args.only_folds, &bar)?;
            bar.finish();
            print_at(&report.model, "n", &report.auc_at, &report.auc_sd_at, &report.accuracy_at)?;
            println!("max exposure {:.3}, test overlap {:.3}", report.max_exposure, report.mean_overlap);
            let mut intervals: Vec<_> = report.vs_irt_active.iter().flatten().collect();
            intervals.sort_by_key(|(n, _)| n.parse::<usize>().unwrap_or(usize::MAX));
            for (n, i) in intervals {
                println!("n = {n:>2} vs irt-active: {:+.4} [{:+.4}, {:+.4}]", i.diff, i.lo, i.hi);
            }
            for v in &args.cold.versus {
                let mut rows: Vec<_> = report.versus.get(v).into_iter().flatten().collect();
                rows.sort_by_key(|(n, _)| n.parse::<usize>().unwrap_or(usize::MAX));
                for (n, i) in rows {
                    println!("n = {n:>2} vs {v}: {:+.4} [{:+.4}, {:+.4}]", i.diff, i.lo, i.hi);
                }
            }
            if let Some(st) = &report.strategy {
                print_strategy(st, "n");
            }
            serde_json::to_value(Wrapped { dataset, report: &report })?
        }
        _ => {
            let model: E5Model = args.model.model.parse().map_err(anyhow::Error::msg)?;
            let mut run = E5Run::new(model, spec.clone(), seed);
            run.cohort = args.cold.cohort;
            run.n_cohorts = args.cold.cohorts;
            run.folds.clone_from(&args.only_folds);
            run.resamples = args.cold.resamples;
            run.meta.strategies = strategies(args.cold.strategies.as_deref(), attune_meta::DEFAULT_STRATEGIES)?;
            run.versus = args
                .cold
                .versus
                .iter()
                .map(|v| v.parse::<E5Model>().map_err(anyhow::Error::msg))
                .collect::<anyhow::Result<_>>()?;
            let report = attune_meta::e5(&data, &run, &bar)?;
            bar.finish();
            for (name, s) in &report.baselines {
                print_at(name, "k", &s.auc_at, &s.auc_sd_at, &s.accuracy_at)?;
            }
            let s = &report.scores;
            print_at(&report.model, "k", &s.auc_at, &s.auc_sd_at, &s.accuracy_at)?;
            let others = report.versus.iter().map(|(n, v)| (n.as_str(), Some(v)));
            for (name, vs) in
                [("none", report.vs_none.as_ref()), ("finetune", report.vs_finetune.as_ref())].into_iter().chain(others)
            {
                let mut rows: Vec<_> = vs.into_iter().flatten().collect();
                rows.sort_by_key(|(k, _)| k.parse::<usize>().unwrap_or(usize::MAX));
                for (k, i) in rows {
                    println!("k = {k}: {} − {name} = {:+.4} [{:+.4}, {:+.4}]", report.model, i.diff, i.lo, i.hi);
                }
            }
            if let Some(st) = &report.strategy {
                print_strategy(st, "k");
            }
            serde_json::to_value(Wrapped { dataset, report: &report })?
        }
    };
    if let Some(path) = &args.json {
        write_json(path, &json)?;
        let cfg = RunConfig {
            protocol,
            dataset: &args.dataset,
            model: &args.model.model,
            base: spec.model.as_str(),
            seed,
            base_config: spec.config.to_json(),
            attune_version: env!("CARGO_PKG_VERSION"),
        };
        write_json(&config_path(path), &cfg)?;
    }
    Ok(())
}

fn print_strategy(st: &attune_meta::StrategyReport, var: &str) {
    let mut ks: Vec<&String> = st.gain.keys().collect();
    ks.sort_by_key(|k| k.parse::<usize>().unwrap_or(usize::MAX));
    for k in ks {
        let g = &st.gain[k];
        println!(
            "{var} = {k}: strategy − best single = {:+.4} [{:+.4}, {:+.4}]; regret {:.4} AUC, {:.4} log-loss; \
             oracle headroom {:.4} AUC",
            g.diff,
            g.lo,
            g.hi,
            st.regret_auc.get(k).copied().unwrap_or(f64::NAN),
            st.regret_log_loss.get(k).copied().unwrap_or(f64::NAN),
            st.headroom_auc.get(k).copied().unwrap_or(f64::NAN),
        );
    }
}

fn print_at(
    model: &str,
    var: &str,
    auc: &std::collections::BTreeMap<String, f64>,
    sd: &std::collections::BTreeMap<String, f64>,
    acc: &std::collections::BTreeMap<String, f64>,
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let mut keys: Vec<&String> = auc.keys().collect();
    keys.sort_by_key(|k| k.parse::<usize>().unwrap_or(usize::MAX));
    for k in keys {
        let s = sd.get(k).copied().unwrap_or(f64::NAN);
        let sd = if s.is_finite() { format!("±{s:.4}") } else { String::new() };
        writeln!(
            out,
            "{model:<12} {var} = {k:>2}  AUC {:.4}{sd}  accuracy {:.4}",
            auc[k],
            acc.get(k).copied().unwrap_or(f64::NAN)
        )?;
    }
    Ok(())
}
