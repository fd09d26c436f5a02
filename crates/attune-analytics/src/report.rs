//! The report: everything computed from one dataset and model, and its files (a
//! self-contained `index.html` with inline SVG charts, plus every table as CSV and JSON).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use attune_core::{Dataset, Progress, SkillId};
use attune_models::{FittedModel, Model, ModelName, ModelSpec, Training};
use serde::Serialize;

use crate::curves::{LearningCurve, PowerLaw, learning_curves};
use crate::items::{ItemStats, SkillStats, item_stats, skill_label, skill_stats};
use crate::profile::{Traces, trace_learners};
use crate::risk::AtRiskRule;
use crate::{Error, Result, charts, html};

/// What to compute and show.
#[derive(Clone, Debug)]
pub struct ReportConfig {
    /// The student model behind mastery and predictions (default BKT).
    pub model: ModelName,
    /// Seed of every fit (default 42).
    pub seed: u64,
    /// Who is at risk.
    pub rule: AtRiskRule,
    /// Learning curves run to this opportunity (default 20).
    pub max_opportunity: u32,
    /// A curve point needs this many answers (default 10).
    pub min_count: u32,
    /// Learners shown in the heat map: at-risk first, then the most active (default 60).
    pub heat_map_learners: usize,
    /// Skills shown in the heat map, the most practised (default 30).
    pub heat_map_skills: usize,
    /// Skill curves drawn beside the pooled one, the most practised (default 6).
    pub curve_skills: usize,
    /// Find learner types with the prototypical network (default on; needs 10 learners).
    pub learner_types: bool,
}

impl Default for ReportConfig {
    fn default() -> Self {
        Self {
            model: ModelName::Bkt,
            seed: 42,
            rule: AtRiskRule::default(),
            max_opportunity: 20,
            min_count: 10,
            heat_map_learners: 60,
            heat_map_skills: 30,
            curve_skills: 6,
            learner_types: true,
        }
    }
}

/// Headline numbers.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The dataset's name.
    pub dataset: String,
    /// The model behind mastery.
    pub model: String,
    /// Learners.
    pub learners: usize,
    /// Answers.
    pub interactions: usize,
    /// Items answered.
    pub items: usize,
    /// Skills practised.
    pub skills: usize,
    /// Share of correct answers.
    pub correct_rate: f64,
    /// Learners the rule flags.
    pub at_risk: usize,
    /// The at-risk rule in words.
    pub at_risk_rule: String,
    /// Median answers per learner.
    pub median_answers: usize,
    /// Total time on task in hours, where the data have timestamps.
    pub time_on_task_hours: Option<f64>,
    /// Power law of the pooled learning curve.
    pub pooled_curve: Option<PowerLaw>,
}

/// A built report.
#[derive(Clone, Debug)]
pub struct Report {
    /// Headline numbers.
    pub summary: Summary,
    /// Learning curves: pooled first, then per skill.
    pub curves: Vec<LearningCurve>,
    /// Per-skill statistics with BKT parameters.
    pub skills: Vec<SkillStats>,
    /// Per-item statistics with 2PL parameters.
    pub items: Vec<ItemStats>,
    /// Per-learner profiles, final mastery and trajectories.
    pub traces: Traces,
    /// Labels of skills by [`SkillId`] index (name and id where the dataset names them).
    pub skill_labels: Vec<String>,
    /// Source ids of skills by [`SkillId`] index.
    pub skill_ids: Vec<String>,
    /// Source ids of items by [`attune_core::ItemId`] index.
    pub item_ids: Vec<String>,
    /// Learner types and each learner's, where asked for and the data have 10 learners.
    pub learner_types: Option<attune_meta::readers::LearnerTypes>,
    config: ReportConfig,
}

