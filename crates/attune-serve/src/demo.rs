//! The demo tenant: the bundled ASSIST2009 skill-builder data (the repository's vendored copy,
//! compiled into the binary) imported as answers, BKT fitted on them and made the serving
//! model (a 2PL IRT model registered beside it for adaptive tests and item statistics), so that a fresh `attune serve` answers every route at once.

use std::collections::HashMap;
use std::time::Instant;

use attune_models::{ModelName, ModelSpec, Training, fit};
use attune_store::{NewKey, Scopes, TenantId};

use crate::{App, Error};

/// The demo tenant's name.
pub const DEMO_TENANT: &str = "demo";

const FILES: [(&str, &[u8]); 3] = [
    (
        "assist2009_updated_train.csv.gz",
        include_bytes!("../../../data/assist2009_updated/assist2009_updated_train.csv.gz"),
    ),
    (
        "assist2009_updated_test.csv.gz",
        include_bytes!("../../../data/assist2009_updated/assist2009_updated_test.csv.gz"),
    ),
    (
        "assist2009_updated_skill_mapping.txt",
        include_bytes!("../../../data/assist2009_updated/assist2009_updated_skill_mapping.txt"),
    ),
];

/// What the demo set-up did.
#[derive(Debug)]
pub struct Demo {
    /// The demo tenant.
    pub tenant: TenantId,
    /// A new key of every scope for it (shown once).
    pub key: NewKey,
    /// A learner with answers, for trying the routes.
    pub learner: String,
    /// Answers imported now (0 when the tenant existed).
    pub imported: usize,
    /// Seconds the import and fit took.
    pub seconds: f64,
}

fn demo_error(e: impl std::fmt::Display) -> Error {
    Error::Demo(e.to_string())
}

/// Sets up the demo tenant, or finds it set up; either way a fresh key for it.
pub(crate) async fn set_up(app: &App) -> Result<Demo, Error> {
    let store = &app.store;
    let t0 = Instant::now();
    let tenant = match store.tenant_by_name(DEMO_TENANT).await? {
        Some(t) => t.id,
        None => store.create_tenant(DEMO_TENANT).await?.0.id,
    };
    let mut imported = 0;
    if store.serving_model(tenant).await?.is_none() {
        let (data, skill_names) = tokio::task::spawn_blocking(read_bundled).await.map_err(demo_error)??;
        store.put_items(tenant, &crate::import::items_of(&data)).await?;
        let names: Vec<(String, String)> = skill_names.into_iter().collect();
        store.name_skills(tenant, &names).await?;
        // Answers first, then the models fitted on the same data: the log is complete before
        // any state is built from it.
        let rows = crate::import::answers_of(&data, "demo");
        imported = crate::import::append_all(app, tenant, rows).await.map_err(|e| demo_error(e.message))?.0;
        // BKT serves; a 2PL IRT model is registered beside it for adaptive tests and item
        // difficulty.
        let fitted = tokio::task::spawn_blocking(move || {
            let fit = |name| {
                fit(&ModelSpec::new(name, 42), Training { train: &data, validation: None }, &attune_core::NoProgress)
            };
            Ok::<_, attune_models::Error>((fit(ModelName::Bkt)?, fit(ModelName::Irt2pl)?))
        })
        .await
        .map_err(demo_error)?
        .map_err(demo_error)?;
        let mut serving = None;
        for m in [&fitted.0, &fitted.1] {
            let metrics = serde_json::to_value(&m.training).unwrap_or_default();
            let version = store.add_model(tenant, m.name().as_str(), &m.to_json(), &metrics).await?;
            serving.get_or_insert(version);
        }
        if let Some(version) = serving {
            store.serve_model(tenant, version).await?;
        }
        app.reload_model(tenant).await.map_err(|e| demo_error(e.message))?;
    }
    let learner = store.learners(tenant).await?.into_iter().next().unwrap_or_default();
    let key = store.create_key(tenant, Scopes::ALL).await?;
    Ok(Demo { tenant, key, learner, imported, seconds: t0.elapsed().as_secs_f64() })
}

/// The bundled files, read as the dataset folder they came from.
fn read_bundled() -> Result<(attune_core::Dataset, HashMap<String, String>), Error> {
    let dir = tempfile::tempdir().map_err(demo_error)?;
    let root = dir.path().join("assist2009_updated");
    std::fs::create_dir(&root).map_err(demo_error)?;
    for (name, bytes) in FILES {
        std::fs::write(root.join(name), bytes).map_err(demo_error)?;
    }
    let folder = attune_data::DatasetFolder::open(&root).map_err(demo_error)?;
    Ok((folder.read_all().map_err(demo_error)?, folder.skill_names().map_err(demo_error)?))
}
