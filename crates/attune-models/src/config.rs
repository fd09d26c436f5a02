//! A model's configuration: the defaults of the registry, `key=value` overrides and
//! configuration files, each value checked against the registry's range.

use attune_kt::{BktConfig, CountsConfig, EloConfig, IrtConfig};
use attune_nn::{AktConfig, DktConfig, DkvmnConfig, SaktConfig};
use serde::Serialize;
use serde_json::Value;

use crate::registry::check_range;
use crate::{Error, ModelName, Result};

/// The configuration of any model, as the family's own configuration type.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum ModelConfig {
    /// BKT and its variants.
    Bkt(BktConfig),
    /// IRT 1PL, 2PL and MIRT.
    Irt(IrtConfig),
    /// PFA and Best-LR.
    Counts(CountsConfig),
    /// Elo.
    Elo(EloConfig),
    /// DKT.
    Dkt(DktConfig),
    /// DKVMN.
    Dkvmn(DkvmnConfig),
    /// SAKT.
    Sakt(SaktConfig),
    /// AKT.
    Akt(AktConfig),
}

/// A model name with its full configuration: what `fit` needs, and what a model file and a
/// `--config` file record.
#[derive(Clone, Debug, Serialize)]
pub struct ModelSpec {
    /// The model.
    pub model: ModelName,
    /// Its configuration.
    pub config: ModelConfig,
}

impl ModelConfig {
    /// The registry's default configuration of `model`, with `seed` where it has one.
    pub fn default_for(model: ModelName, seed: u64) -> Self {
        use ModelName as M;
        match model {
            M::Bkt => Self::Bkt(BktConfig { seed, ..BktConfig::default() }),
            M::BktForgets => Self::Bkt(BktConfig { seed, forgets: true, ..BktConfig::default() }),
            M::BktMultigs => Self::Bkt(BktConfig { seed, multigs: true, ..BktConfig::default() }),
            M::Irt1pl => Self::Irt(IrtConfig { seed, ..IrtConfig::one_pl() }),
            M::Irt2pl => Self::Irt(IrtConfig { seed, ..IrtConfig::two_pl() }),
            M::Mirt => Self::Irt(IrtConfig { seed, ..IrtConfig::mirt(3) }),
            M::Pfa => Self::Counts(CountsConfig::pfa()),
            M::BestLr => Self::Counts(CountsConfig::best_lr()),
            M::Elo => Self::Elo(EloConfig::default()),
            M::Dkt => Self::Dkt(DktConfig { seed, ..DktConfig::default() }),
            M::Dkvmn => Self::Dkvmn(DkvmnConfig { seed, ..DkvmnConfig::default() }),
            M::Sakt => Self::Sakt(SaktConfig { seed, ..SaktConfig::default() }),
            M::Akt => Self::Akt(AktConfig { seed, ..AktConfig::default() }),
        }
    }

    /// The configuration as a JSON object (the keys of `--set`).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Reads `value` as the configuration of `model` (every key must be present).
    fn from_json(model: ModelName, value: Value) -> Result<Self> {
        let bad = |e: serde_json::Error| Error::InvalidHyperparameter {
            model: model.as_str(),
            name: "configuration".into(),
            value: String::new(),
            reason: e.to_string(),
        };
        let default = Self::default_for(model, 0);
        Ok(match default {
            Self::Bkt(_) => Self::Bkt(serde_json::from_value(value).map_err(bad)?),
            Self::Irt(_) => Self::Irt(serde_json::from_value(value).map_err(bad)?),
            Self::Counts(_) => Self::Counts(serde_json::from_value(value).map_err(bad)?),
            Self::Elo(_) => Self::Elo(serde_json::from_value(value).map_err(bad)?),
            Self::Dkt(_) => Self::Dkt(serde_json::from_value(value).map_err(bad)?),
            Self::Dkvmn(_) => Self::Dkvmn(serde_json::from_value(value).map_err(bad)?),
            Self::Sakt(_) => Self::Sakt(serde_json::from_value(value).map_err(bad)?),
            Self::Akt(_) => Self::Akt(serde_json::from_value(value).map_err(bad)?),
        })
    }

    /// The seed of the model's random choices, where it has one.
    pub fn seed(&self) -> Option<u64> {
        self.to_json().get("seed").and_then(Value::as_u64)
    }
}

impl ModelSpec {
    /// `model` with its registry defaults and `seed`.
    pub fn new(model: ModelName, seed: u64) -> Self {
        Self { model, config: ModelConfig::default_for(model, seed) }
    }

