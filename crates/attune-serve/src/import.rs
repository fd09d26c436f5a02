//! Bulk import: a learning-log file in any format the readers know (attune-data), uploaded
//! as the body of `POST /v1/import`, becomes the tenant's items (with their skills) and
//! answers; a Q-matrix file becomes items, a prerequisite table (Junyi, Eedi) edges. Answer ids derive from the file's hash, so an
//! upload repeated never counts an answer twice.

use std::collections::BTreeSet;
use std::sync::Arc;

use attune_core::{Dataset, Interner, ItemId};
use attune_data::{ColumnMapping, LogFormat, QMatrix, read_log};
use attune_store::{Item, NewAnswer, Prerequisite, Scopes, TenantId};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use crate::App;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// Largest file the import route takes.
pub const MAX_IMPORT: usize = 512 << 20;

/// Answers stored per append while importing.
const CHUNK: usize = 4096;

/// Base of the times of logs that have positions, not timestamps (2010-01-01).
pub(crate) const UNTIMED_EPOCH: i64 = 1_262_304_000;

/// What a file holds and how to read it.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportQuery {
    /// `dkvmn`, `dkt`, `akt`, `akt-pid`, `gervet`, `pybkt`, `csv` (a log), `q-matrix`
    /// (`item_id,skill_id` lines: items and their skills), `junyi-prerequisites` (Junyi's
    /// exercise table) or `eedi-subjects` (Eedi's subject tree): prerequisite edges.
    pub format: String,
    /// Learner column (csv).
    pub student: Option<String>,
    /// Item column (csv).
    pub item: Option<String>,
    /// Skill column (csv).
    pub skill: Option<String>,
    /// Separator of several skills in one field (csv), e.g. `~~`.
    pub skill_separator: Option<String>,
    /// Answer column, 0/1 (csv; default `correct`).
    pub correct: Option<String>,
    /// Order or timestamp column (csv).
    pub time: Option<String>,
    /// The time column holds seconds since the epoch (csv).
    #[serde(default)]
    pub seconds: bool,
    /// Prefix of the answers' ids (default: `import-` and the file's SHA-256), so that a
    /// repeated upload is recognised; letters, digits, `-`, `_`. Formats without learner ids
    /// (DKVMN, DKT) name learners `<prefix>#<record>`.
    pub id_prefix: Option<String>,
}

/// What an import stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportOut {
    /// The format read.
    pub format: String,
    /// Answers in the file.
    pub answers: usize,
    /// Of which new (for a prerequisite file: the edges stored).
    pub stored: usize,
    /// Of which stored before (a repeated upload).
    pub duplicates: usize,
    /// Rows left out: a prerequisite table's self-loops and repeated edges.
    pub skipped: usize,
    /// Learners in the file.
    pub learners: usize,
    /// Items stored with their skills.
    pub items: usize,
    /// The prefix of the answers' ids.
    pub id_prefix: String,
}

fn name(i: &Interner, k: u32) -> String {
    i.name(k).unwrap_or_default().to_owned()
}

/// The items of `data` with their skills.
pub(crate) fn items_of(data: &Dataset) -> Vec<Item> {
    let v = data.vocab();
    (0..v.n_items() as u32)
        .map(|i| Item {
            item: name(&v.items, i),
            skills: v.skills_of(ItemId(i)).iter().map(|s| name(&v.skills, s.0)).collect(),
        })
        .collect()
}

/// The answers of `data`, ids `<prefix>-<row>`; logs without timestamps get one second per
/// position from [`UNTIMED_EPOCH`].
pub(crate) fn answers_of(data: &Dataset, prefix: &str) -> Vec<NewAnswer> {
    let v = data.vocab();
    (0..data.len())
        .map(|i| {
            let obs = data.interaction(i);
            NewAnswer {
                id: format!("{prefix}-{i}"),
                learner: name(&v.students, obs.student.0),
                item: name(&v.items, obs.item.0),
                correct: obs.correct,
                time: Some(if data.has_timestamps() { obs.time } else { UNTIMED_EPOCH + obs.time }),
                skills: Vec::new(),
                model: None,
            }
        })
        .collect()
}

/// Stores `answers` in chunks; (new, duplicates) and the learners touched.
pub(crate) async fn append_all(
    app: &App,
    tenant: TenantId,
    answers: Vec<NewAnswer>,
) -> ApiResult<(usize, usize, BTreeSet<String>)> {
    let learners: BTreeSet<String> = answers.iter().map(|a| a.learner.clone()).collect();
    let (mut stored, mut duplicates) = (0, 0);
    let mut answers = answers.into_iter().peekable();
    while answers.peek().is_some() {
        let chunk: Vec<NewAnswer> = answers.by_ref().take(CHUNK).collect();
        for r in app.store.append(tenant, chunk).await? {
            match r {
                attune_store::Appended::New(_) => stored += 1,
                attune_store::Appended::Duplicate(_) => duplicates += 1,
            }
        }
    }
    Ok((stored, duplicates, learners))
}

fn mapping(q: &ImportQuery) -> ApiResult<ColumnMapping> {
    if q.item.is_none() && q.skill.is_none() {
        return Err(ApiError::bad_request(
            "invalid_field",
            "format=csv needs item= or skill= (or both) naming columns",
        ));
    }
    let one = |s: &Option<String>| s.iter().cloned().collect::<Vec<_>>();
    Ok(ColumnMapping {
        student: vec![q.student.clone().unwrap_or_else(|| "user_id".into())],
        item: one(&q.item),
        skill: one(&q.skill),
        skill_separator: q.skill_separator.clone(),
        correct: vec![q.correct.clone().unwrap_or_else(|| "correct".into())],
        time: one(&q.time),
        time_is_seconds: q.seconds,
        delimiter: None,
    })
}