impl Report {
    /// Fits the models and computes every table. `names` maps source skill ids to names.
    ///
    /// # Errors
    /// [`Error::Empty`] for an empty dataset, [`Error::Model`] if a fit fails or is cancelled.
    pub fn build(
        data: &Dataset,
        dataset: &str,
        names: &HashMap<String, String>,
        config: &ReportConfig,
        progress: &dyn Progress,
    ) -> Result<Self> {
        if data.is_empty() {
            return Err(Error::Empty);
        }
        let fit = |name: ModelName| -> Result<FittedModel> {
            let spec = ModelSpec::new(name, config.seed);
            Ok(attune_models::fit(&spec, Training { train: data, validation: None }, progress)?)
        };
        let model = fit(config.model)?;
        let learner_types = if config.learner_types && data.n_learners() >= 10 {
            progress.start("finding learner types", 1);
            Some(attune_meta::readers::learner_types(data, config.seed, progress)?)
        } else {
            None
        };
        // Every table reads the data on the model's indices (the same as the data's where the
        // Q-matrix names no item that never occurs).
        let remapped = model.ids.remap(data);
        let data = &remapped;
        // BKT parameters and 2PL item parameters are always reported, whatever drives mastery.
        let bkt = match &model.model {
            Model::Bkt(b) => b.clone(),
            _ => match fit(ModelName::Bkt)?.model {
                Model::Bkt(b) => b,
                _ => return Err(Error::Chart("BKT configuration fitted another model".into())),
            },
        };
        let irt = match fit(ModelName::Irt2pl)?.model {
            Model::Irt(irt) => irt,
            _ => return Err(Error::Chart("IRT configuration fitted another model".into())),
        };
        progress.start("tracing learners", 1);
        let traces = trace_learners(&model, data, &config.rule);
        progress.advance(1);
        let curves = learning_curves(data, config.max_opportunity, config.min_count);
        let skills = skill_stats(&bkt, data, names);
        let items = item_stats(&irt, data);
        let skill_labels = (0..data.vocab().n_skills())
            .map(|k| skill_label(data, names, SkillId(u32::try_from(k).unwrap_or(u32::MAX))))
            .collect();
        let v = data.vocab();
        let skill_ids = (0..v.n_skills()).map(|k| v.skills.name(k as u32).unwrap_or("?").to_owned()).collect();
        let item_ids = (0..v.n_items()).map(|k| v.items.name(k as u32).unwrap_or("?").to_owned()).collect();
        let mut lengths: Vec<usize> = data.learners().map(|r| r.len()).collect();
        lengths.sort_unstable();
        let time = data
            .has_timestamps()
            .then(|| traces.profiles.iter().filter_map(|p| p.time_on_task_seconds).sum::<f64>() / 3600.0);
        let summary = Summary {
            dataset: dataset.to_owned(),
            model: config.model.as_str().to_owned(),
            learners: data.n_learners(),
            interactions: data.len(),
            items: items.len(),
            skills: skills.len(),
            correct_rate: data.correct_rate(),
            at_risk: traces.profiles.iter().filter(|p| p.at_risk.is_some()).count(),
            at_risk_rule: config.rule.describe(),
            median_answers: lengths.get(lengths.len() / 2).copied().unwrap_or(0),
            time_on_task_hours: time,
            pooled_curve: curves.first().and_then(|c| c.fit),
        };
        Ok(Self {
            summary,
            curves,
            skills,
            items,
            traces,
            skill_labels,
            skill_ids,
            item_ids,
            learner_types,
            config: config.clone(),
        })
    }

    /// Each learner's type name, by the learner's source id (empty without learner types).
    pub fn learner_type_names(&self) -> HashMap<&str, &str> {
        let Some(lt) = &self.learner_types else { return HashMap::new() };
        lt.of_learner.iter().filter_map(|(who, t)| Some((who.as_str(), lt.types.get(*t)?.name.as_str()))).collect()
    }

    /// Skill names by source id, where the dataset ships them.
    pub(crate) fn skill_names_by_id(&self) -> HashMap<&str, &str> {
        self.skills.iter().filter_map(|s| Some((s.skill.as_str(), s.name.as_deref()?))).collect()
    }

    /// A skill's label by its source id.
    pub(crate) fn label_of(&self, id: &str) -> String {
        self.skill_ids
            .iter()
            .position(|s| s == id)
            .and_then(|k| self.skill_labels.get(k).cloned())
            .unwrap_or_else(|| id.to_owned())
    }

    fn label(&self, skill: Option<SkillId>) -> String {
        match skill {
            None => "all skills".to_owned(),
            Some(s) => self.skill_labels.get(s.index()).cloned().unwrap_or_else(|| format!("skill {s}")),
        }
    }

    /// The learning-curve chart: pooled curve and the most practised skills'.
    ///
    /// # Errors
    /// [`Error::Chart`].
    pub fn learning_curve_chart(&self) -> Result<String> {
        let mut per_skill: Vec<&LearningCurve> = self.curves.iter().skip(1).filter(|c| c.fit.is_some()).collect();
        per_skill.sort_by_key(|c| std::cmp::Reverse(c.points.iter().map(|p| p.n).sum::<u32>()));
        let shown: Vec<(String, &LearningCurve)> = self
            .curves
            .first()
            .into_iter()
            .chain(per_skill.into_iter().take(self.config.curve_skills))
            .map(|c| (self.label(c.skill), c))
            .collect();
        charts::learning_curves(&shown, "Learning curves: error rate by practice opportunity, with power-law fits")
    }

