//! Self-contained, versioned model files: one format and one loader for every model.
//!
//! ```json
//! {"format_version": 2, "attune_version": "0.1.0", "model": "bkt",
//!  "config": {...}, "ids": {...}, "training": {...}, "parameters": {"bkt": {...}}}
//! ```
//! The loader checks the version first, then every field: the configuration against the
//! registry, the id maps against each other, the parameters' shapes and ranges against the
//! configuration and the id maps. A truncated, edited or foreign file gets an error naming
//! the file and the field; a file that loads cannot make a prediction index out of bounds.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::ModelConfig;
use crate::{Error, FittedModel, IdMaps, Model, ModelName, ModelSpec, Result, TrainingRecord};

/// Version of the model-file format this build writes and reads.
pub const FORMAT_VERSION: u32 = 2;

#[derive(Serialize)]
struct FileOut<'a> {
    format_version: u32,
    attune_version: &'static str,
    model: ModelName,
    config: &'a ModelConfig,
    ids: &'a IdMaps,
    training: &'a TrainingRecord,
    parameters: &'a Model,
}

#[derive(Deserialize)]
struct FileIn {
    model: String,
    config: serde_json::Value,
    ids: IdMaps,
    training: TrainingRecord,
    parameters: Model,
}

#[derive(Deserialize)]
struct Head {
    format_version: Option<serde_json::Value>,
}

/// Writes `bytes` to `path` through a synced temporary file in the same folder and a rename,
/// so a crash leaves the old file or the new one, never a truncated one.
///
/// # Errors
/// The I/O error of creating, writing, syncing or renaming.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes).and_then(|()| file.sync_all())?;
    std::fs::rename(&tmp, path)
}

