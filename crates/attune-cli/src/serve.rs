//! `attune serve`: the HTTP service on an embedded SQLite file (default) or PostgreSQL.

use clap::Parser;

/// Serve Attune's HTTP API: answers in, learner states and next items out.
///
/// On a fresh database it creates the demo tenant from the bundled ASSIST2009 data, fits
/// BKT on it and prints a key for it; the key is shown once, so each start prints a new one.
#[derive(Parser)]
pub(crate) struct Args {
    /// The database: a SQLite file (created if missing) or a postgres:// URL.
    #[arg(long, default_value = "attune.db")]
    database: String,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
    /// Do not set up the demo tenant.
    #[arg(long)]
    no_demo: bool,
    /// Write logs as JSON lines (default: human-readable) to stderr; RUST_LOG filters them.
    #[arg(long)]
    log_json: bool,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if args.log_json {
        logs.json().init()
    } else {
        logs.init()
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let config = attune_serve::Config {
            database: args.database.clone(),
            bind: args.bind.clone(),
            demo: !args.no_demo,
            warm_up: true,
        };
        if config.demo {
            eprintln!(
                "preparing the demo tenant (first start: importing ASSIST2009, fitting BKT and a 2PL item bank)…"
            );
        }
        let started = attune_serve::start(&config).await?;
        let url = format!("http://{}", started.addr);
        println!("attune serving on {url} (database {})", args.database);
        println!("API document: {url}/openapi.json");
        println!("dashboard: {url}/dashboard (sign in with an API key)");
        if let Some(demo) = &started.demo {
            if demo.imported > 0 {
                println!(
                    "demo tenant {:?}: {} answers imported, BKT (serving) and a 2PL item bank fitted in {:.1} s",
                    attune_serve::DEMO_TENANT,
                    demo.imported,
                    demo.seconds
                );
            }
            // The learner's id in a path: everything but unreserved characters percent-encoded.
            let learner: String = demo
                .learner
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            println!("try: curl -H 'Authorization: Bearer {}' {url}/v1/learners/{learner}/state", demo.key.token());
            println!("demo API key (shown once):");
            println!("{}", demo.key.token());
        }
        started.serve(shutdown()).await?;
        Ok(())
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
