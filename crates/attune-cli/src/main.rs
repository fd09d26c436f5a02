//! `attune`: Attune's command line.

mod datasets;
mod eval;
mod progress;

use clap::{Parser, Subcommand};

/// Attune: an adaptive-learning engine. Knowledge tracing, evaluation and (soon) tutoring.
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
    /// Fit a student model and evaluate it under a published protocol.
    Eval(eval::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Datasets(a) => datasets::run(&a),
        Command::Eval(a) => eval::run(&a),
    }
}