impl FittedModel {
    /// The model file as JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        let out = FileOut {
            format_version: FORMAT_VERSION,
            attune_version: env!("CARGO_PKG_VERSION"),
            model: self.spec.model,
            config: &self.spec.config,
            ids: &self.ids,
            training: &self.training,
            parameters: &self.model,
        };
        serde_json::to_vec(&out).unwrap_or_default()
    }

    /// Writes the model file, atomically: a crash leaves the old file or the new one, never
    /// a truncated one.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomically(path, &self.to_json()).map_err(|source| Error::Io { path: path.to_owned(), source })
    }

    /// Reads and checks a model file written by [`FittedModel::save`].
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Version`] for another format version, [`Error::Json`] for text
    /// that is not a model file (with line and column), [`Error::InvalidFile`] naming the
    /// field whose value is wrong.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        Self::from_json(path, &bytes)
    }

    /// [`FittedModel::load`] on bytes; `path` names them in errors.
    ///
    /// # Errors
    /// As [`FittedModel::load`].
    pub fn from_json(path: &Path, bytes: &[u8]) -> Result<Self> {
        let json = |source| Error::Json { path: path.to_owned(), source };
        let invalid =
            |field: &str, reason: String| Error::InvalidFile { path: path.to_owned(), field: field.to_owned(), reason };
        let head: Head = serde_json::from_slice(bytes).map_err(json)?;
        match head.format_version {
            Some(v) if v.as_u64() == Some(u64::from(FORMAT_VERSION)) => {}
            Some(v) => {
                return Err(match v.as_u64() {
                    Some(found) => Error::Version { path: path.to_owned(), found, supported: FORMAT_VERSION },
                    None => invalid("format_version", format!("{v} is not a version number")),
                });
            }
            None => return Err(invalid("format_version", "missing: not an Attune model file".into())),
        }
        let file: FileIn = serde_json::from_slice(bytes).map_err(json)?;
        let name: ModelName = file.model.parse().map_err(|e: Error| invalid("model", e.to_string()))?;
        let spec =
            ModelSpec::new(name, 0).with_config_file(&file.config).map_err(|e| invalid("config", e.to_string()))?;
        check_ids(&file.ids).map_err(|(field, reason)| invalid(&format!("ids.{field}"), reason))?;
        check_parameters(name, &file.parameters, &file.ids)
            .map_err(|(field, reason)| invalid(&format!("parameters.{field}"), reason))?;
        if embedded_config(&file.parameters).is_some_and(|c| c != spec.config.to_json()) {
            return Err(invalid("config", "differs from the configuration the parameters were fitted with".into()));
        }
        Ok(Self { spec, model: file.parameters, ids: file.ids, training: file.training })
    }
}

type Invalid = (String, String);

fn check_ids(ids: &IdMaps) -> Result<(), Invalid> {
    for (field, names) in [("items", &ids.items), ("skills", &ids.skills), ("learners", &ids.learners)] {
        let mut seen = HashSet::with_capacity(names.len());
        if let Some(dup) = names.iter().find(|n| !seen.insert(n.as_str())) {
            return Err((field.into(), format!("id {dup:?} appears twice")));
        }
    }
    if ids.item_skills.len() != ids.items.len() {
        return Err(("item_skills".into(), format!("{} entries for {} items", ids.item_skills.len(), ids.items.len())));
    }
    let n = ids.skills.len();
    for (i, skills) in ids.item_skills.iter().enumerate() {
        if let Some(s) = skills.iter().find(|&&s| s as usize >= n) {
            return Err((format!("item_skills[{i}]"), format!("skill {s} of {n} skills")));
        }
    }
    if let Some(s) = ids.skill_names.keys().find(|&&s| s as usize >= n) {
        return Err(("skill_names".into(), format!("skill {s} of {n} skills")));
    }
    Ok(())
}

/// The parameters are those of `name`'s family, whole, and sized by the id maps.
fn check_parameters(name: ModelName, model: &Model, ids: &IdMaps) -> Result<(), Invalid> {
    let family_ok = matches!(
        (name, model),
        (ModelName::Bkt | ModelName::BktForgets | ModelName::BktMultigs, Model::Bkt(_))
            | (ModelName::Irt1pl | ModelName::Irt2pl | ModelName::Mirt, Model::Irt(_))
            | (ModelName::Pfa | ModelName::BestLr, Model::Counts(_))
            | (ModelName::Elo, Model::Elo(_))
            | (ModelName::Dkt, Model::Dkt(_))
            | (ModelName::Dkvmn, Model::Dkvmn(_))
            | (ModelName::Sakt, Model::Sakt(_))
            | (ModelName::Akt, Model::Akt(_))
    );
    if !family_ok {
        return Err((String::new(), format!("not the parameters of a {name} model")));
    }
    let from_kt = |r: attune_kt::Result<()>| r.map_err(split_kt);
    let from_nn = |r: attune_nn::Result<()>| r.map_err(split_nn);
    let (n_items, n_skills) = (ids.n_items(), ids.n_skills());
    let size = |field: &str, got: usize, want: usize| {
        if got == want { Ok(()) } else { Err((field.to_owned(), format!("{got} entries, the id maps have {want}"))) }
    };
    match model {
        Model::Bkt(m) => {
            from_kt(m.validate())?;
            size("skills", m.skills.len(), n_skills)?;
            size("item_skills", m.item_skills.len(), n_items)
        }
        Model::Irt(m) => {
            from_kt(m.validate())?;
            size("difficulty", m.difficulty.len(), n_items)
        }
        Model::Counts(m) => {
            from_kt(m.validate())?;
            size("n_items", m.n_items, n_items)?;
            size("n_skills", m.n_skills, n_skills)
        }
        Model::Elo(m) => {
            from_kt(m.validate())?;
            size("difficulty", m.difficulty.len(), n_items)
        }
        Model::Dkt(m) => {
            from_nn(m.validate())?;
            size("n_skills", m.n_skills, n_skills)?;
            size("item_skill", m.item_skill.len(), n_items)
        }
        Model::Dkvmn(m) => {
            from_nn(m.validate())?;
            size("n_skills", m.n_skills(), n_skills)?;
            size("item_skill", m.item_skill.len(), n_items)
        }
        Model::Sakt(m) => {
            from_nn(m.validate())?;
            size("n_skills", m.n_skills(), n_skills)?;
            size("item_skill", m.item_skill.len(), n_items)
        }
        Model::Akt(m) => {
            from_nn(m.validate())?;
            size("n_skills", m.n_skills(), n_skills)?;
            size("item_skill", m.item_skill.len(), n_items)
        }
    }
}

/// The configuration a model's parameters carry (Elo keeps only its chosen rates).
fn embedded_config(model: &Model) -> Option<serde_json::Value> {
    let v = match model {
        Model::Bkt(m) => serde_json::to_value(&m.config),
        Model::Irt(m) => serde_json::to_value(&m.config),
        Model::Counts(m) => serde_json::to_value(&m.config),
        Model::Elo(_) => return None,
        Model::Dkt(m) => serde_json::to_value(&m.config),
        Model::Dkvmn(m) => serde_json::to_value(&m.config),
        Model::Sakt(m) => serde_json::to_value(&m.config),
        Model::Akt(m) => serde_json::to_value(&m.config),
    };
    v.ok()
}

fn split_kt(e: attune_kt::Error) -> Invalid {
    match e {
        attune_kt::Error::InvalidModel { field, reason } => (field, reason),
        attune_kt::Error::InvalidConfig { param, value, reason } => {
            (format!("config.{param}"), format!("{value}: {reason}"))
        }
        other => (String::new(), other.to_string()),
    }
}

fn split_nn(e: attune_nn::Error) -> Invalid {
    match e {
        attune_nn::Error::InvalidModel { field, reason } => (field, reason),
        attune_nn::Error::InvalidConfig { param, value, reason } => {
            (format!("config.{param}"), format!("{value}: {reason}"))
        }
        other => (String::new(), other.to_string()),
    }
}