    /// Sets configuration keys from a JSON object, each checked: the key must be one of the
    /// model's, the value of its type and inside its valid range.
    ///
    /// # Errors
    /// [`Error::UnknownHyperparameter`] or [`Error::InvalidHyperparameter`]; the spec is
    /// unchanged on error.
    pub fn with_values(mut self, values: &serde_json::Map<String, Value>) -> Result<Self> {
        let mut json = self.config.to_json();
        let Value::Object(fields) = &mut json else {
            return Err(Error::InvalidHyperparameter {
                model: self.model.as_str(),
                name: "configuration".into(),
                value: json.to_string(),
                reason: "not an object".into(),
            });
        };
        for (key, value) in values {
            if !fields.contains_key(key) {
                let known: Vec<&str> = fields.keys().map(String::as_str).collect();
                return Err(Error::UnknownHyperparameter {
                    model: self.model.as_str(),
                    name: key.clone(),
                    known: known.join(", "),
                });
            }
            check_range(self.model, key, value)?;
            fields.insert(key.clone(), value.clone());
        }
        self.config = ModelConfig::from_json(self.model, json)?;
        Ok(self)
    }

    /// Applies `key=value` overrides (`--set`); the value is read as JSON, or else as a string.
    ///
    /// # Errors
    /// [`Error::Override`] for text without `=`, or as [`ModelSpec::with_values`].
    pub fn with_overrides<S: AsRef<str>>(self, overrides: &[S]) -> Result<Self> {
        let mut values = serde_json::Map::new();
        for o in overrides {
            let o = o.as_ref();
            let (key, raw) = o.split_once('=').ok_or_else(|| Error::Override(o.to_owned()))?;
            let v = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
            values.insert(key.trim().to_owned(), v);
        }
        self.with_values(&values)
    }

    /// Applies a configuration file's values: a JSON object of keys, or one with a `config`
    /// object (as `attune tune` and `attune eval --json` write), whose `model`, if present,
    /// must be this model.
    ///
    /// # Errors
    /// [`Error::InvalidHyperparameter`] if the file is for another model or not an object, or
    /// as [`ModelSpec::with_values`].
    pub fn with_config_file(self, file: &Value) -> Result<Self> {
        let bad = |reason: String| Error::InvalidHyperparameter {
            model: self.model.as_str(),
            name: "--config".into(),
            value: String::new(),
            reason,
        };
        let values = match file.get("config") {
            Some(inner) => {
                if let Some(m) = file.get("model").and_then(Value::as_str).filter(|m| *m != self.model.as_str()) {
                    return Err(bad(format!("the file configures {m}, not {}", self.model)));
                }
                inner
            }
            None => file,
        };
        let Value::Object(values) = values else { return Err(bad("expected a JSON object".into())) };
        self.with_values(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_are_checked_against_the_registry() {
        let spec = ModelSpec::new(ModelName::Pfa, 1).with_overrides(&["l2=0.5"]).unwrap();
        assert_eq!(spec.config.to_json()["l2"], serde_json::json!(0.5));
        let e = ModelSpec::new(ModelName::Pfa, 1).with_overrides(&["l2=-1"]).unwrap_err();
        assert!(matches!(e, Error::InvalidHyperparameter { .. }), "{e}");
        let e = ModelSpec::new(ModelName::Pfa, 1).with_overrides(&["nope=1"]).unwrap_err();
        assert!(e.to_string().contains("no such hyperparameter \"nope\""), "{e}");
        let e = ModelSpec::new(ModelName::Dkt, 1).with_overrides(&["hidden=\"big\""]).unwrap_err();
        assert!(matches!(e, Error::InvalidHyperparameter { .. }), "{e}");
        assert!(matches!(ModelSpec::new(ModelName::Dkt, 1).with_overrides(&["hidden"]), Err(Error::Override(_))));
    }

    #[test]
    fn every_default_is_inside_its_range() {
        for m in ModelName::ALL {
            let spec = ModelSpec::new(m, 3);
            let Value::Object(values) = spec.config.to_json() else { panic!("{m}: not an object") };
            ModelSpec::new(m, 3).with_values(&values).unwrap();
            for h in m.info().hyperparameters {
                if let (Some(lo), Some(hi), Some(x)) = (h.min, h.max, h.default.as_f64()) {
                    assert!(lo <= x && x <= hi, "{m}.{}: default {x} outside [{lo}, {hi}]", h.name);
                }
                if let (Some(s), Some(lo), Some(hi)) = (h.search, h.min, h.max) {
                    assert!(lo <= s.low && s.high <= hi, "{m}.{}: search range outside the valid one", h.name);
                }
            }
        }
    }

    #[test]
    fn a_config_file_for_another_model_is_refused() {
        let file = serde_json::json!({"model": "bkt", "config": {"restarts": 2}});
        assert!(ModelSpec::new(ModelName::Pfa, 1).with_config_file(&file).is_err());
        let spec = ModelSpec::new(ModelName::Bkt, 1).with_config_file(&file).unwrap();
        assert_eq!(spec.config.to_json()["restarts"], serde_json::json!(2));
    }
}
