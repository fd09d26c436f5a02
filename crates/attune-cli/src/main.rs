//! `attune`: Attune's command line.

mod cat;
mod cold_start;
mod datasets;
mod eval;
mod fit;
mod inspect;
mod log;
mod meta_train;
mod models;
mod practice;
mod predict;
mod prerequisites;
mod progress;
mod report;
mod serve;
mod simulate;
mod tenant;
mod training;
mod tune;

use clap::{Parser, Subcommand};

/// Attune: an adaptive-learning engine. Reads learning logs, fits student models (knowledge
/// tracing), evaluates them under published protocols, and serves them over HTTP.
#[derive(Parser)]
#[command(name = "attune", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the datasets vendored under a data directory.
    Datasets(datasets::Args),
    /// The student models: name, family, paper, hyperparameters with defaults and ranges.
    Models(models::Args),
    /// Fit a student model on a dataset folder or a log and write a model file.
    Fit(fit::Args),
    /// Predict a log's answers with a model file (and write each learner's mastery).
    Predict(predict::Args),
    /// Search a model's hyperparameters on a validation split (never the test split).
    Tune(tune::Args),
    /// Fit a student model and evaluate it under a published protocol.
    Eval(eval::Args),
    /// Meta-train a cold-start learner (E4 tester or E5 tracer) and write its model file.
    MetaTrain(meta_train::Args),
    /// Read one file in any supported format and summarise it (or show where it is malformed).
    Inspect(inspect::Args),
    /// Learning analytics for a dataset: an HTML report with charts, plus CSV and JSON tables.
    Report(report::Args),
    /// Simulate computerized adaptive tests on an item bank and measure their accuracy.
    Cat(cat::Args),
    /// Simulate learners practising recommended items and compare their success with the target.
    Practice(practice::Args),
    /// Protocol E6: learning effectiveness of a learning-path policy on simulated learners.
    Simulate(simulate::Args),
    /// A prerequisite graph from Junyi's or Eedi's tables, or estimated from a learning log.
    Prerequisites(prerequisites::Args),
    /// Serve the HTTP API (answers, learner states, next items) on SQLite or PostgreSQL.
    Serve(serve::Args),
    /// Manage tenants and their API keys.
    Tenant(tenant::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Datasets(a) => datasets::run(&a),
        Command::Models(a) => models::run(&a),
        Command::Fit(a) => fit::run(&a),
        Command::Predict(a) => predict::run(&a),
        Command::Tune(a) => tune::run(&a),
        Command::Eval(a) => eval::run(&a),
        Command::MetaTrain(a) => meta_train::run(&a),
        Command::Inspect(a) => inspect::run(&a),
        Command::Report(a) => report::run(&a),
        Command::Cat(a) => cat::run(&a),
        Command::Practice(a) => practice::run(&a),
        Command::Simulate(a) => simulate::run(&a),
        Command::Prerequisites(a) => prerequisites::run(&a),
        Command::Serve(a) => serve::run(&a),
        Command::Tenant(a) => tenant::run(&a),
    };
    match result {
        // `attune datasets | head` closes the pipe early: that is not a failure.
        Err(e) if e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) => {
            Ok(())
        }
        other => other,
    }
}
