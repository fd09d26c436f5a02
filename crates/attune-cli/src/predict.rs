//! `attune predict`: apply a model file to a log: each answer's probability from the
//! learner's earlier answers, with the log's own ids, and optionally every learner's mastery.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use attune_models::FittedModel;

use crate::log::LogFlags;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// A model file written by `attune fit` or `attune eval --save-model`.
    #[arg(long)]
    model: PathBuf,
    /// The log to predict (a dataset folder's split file works as it is).
    #[arg(long)]
    log: PathBuf,
    #[command(flatten)]
    flags: LogFlags,
    /// Predictions CSV: `learner,item,correct,p`, one row per answer in file order (`p` at full
    /// precision).
    #[arg(long)]
    out: PathBuf,
    /// Also write each learner's mastery per skill after their last answer: a learner × skill
    /// table (the probability of a right answer on a typical item of the skill).
    #[arg(long)]
    mastery: Option<PathBuf>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let model = FittedModel::load(&args.model)?;
    let log = args.flags.read(&args.log)?;
    let data = model.ids.remap(&log);
    let p = model.predict_dataset(&data);
    // Rows back in file order.
    let mut order: Vec<usize> = (0..data.len()).collect();
    order.sort_by_key(|&i| data.source_rows()[i]);
    let v = data.vocab();
    let mut w = csv::Writer::from_path(&args.out).with_context(|| format!("writing {}", args.out.display()))?;
    w.write_record(["learner", "item", "correct", "p"])?;
    for &i in &order {
        let learner = v.students.name(data.students()[i].0).unwrap_or_default();
        let item = v.items.name(data.items()[i].0).unwrap_or_default();
        let correct = if data.correct()[i] { "1" } else { "0" };
        w.write_record([learner, item, correct, &p[i].get().to_string()])?;
    }
    w.flush()?;
    let unknown = data.items().iter().filter(|i| i.index() >= model.ids.n_items()).count();
    let metrics = attune_core::metrics::Metrics::compute(&p, data.correct());
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}: {} answers of {} learners ({unknown} on items the model has not seen); AUC {:.4}, accuracy {:.4}",
        model.name(),
        data.len(),
        data.n_learners(),
        metrics.auc,
        metrics.accuracy
    )?;
    writeln!(out, "wrote {}", args.out.display())?;
    if let Some(path) = &args.mastery {
        write_mastery(&model, &data, path)?;
        writeln!(out, "wrote {}", path.display())?;
    }
    Ok(())
}

fn write_mastery(model: &FittedModel, data: &attune_core::Dataset, path: &std::path::Path) -> anyhow::Result<()> {
    if model.ids.n_skills() == 0 {
        anyhow::bail!("--mastery: {} was fitted on data without skills", model.name());
    }
    let states = model.final_states(data);
    let mut w = csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
    let header: Vec<&str> = std::iter::once("learner").chain(model.ids.skills.iter().map(String::as_str)).collect();
    w.write_record(&header)?;
    let v = data.vocab();
    for (rows, state) in data.learners().zip(&states) {
        let learner = v.students.name(data.students()[rows.start].0).unwrap_or_default();
        let mut record = vec![learner.to_owned()];
        record.extend(
            model.mastery_profile(state).iter().map(|m| m.map(|p| format!("{:.6}", p.get())).unwrap_or_default()),
        );
        w.write_record(&record)?;
    }
    w.flush()?;
    Ok(())
}
