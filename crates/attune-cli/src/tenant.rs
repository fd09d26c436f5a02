//! `attune tenant`: tenants and their API keys, on the service's database.

use anyhow::Context;
use attune_store::{Scopes, Store};
use clap::{Parser, Subcommand};

/// Manage tenants and API keys (keys are stored hashed and shown once).
#[derive(Parser)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a tenant; its first key (every scope) is the last line of the output.
    Create {
        /// The tenant's unique name.
        #[arg(long)]
        name: String,
        /// The database: a SQLite file or a postgres:// URL.
        #[arg(long, default_value = "attune.db")]
        database: String,
    },
    /// A new key for a tenant; the key is the last line of the output.
    Key {
        /// The tenant's name.
        #[arg(long)]
        name: String,
        /// Scopes: a comma-separated list of read, write, admin.
        #[arg(long, default_value = "read,write")]
        scopes: String,
        /// The database: a SQLite file or a postgres:// URL.
        #[arg(long, default_value = "attune.db")]
        database: String,
    },
    /// Register a model file (from `attune fit`) as the tenant's next version; with
    /// `--serve` it becomes the serving version (a running server picks it up on restart).
    AddModel {
        /// The tenant's name.
        #[arg(long)]
        name: String,
        /// The model file.
        #[arg(long)]
        model_file: std::path::PathBuf,
        /// Make it the serving version.
        #[arg(long)]
        serve: bool,
        /// The database: a SQLite file or a postgres:// URL.
        #[arg(long, default_value = "attune.db")]
        database: String,
    },
    /// List the tenants.
    List {
        /// The database: a SQLite file or a postgres:// URL.
        #[arg(long, default_value = "attune.db")]
        database: String,
    },
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        match &args.command {
            Command::Create { name, database } => {
                let store = Store::open(database).await.with_context(|| format!("--database {database}"))?;
                let (tenant, key) = store.create_tenant(name).await?;
                println!("tenant {:?} created (id {}); its key, every scope, shown once:", tenant.name, tenant.id.0);
                println!("{}", key.token());
                store.close().await;
            }
            Command::Key { name, scopes, database } => {
                let scopes = Scopes::parse(scopes)?;
                let store = Store::open(database).await.with_context(|| format!("--database {database}"))?;
                let tenant =
                    store.tenant_by_name(name).await?.with_context(|| format!("no tenant {name:?} in {database}"))?;
                let key = store.create_key(tenant.id, scopes).await?;
                println!("key for {name:?} with scopes {scopes}, shown once:");
                println!("{}", key.token());
                store.close().await;
            }
            Command::AddModel { name, model_file, serve, database } => {
                let model = attune_models::FittedModel::load(model_file)?;
                let store = Store::open(database).await.with_context(|| format!("--database {database}"))?;
                let tenant =
                    store.tenant_by_name(name).await?.with_context(|| format!("no tenant {name:?} in {database}"))?;
                let metrics = serde_json::to_value(&model.training)?;
                let version = store.add_model(tenant.id, model.name().as_str(), &model.to_json(), &metrics).await?;
                if *serve {
                    store.serve_model(tenant.id, version).await?;
                }
                println!(
                    "{} registered as version {version} of {name:?}{}",
                    model.name().as_str(),
                    if *serve { ", serving" } else { "" }
                );
                store.close().await;
            }
            Command::List { database } => {
                let store = Store::open(database).await.with_context(|| format!("--database {database}"))?;
                for t in store.tenants().await? {
                    println!("{}\t{}", t.id.0, t.name);
                }
                store.close().await;
            }
        }
        Ok(())
    })
}