    /// The learners × skills mastery heat map, its learner and skill labels, and its values.
    ///
    /// # Errors
    /// [`Error::Chart`].
    pub fn heat_map_chart(&self) -> Result<String> {
        let p = &self.traces.profiles;
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by_key(|&k| (p[k].at_risk.is_none(), std::cmp::Reverse(p[k].answers)));
        order.truncate(self.config.heat_map_learners);
        let mut skills: Vec<(usize, u32)> = self.skills.iter().map(|s| (s.id.index(), s.answers)).collect();
        skills.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
        skills.truncate(self.config.heat_map_skills);
        let values: Vec<Vec<Option<f64>>> = order
            .iter()
            .map(|&k| {
                skills
                    .iter()
                    .map(|&(s, _)| self.traces.mastery[k].iter().find(|e| e.0.index() == s).map(|e| e.1))
                    .collect()
            })
            .collect();
        // DKVMN learners are `<file stem>#<record>`: the split and record are enough on an axis.
        let short = |id: &str| id.rsplit('_').next().unwrap_or(id).to_owned();
        let learners: Vec<String> = order
            .iter()
            .map(|&k| format!("{}{}", if p[k].at_risk.is_some() { "! " } else { "" }, short(&p[k].learner)))
            .collect();
        let labels: Vec<String> =
            skills.iter().map(|&(s, _)| self.skill_labels.get(s).cloned().unwrap_or_default()).collect();
        charts::heat_map(
            &learners,
            &labels,
            &values,
            "Mastery by skill (rows) and learner (columns): red 0, yellow 0.5, green 1; grey not practised; ! at risk",
        )
    }

    /// The learner whose trajectory the report draws: the most active learner at risk, or the
    /// most active learner if none is.
    pub fn featured_learner(&self) -> Option<usize> {
        let p = &self.traces.profiles;
        (0..p.len()).max_by_key(|&k| (p[k].at_risk.is_some(), p[k].answers))
    }

    /// The mastery-trajectory chart of [`Report::featured_learner`], for the skills they
    /// practised most.
    ///
    /// # Errors
    /// [`Error::Chart`].
    pub fn trajectory_chart(&self) -> Result<String> {
        let Some(k) = self.featured_learner() else {
            return charts::trajectory(&[], "Mastery trajectory");
        };
        let series: Vec<(String, Vec<(u32, f64)>)> =
            self.traces.mastery_series(k, 6).into_iter().map(|(s, pts)| (self.label(Some(s)), pts)).collect();
        let p = &self.traces.profiles[k];
        let why = if p.at_risk.is_some() { ", at risk" } else { "" };
        charts::trajectory(
            &series,
            &format!("Mastery trajectory of learner {} ({} answers{why})", p.learner, p.answers),
        )
    }

    /// Writes `index.html`, the charts and every table into `dir`; returns the files written.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Encode`] or [`Error::Chart`].
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        for sub in ["charts", "tables"] {
            let d = dir.join(sub);
            std::fs::create_dir_all(&d).map_err(|source| Error::Io { path: d.clone(), source })?;
        }
        let charts = [
            ("learning_curves", self.learning_curve_chart()?),
            ("heat_map", self.heat_map_chart()?),
            ("items", charts::items(&self.items, "Items: 2PL difficulty and discrimination")?),
            ("trajectory", self.trajectory_chart()?),
            (
                "mastery",
                charts::mastery_histogram(
                    &self.traces.profiles.iter().map(|p| p.mean_mastery).collect::<Vec<_>>(),
                    self.config.rule.low_mastery,
                    "Learners by mean mastery",
                )?,
            ),
        ];
        for (name, svg) in &charts {
            written.push(write_file(&dir.join("charts").join(format!("{name}.svg")), svg.as_bytes())?);
        }
        written.extend(crate::tables::write_all(self, &dir.join("tables"))?);
        let page = html::page(self, &charts);
        written.push(write_file(&dir.join("index.html"), page.as_bytes())?);
        Ok(written)
    }
}

pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<PathBuf> {
    std::fs::write(path, bytes).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    Ok(path.to_owned())
}
