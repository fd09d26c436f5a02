//! `attune predict`: apply a model file to a log: each answer's probability from the
//! learner's earlier answers, with the log's own ids, and optionally every learner's mastery.
//! A meta-trained model (`attune meta-train`) adapts to each learner from their first answers
//! as they come (cold-start tracing, [`attune_meta::MetaModel::trace`]).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use attune_meta::MetaModel;
use attune_models::FittedModel;

use crate::log::LogFlags;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// A model file written by `attune fit` or `attune eval --save-model`, or a meta-trained
    /// model written by `attune meta-train` (E5 learners and E4 readers and strategies adapt
    /// to each learner from their first answers).
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

/// Just the `kind` of a model file, to tell a meta-trained one from an ordinary one.
#[derive(serde::Deserialize)]
struct Kind {
    kind: Option<String>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.model).with_context(|| format!("reading {}", args.model.display()))?;
    let meta = serde_json::from_slice::<Kind>(&bytes).ok().and_then(|k| k.kind).as_deref() == Some("attune-meta");
    let (meta, model) = if meta {
        let m = MetaModel::from_json(&args.model, &bytes)?;
        let base = m.base.clone();
        (Some(m), base)
    } else {
        (None, FittedModel::from_json(&args.model, &bytes)?)
    };
    drop(bytes);
    let log = args.flags.read(&args.log)?;
    let data = model.ids.remap(&log);
    let (p, finals) = match &meta {
        Some(m) => {
            let (p, finals) = m.trace_dataset(&data).with_context(|| {
                format!(
                    "{}: an E4 tester ({}) chooses a test's items and traces no learner (attune eval --protocol e4 runs its tests)",
                    args.model.display(),
                    m.model
                )
            })?;
            (p, Some(finals))
        }
        None => (model.predict_dataset(&data), None),
    };
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
    let name = meta
        .as_ref()
        .map_or_else(|| model.name().as_str().to_owned(), |m| format!("{} over {}", m.model, model.name().as_str()));
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{name}: {} answers of {} learners ({unknown} on items the model has not seen); AUC {:.4}, accuracy {:.4}",
        data.len(),
        data.n_learners(),
        metrics.auc,
        metrics.accuracy
    )?;
    writeln!(out, "wrote {}", args.out.display())?;
    if let Some(path) = &args.mastery {
        let profiles: Vec<Vec<Option<attune_core::Probability>>> = match &finals {
            Some(finals) => finals.iter().map(|(m, state)| model.mastery_profile_of(m, state)).collect(),
            None => model.final_states(&data).iter().map(|state| model.mastery_profile(state)).collect(),
        };
        write_mastery(&model, &data, &profiles, path)?;
        writeln!(out, "wrote {}", path.display())?;
    }
    Ok(())
}

fn write_mastery(
    model: &FittedModel,
    data: &attune_core::Dataset,
    profiles: &[Vec<Option<attune_core::Probability>>],
    path: &std::path::Path,
) -> anyhow::Result<()> {
    if model.ids.n_skills() == 0 {
        anyhow::bail!("--mastery: {} was fitted on data without skills", model.name());
    }
    let mut w = csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
    let header: Vec<&str> = std::iter::once("learner").chain(model.ids.skills.iter().map(String::as_str)).collect();
    w.write_record(&header)?;
    let v = data.vocab();
    for (rows, profile) in data.learners().zip(profiles) {
        let learner = v.students.name(data.students()[rows.start].0).unwrap_or_default();
        let mut record = vec![learner.to_owned()];
        record.extend(profile.iter().map(|m| m.map(|p| format!("{:.6}", p.get())).unwrap_or_default()));
        w.write_record(&record)?;
    }
    w.flush()?;
    Ok(())
}
