//! `attune cat`: simulate computerized adaptive tests on an item bank.

use std::io::Write;
use std::path::PathBuf;

use attune_policy::cat::{
    BankModel, CatConfig, CatReport, Estimator, Exposure, ItemBank, Selector, calibrate_sympson_hetter, simulate,
};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ExposureKind {
    /// Always the most informative item.
    None,
    /// A random choice among the --randomesque-k best.
    Randomesque,
    /// Sympson-Hetter, calibrated to --max-exposure.
    SympsonHetter,
}

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Item model of the simulated bank: 2pl or 3pl.
    #[arg(long, default_value = "2pl")]
    bank: BankModel,
    /// Items in the bank.
    #[arg(long, default_value_t = 500)]
    items: usize,
    /// Simulated examinees (abilities drawn from N(0, 1)).
    #[arg(long, default_value_t = 1000)]
    examinees: usize,
    /// Items per test (the most, with --se-stop).
    #[arg(long, default_value_t = 20)]
    length: usize,
    /// Selection rule: random, mfi, kli, active.
    #[arg(long, default_value = "mfi")]
    selector: Selector,
    /// Ability estimator: mle, map, eap.
    #[arg(long, default_value = "eap")]
    estimator: Estimator,
    /// Exposure control.
    #[arg(long, value_enum, default_value = "none")]
    exposure: ExposureKind,
    /// Candidates of randomesque selection.
    #[arg(long, default_value_t = 5)]
    randomesque_k: usize,
    /// Target maximum exposure of Sympson-Hetter.
    #[arg(long, default_value_t = 0.25)]
    max_exposure: f64,
    /// Stop a test once the standard error is at most this.
    #[arg(long)]
    se_stop: Option<f64>,
    /// Seed of the bank, the abilities, the answers and every random choice.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    if args.items == 0 || args.examinees == 0 || args.length == 0 {
        anyhow::bail!("--items, --examinees and --length must be positive");
    }
    if args.length > args.items {
        anyhow::bail!("--length {} exceeds the bank's {} items", args.length, args.items);
    }
    if !(0.0..=1.0).contains(&args.max_exposure) || args.max_exposure == 0.0 {
        anyhow::bail!("--max-exposure must be in (0, 1]");
    }
    let bank = ItemBank::simulate(args.bank, args.items, args.seed);
    let mut config = CatConfig {
        selector: args.selector,
        estimator: args.estimator,
        exposure: Exposure::None,
        length: args.length,
        se_stop: args.se_stop,
        seed: args.seed.wrapping_add(1),
    };
    config.exposure = match args.exposure {
        ExposureKind::None => Exposure::None,
        ExposureKind::Randomesque => Exposure::Randomesque { k: args.randomesque_k.max(1) },
        ExposureKind::SympsonHetter => Exposure::SympsonHetter {
            k: calibrate_sympson_hetter(&bank, &config, args.max_exposure, args.examinees, 10),
        },
    };
    let report = simulate(&bank, &config, args.examinees);
    print(&report, args.length)?;
    if let Some(path) = &args.json {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")?;
    }
    Ok(())
}

fn print(r: &CatReport, length: usize) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "selector {:?}: {} examinees, mean length {:.1}", r.selector, r.examinees, r.mean_length)?;
    writeln!(out, "{:>6} {:>8} {:>8}", "items", "RMSE", "bias")?;
    let mut steps = vec![1, 5, 10, 15, 20, 30, 40, length];
    steps.sort_unstable();
    steps.dedup();
    for l in steps {
        if l <= length
            && let (Some(rmse), Some(bias)) = (r.rmse_at.get(&l), r.bias_at.get(&l))
        {
            writeln!(out, "{l:>6} {rmse:>8.4} {bias:>+8.4}")?;
        }
    }
    writeln!(
        out,
        "max exposure {:.3}, mean overlap {:.3}, unused items {:.1}%",
        r.max_exposure,
        r.mean_overlap,
        100.0 * r.unused_items
    )
}
