//! The report on vendored real data: files, contents checked against independent
//! computations, and speed.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use attune_analytics::{Report, ReportConfig};
use attune_core::{Dataset, NoProgress};
use attune_data::DatasetFolder;

fn load(name: &str) -> (Dataset, HashMap<String, String>) {
    let f = DatasetFolder::open(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data").join(name)).unwrap();
    (f.read_all().unwrap(), f.skill_names().unwrap())
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn assist2009_report_is_complete_and_its_curve_matches_a_hand_count() {
    let (data, names) = load("assist2009_updated");
    let t0 = Instant::now();
    let report = Report::build(&data, "assist2009_updated", &names, &ReportConfig::default(), &NoProgress).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = report.write(dir.path()).unwrap();
    assert!(t0.elapsed() < Duration::from_secs(60), "took {:?}", t0.elapsed());
    assert_eq!(files.len(), 5 + 8 * 2 + 1);
    assert!(read(&dir.path().join("charts/trajectory.svg")).contains("answer number"));

    // The pooled learning curve's first points, counted independently from the raw columns:
    // the n-th answer of a learner on a skill (every ASSIST2009 answer has one skill).
    let (mut n, mut wrong) = ([0u32; 3], [0u32; 3]);
    for rows in data.learners() {
        let mut seen: HashMap<u32, usize> = HashMap::new();
        for i in rows {
            let k = seen.entry(data.skills(i)[0].0).or_insert(0);
            *k += 1;
            if *k <= 3 {
                n[*k - 1] += 1;
                wrong[*k - 1] += u32::from(!data.correct()[i]);
            }
        }
    }
    let csv = read(&dir.path().join("tables/learning_curves.csv"));
    let pooled: Vec<Vec<&str>> =
        csv.lines().skip(1).filter(|l| l.starts_with("all,")).map(|l| l.split(',').collect()).collect();
    for j in 0..3 {
        assert_eq!(pooled[j][1], (j + 1).to_string());
        assert_eq!(pooled[j][2], n[j].to_string(), "answers at opportunity {}", j + 1);
        assert_eq!(pooled[j][3], wrong[j].to_string(), "errors at opportunity {}", j + 1);
        let rate: f64 = pooled[j][4].parse().unwrap();
        assert!((rate - f64::from(wrong[j]) / f64::from(n[j])).abs() < 1e-12);
    }

    // The heat map names the most practised skill, by its ASSISTments name.
    let top = report.skills.iter().max_by_key(|s| s.answers).unwrap();
    let top_name = top.name.clone().unwrap();
    let heat = read(&dir.path().join("charts/heat_map.svg"));
    assert!(
        heat.starts_with("<svg") && heat.contains(&top_name[..top_name.len().min(20)]),
        "heat map lacks {top_name}"
    );
    assert!(heat.matches("<rect").count() > 100);
    let curves = read(&dir.path().join("charts/learning_curves.svg"));
    assert!(curves.contains("practice opportunity") && curves.contains("error rate") && curves.contains("all skills"));

    // Tables agree with each other and with the summary.
    let at_risk = read(&dir.path().join("tables/at_risk.csv"));
    assert_eq!(at_risk.lines().count() - 1, report.summary.at_risk);
    let learners: serde_json::Value = serde_json::from_str(&read(&dir.path().join("tables/learners.json"))).unwrap();
    assert_eq!(learners.as_array().unwrap().len(), 4151);
    let traj = read(&dir.path().join("tables/trajectories.csv"));
    assert_eq!(traj.lines().count() - 1, data.len());

    // Learner types: every learner has one, and the type the model says is strongest on the
    // most practised skill answers it right more often than the weakest type, counted from
    // the raw answers.
    let lt = report.learner_types.as_ref().unwrap();
    assert!(lt.types.len() >= 2);
    assert_eq!(lt.types.iter().map(|t| t.learners).sum::<usize>(), 4151);
    assert!((lt.types.iter().map(|t| t.share).sum::<f64>() - 1.0).abs() < 1e-9);
    let typed = learners.as_array().unwrap().iter().filter(|l| l["learner_type"].is_string()).count();
    assert_eq!(typed, 4151);
    let rows = read(&dir.path().join("tables/learner_types.csv")).lines().count() - 1;
    assert_eq!(rows, lt.types.iter().map(|t| t.mastery.len()).sum::<usize>());
    let mastery_of = |t: usize| lt.types[t].mastery.iter().find(|(s, _)| *s == top.skill).unwrap().1;
    let by: Vec<usize> = {
        let mut v: Vec<usize> = (0..lt.types.len()).filter(|&t| lt.types[t].learners >= 50).collect();
        v.sort_by(|&a, &b| mastery_of(a).total_cmp(&mastery_of(b)));
        v
    };
    let type_of: HashMap<&str, usize> = lt.of_learner.iter().map(|(w, t)| (w.as_str(), *t)).collect();
    let rate_of = |t: usize| {
        let (mut right, mut n) = (0u32, 0u32);
        for i in 0..data.len() {
            let who = data.vocab().students.name(data.students()[i].0).unwrap();
            let skill = data.vocab().skills.name(data.skills(i)[0].0).unwrap();
            if type_of[who] == t && skill == top.skill {
                n += 1;
                right += u32::from(data.correct()[i]);
            }
        }
        f64::from(right) / f64::from(n.max(1))
    };
    let (weak, strong) = (by[0], by[by.len() - 1]);
    assert!(rate_of(strong) > rate_of(weak) + 0.05, "{} vs {}", rate_of(strong), rate_of(weak));

    let html = read(&dir.path().join("index.html"));
    for needle in [
        "Learner types",
        "strongest skills",
        "Learning curves",
        "At-risk learners",
        "<b>Rule.</b>",
        "guess",
        "<svg",
        &top_name,
    ] {
        assert!(html.contains(needle), "index.html lacks {needle:?}");
    }
    // Self-contained: charts inline, no script, stylesheet or image fetched from elsewhere.
    for external in ["src=\"http", "href=\"http", "<script", "<link"] {
        assert!(!html.contains(external), "index.html loads {external}");
    }
}

#[test]
fn statics_report_uses_skill_names_and_any_model() {
    let (data, names) = load("STATICS");
    let config = ReportConfig { model: attune_models::ModelName::Irt1pl, ..ReportConfig::default() };
    let report = Report::build(&data, "STATICS", &names, &config, &NoProgress).unwrap();
    assert_eq!(report.summary.model, "irt1pl");
    assert!(report.skill_labels.iter().any(|l| l.starts_with("identify_interaction (")));
    // Mastery under a model without its own notion of mastery is a predicted success rate.
    assert!(report.traces.profiles.iter().all(|p| (0.0..=1.0).contains(&p.mean_mastery)));
    let dir = tempfile::tempdir().unwrap();
    report.write(dir.path()).unwrap();
    assert!(read(&dir.path().join("charts/heat_map.svg")).contains("identify_interaction"));
}

#[test]
fn time_on_task_needs_timestamps() {
    let (data, names) = load("assist2009_updated");
    let small = data.select_learners(&[0, 1, 2]);
    let report = Report::build(&small, "x", &names, &ReportConfig::default(), &NoProgress).unwrap();
    assert!(report.summary.time_on_task_hours.is_none());
    assert!(report.traces.profiles.iter().all(|p| p.time_on_task_seconds.is_none()));
}