enum Parsed {
    Log(Dataset),
    QMatrix(Vec<Item>),
    Prerequisites(usize, Vec<Prerequisite>),
}

/// Imports a log or a Q-matrix file (plain or gzip) sent as the request body.
#[utoipa::path(post, path = "/v1/import", tag = "catalog", params(ImportQuery),
    request_body(content = String, description = "The file, as the readers take it (gzip allowed)", content_type = "application/octet-stream"),
    responses(
        (status = 200, body = ImportOut),
        (status = 400, description = "Unknown format, or the file's first error naming its line and field: nothing stored", body = ErrorBody),
        (status = 413, description = "Larger than 512 MiB", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(crate) async fn import(
    State(app): State<Arc<App>>,
    auth: Auth,
    q: Result<Query<ImportQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<ImportOut>> {
    auth.require(Scopes::WRITE)?;
    let Query(q) = q.map_err(|e| ApiError::bad_request("invalid_field", e.body_text()))?;
    let body = body.map_err(|e| {
        let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE { "body_too_large" } else { "bad_body" };
        ApiError::new(e.status(), code, e.body_text())
    })?;
    if body.is_empty() {
        return Err(ApiError::bad_request("invalid_field", "body: an empty file"));
    }
    let format = if ["q-matrix", "junyi-prerequisites", "eedi-subjects"].contains(&q.format.as_str()) {
        None
    } else {
        Some(q.format.parse::<LogFormat>().map_err(|e| {
            ApiError::bad_request(
                "unknown_format",
                format!("format: {e}; or q-matrix, junyi-prerequisites, eedi-subjects"),
            )
        })?)
    };
    let mapping = match format {
        Some(LogFormat::Csv) => Some(mapping(&q)?),
        _ => None,
    };
    let prefix = match &q.id_prefix {
        Some(p)
            if p.is_empty()
                || p.len() > 100
                || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            return Err(ApiError::bad_request("invalid_field", "id_prefix: 1 to 100 letters, digits, - or _"));
        }
        Some(p) => p.clone(),
        None => {
            let digest = Sha256::digest(&body);
            format!("import-{}", digest.iter().take(8).map(|b| format!("{b:02x}")).collect::<String>())
        }
    };
    let file_name = prefix.clone();
    let kind = q.format.clone();
    let parsed = tokio::task::spawn_blocking(move || -> Result<Parsed, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        // The readers take gzip by content. The file is named after the prefix: formats
        // without learner ids (DKVMN, DKT) name learners `<prefix>#<record>`.
        let path = dir.path().join(&file_name);
        std::fs::write(&path, &body).map_err(|e| e.to_string())?;
        // Tables keep self-loops and repeats (Junyi has both); a skill never waits on itself.
        let edges = |t: attune_data::PrerequisiteTable| {
            let n = t.edges.len();
            let distinct: BTreeSet<(String, String)> = t.edges.into_iter().filter(|(a, b)| a != b).collect();
            let edges: Vec<Prerequisite> =
                distinct.into_iter().map(|(requires, skill)| Prerequisite { skill, requires }).collect();
            Parsed::Prerequisites(n - edges.len(), edges)
        };
        match format {
            None if kind == "junyi-prerequisites" => {
                Ok(edges(attune_data::read_junyi_prerequisites(&path).map_err(|e| e.to_string())?))
            }
            None if kind == "eedi-subjects" => {
                Ok(edges(attune_data::read_eedi_subjects(&path).map_err(|e| e.to_string())?))
            }
            None => {
                let q = QMatrix::read(&path).map_err(|e| e.to_string())?;
                Ok(Parsed::QMatrix(q.items().into_iter().map(|(item, skills)| Item { item, skills }).collect()))
            }
            Some(f) => Ok(Parsed::Log(
                read_log(&path, f, mapping.as_ref(), None, Default::default()).map_err(|e| e.to_string())?,
            )),
        }
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| ApiError::bad_request("invalid_file", e))?;
    let out = match parsed {
        Parsed::Prerequisites(skipped, edges) => {
            app.store.add_prerequisites(auth.tenant, &edges).await?;
            ImportOut {
                format: q.format,
                answers: 0,
                stored: edges.len(),
                duplicates: 0,
                skipped,
                learners: 0,
                items: 0,
                id_prefix: prefix,
            }
        }
        Parsed::QMatrix(items) => {
            app.store.put_items(auth.tenant, &items).await?;
            ImportOut {
                format: q.format,
                answers: 0,
                stored: 0,
                duplicates: 0,
                skipped: 0,
                learners: 0,
                items: items.len(),
                id_prefix: prefix,
            }
        }
        Parsed::Log(data) => {
            let items = items_of(&data);
            app.store.put_items(auth.tenant, &items).await?;
            let answers = answers_of(&data, &prefix);
            let n = answers.len();
            let (stored, duplicates, learners) = append_all(&app, auth.tenant, answers).await?;
            // Cached states of these learners missed the imported answers: replay them.
            app.engine.forget(auth.tenant, &learners).await?;
            ImportOut {
                format: q.format,
                answers: n,
                stored,
                duplicates,
                skipped: 0,
                learners: learners.len(),
                items: items.len(),
                id_prefix: prefix,
            }
        }
    };
    Ok(Json(out))
}
