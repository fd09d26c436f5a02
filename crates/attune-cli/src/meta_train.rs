//! `attune meta-train`: meta-train a cold-start learner on a dataset and write its file.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use attune_data::DatasetFolder;
use attune_meta::{MetaConfig, meta_train};

use crate::cold_start::strategies;
use crate::log::LogFlags;
use crate::progress::Bar;
use crate::training::ModelFlags;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The protocol the learner is for: e4 (adaptive testing) or e5 (cold-start tracing).
    #[arg(long)]
    protocol: String,
    /// Dataset folder, or one log file read with the column flags.
    #[arg(long)]
    dataset: PathBuf,
    /// E4: biirt-random, biirt-active, biirt-mfi, biirt-approx, biirt-unbiased (base irt1pl, or
    /// irt2pl: slopes learned too), binn-random, binn-active,
    /// binn-approx, binn-unbiased, siamese, matching, protonet, rnn-reader, memory-reader,
    /// strategy (its candidates from --strategies);
    /// E5: finetune, maml, fomaml, reptile, metasgd, anil (base irt1pl, dkt, bkt or bkt-forgets), lstm-opt,
    /// siamese, matching, protonet, rnn-reader, memory-reader (base irt1pl), strategy (its candidates
    /// from --strategies). `--config`/`--set` apply to the base.
    #[command(flatten)]
    model: ModelFlags,
    /// The base student model.
    #[arg(long, default_value = "irt1pl")]
    base: String,
    /// `--model strategy`: the candidates it chooses among, `base:adaptation` comma-separated
    /// (defaults as `attune eval --strategies`).
    #[arg(long, value_name = "LIST")]
    strategies: Option<String>,
    /// Which fold of learners trains (1-based of 5; its validation learners select).
    #[arg(long, default_value_t = 1)]
    fold: usize,
    /// Where to write the meta-trained model.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    log: LogFlags,
    /// Hide the progress bar.
    #[arg(long)]
    quiet: bool,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let mut base_flags = args.model.clone();
    base_flags.model.clone_from(&args.base);
    let spec = base_flags.spec().with_context(|| format!("--base {}", args.base))?;
    let data = if args.dataset.is_dir() {
        DatasetFolder::open(&args.dataset)?.read_all().with_context(|| format!("loading {}", args.dataset.display()))?
    } else {
        args.log.read(&args.dataset)?
    };
    let bar = Bar::new(!args.quiet && std::io::stderr().is_terminal());
    let list = args.strategies.as_deref();
    let cfg = MetaConfig {
        seed: args.model.seed,
        strategies: strategies(list, attune_meta::DEFAULT_STRATEGIES)?,
        test_strategies: strategies(list, attune_meta::DEFAULT_TEST_STRATEGIES)?,
        ..MetaConfig::default()
    };
    let model =
        meta_train(&data, &args.protocol.to_ascii_lowercase(), &args.model.model, &spec, args.fold, &cfg, &bar)?;
    bar.finish();
    model.save(&args.out)?;
    for s in &model.learners {
        let auc = s.learner.validation_auc();
        println!("{} size {:>2}: validation AUC {auc:.4}", model.model, s.size);
    }
    println!("wrote {}", args.out.display());
    Ok(())
}
