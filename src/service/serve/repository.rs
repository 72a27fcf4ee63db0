//! The model repository: every model file of a directory (`NAME.amlis`, or `NAME.json` for
//! the JSON encoding; hidden files are skipped), served under the file's stem.
//!
//! [`Repository::poll`] compares each file's size and modification time with those last
//! read: a changed file is read and validated off to the side, then swapped in atomically
//! (requests in flight keep the `Arc` of the model they started with); a file that does not
//! load (corrupt, truncated, a newer format) leaves the old model serving and is logged. A
//! model's version is the number of times it has been loaded. A model unloaded through the
//! repository extension stays unloaded until loaded again.
//!
//! A file holds a pipeline (served by `infer`) or a contextual bandit: a policy that learns
//! online, or a greedy policy learned from logs (served by `choose` and `reward`); the
//! envelope's kind tells which. A bandit's learned state lives in memory: a (re)load of its
//! file replaces that state with the file's, and [`Repository::save`] writes the state back
//! to the file (without the poller then reloading it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use super::error::ServeError;
use super::metrics::Metrics;
use crate::models::rl::POLICY_KIND;
use crate::service::bandit::{Bandit, BANDIT_KIND};
use crate::service::persist::{self, Encoding};
use crate::service::pipeline::Pipeline;

/// What a model file holds.
#[derive(Debug)]
pub enum Served {
    /// A pipeline (model file kind 1), for `infer` and `:predict` (boxed: it is large).
    Pipeline(Box<Pipeline>),
    /// A contextual bandit (kind 2) or a greedy policy learned from logs (kind 3), for
    /// `choose` and `reward`.
    Bandit(Bandit),
}

impl Served {
    /// Reads and validates a model file of any kind the server serves.
    pub fn read(path: &Path) -> crate::Result<(Self, Encoding)> {
        let bytes = persist::read_file(path)?;
        let header = persist::read_header(&bytes)?.0;
        let served = if header.kind == BANDIT_KIND || header.kind == POLICY_KIND {
            Served::Bandit(Bandit::from_bytes(&bytes)?)
        } else {
            Served::Pipeline(Box::new(Pipeline::from_bytes(&bytes)?))
        };
        Ok((served, header.encoding))
    }
}

/// A loaded model, shared by the requests that use it.
#[derive(Debug)]
pub struct Loaded {
    /// The model's name (the file's stem).
    pub name: String,
    /// Its version: `1` for the first load, then one more for each reload.
    pub version: String,
    /// The pipeline or bandit.
    pub served: Served,
    /// The encoding of its file (a bandit's state is saved back in it).
    pub encoding: Encoding,
}

impl Loaded {
    /// The pipeline, or 400 for a bandit.
    pub fn pipeline(&self) -> Result<&Pipeline, ServeError> {
        match &self.served {
            Served::Pipeline(p) => Ok(p),
            Served::Bandit(_) => Err(ServeError::bad_request(format!(
                "model `{}` is a contextual bandit: it answers POST /v2/models/{}/choose and \
                 /reward, not inference",
                self.name, self.name
            ))),
        }
    }

    /// The bandit, or 400 for a pipeline.
    pub fn bandit(&self) -> Result<&Bandit, ServeError> {
        match &self.served {
            Served::Bandit(b) => Ok(b),
            Served::Pipeline(_) => Err(ServeError::bad_request(format!(
                "model `{}` is not a bandit (a pipeline: POST /v2/models/{}/infer)",
                self.name, self.name
            ))),
        }
    }
}

/// What identifies one state of a file on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

#[derive(Debug, Default)]
struct Slot {
    file: PathBuf,
    stamp: Option<Stamp>,
    loads: u64,
    model: Option<Arc<Loaded>>,
    unloaded: bool,
    error: Option<String>,
}

/// One row of the repository index.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IndexEntry {
    /// The model's name.
    pub name: String,
    /// Its current version (absent when it is not loaded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `READY` or `UNAVAILABLE`.
    pub state: &'static str,
    /// Why it is unavailable (or why its last reload failed).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// The models of one directory.
#[derive(Debug)]
pub struct Repository {
    dir: PathBuf,
    slots: RwLock<BTreeMap<String, Slot>>,
    metrics: Arc<Metrics>,
    /// Held by every read and write of model files (polls, loads, saves), so that a poll
    /// never takes a file the server is writing, nor the server's own save for a change.
    disk: Mutex<()>,
}

/// The model name of a file, when it is a model file.
fn model_name(path: &Path) -> Option<String> {
    let file = path.file_name()?.to_str()?;
    if file.starts_with('.') {
        return None;
    }
    let (stem, ext) = file.rsplit_once('.')?;
    (matches!(ext, "amlis" | "json") && !stem.is_empty()).then(|| stem.to_string())
}

fn stamp_of(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    meta.is_file().then(|| Stamp {
        len: meta.len(),
        modified: meta.modified().ok(),
    })
}

impl Repository {
    /// A repository over `dir` (nothing loaded yet; call [`poll`](Self::poll)).
    pub fn new(dir: impl Into<PathBuf>, metrics: Arc<Metrics>) -> Self {
        Self {
            dir: dir.into(),
            slots: RwLock::new(BTreeMap::new()),
            metrics,
            disk: Mutex::new(()),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The model `name` when it is loaded.
    pub fn get(&self, name: &str) -> Option<Arc<Loaded>> {
        let slots = self.slots.read().unwrap_or_else(|e| e.into_inner());
        slots.get(name).and_then(|s| s.model.clone())
    }

    /// Whether the repository knows a model of this name (loaded or not).
    pub fn contains(&self, name: &str) -> bool {
        let slots = self.slots.read().unwrap_or_else(|e| e.into_inner());
        slots.contains_key(name)
    }

    /// The model `name` (and `version`, when given), or 404 saying why it cannot serve.
    pub fn require(&self, name: &str, version: Option<&str>) -> Result<Arc<Loaded>, ServeError> {
        let slots = self.slots.read().unwrap_or_else(|e| e.into_inner());
        let slot = slots
            .get(name)
            .ok_or_else(|| ServeError::not_found(format!("unknown model `{name}`")))?;
        let model = slot.model.clone().ok_or_else(|| {
            let why = if slot.unloaded {
                "it was unloaded".to_string()
            } else {
                slot.error
                    .clone()
                    .unwrap_or_else(|| "it is not loaded".into())
            };
            ServeError::not_found(format!("model `{name}` is not ready: {why}"))
        })?;
        match version {
            Some(v) if v != model.version => Err(ServeError::not_found(format!(
                "model `{name}` has no version `{v}` (the version served is {})",
                model.version
            ))),
            _ => Ok(model),
        }
    }

    /// Rescans the directory: new and changed files are loaded, removed ones unloaded.
    pub fn poll(&self) {
        let _disk = self.disk.lock().unwrap_or_else(|e| e.into_inner());
        let mut seen = BTreeMap::new();
        match std::fs::read_dir(&self.dir) {
            Ok(entries) => {
                for entry in entries.flatten() {
                    let path = entry.path();
                    if let (Some(name), Some(stamp)) = (model_name(&path), stamp_of(&path)) {
                        seen.insert(name, (path, stamp));
                    }
                }
            }
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "cannot read the model directory");
                return;
            }
        }
        let stale: Vec<(String, PathBuf)> = {
            let slots = self.slots.read().unwrap_or_else(|e| e.into_inner());
            seen.iter()
                .filter(|(name, (_, stamp))| {
                    slots
                        .get(*name)
                        .is_none_or(|s| !s.unloaded && s.stamp != Some(*stamp))
                })
                .map(|(name, (path, _))| (name.clone(), path.clone()))
                .collect()
        };
        for (name, path) in stale {
            // Errors are logged and kept in the slot; the old model stays.
            let _ = self.load_file(&name, &path);
        }
        let mut slots = self.slots.write().unwrap_or_else(|e| e.into_inner());
        let gone: Vec<String> = slots
            .keys()
            .filter(|name| !seen.contains_key(*name))
            .cloned()
            .collect();
        for name in gone {
            tracing::info!(model = %name, "model file removed: unloaded");
            slots.remove(&name);
        }
        self.metrics
            .set_models_ready(slots.values().filter(|s| s.model.is_some()).count());
    }

    /// Reads, validates and swaps in the file of model `name`.
    fn load_file(&self, name: &str, path: &Path) -> Result<Arc<Loaded>, ServeError> {
        // The stamp is taken before reading: a write that lands during the read changes the
        // stamp again and is read at the next poll.
        let stamp = stamp_of(path);
        let result = Served::read(path);
        let mut slots = self.slots.write().unwrap_or_else(|e| e.into_inner());
        let slot = slots.entry(name.to_string()).or_default();
        slot.file = path.to_path_buf();
        slot.stamp = stamp;
        slot.unloaded = false;
        match result {
            Ok((served, encoding)) => {
                slot.loads += 1;
                let reload = slot.model.is_some();
                let loaded = Arc::new(Loaded {
                    name: name.to_string(),
                    version: slot.loads.to_string(),
                    served,
                    encoding,
                });
                slot.model = Some(loaded.clone());
                slot.error = None;
                self.metrics.model_loaded(reload, true);
                tracing::info!(model = %name, version = %loaded.version, file = %path.display(),
                    "{}", if reload { "model reloaded" } else { "model loaded" });
                Ok(loaded)
            }
            Err(e) => {
                let message = format!("cannot load `{}`: {e}", path.display());
                self.metrics.model_loaded(slot.model.is_some(), false);
                if slot.model.is_some() {
                    tracing::warn!(model = %name, error = %message, "reload failed: the old model keeps serving");
                } else {
                    tracing::warn!(model = %name, error = %message, "load failed");
                }
                slot.error = Some(message.clone());
                Err(ServeError::bad_request(message))
            }
        }
    }

    /// The repository extension's `load`: reads the model's file now (`NAME.amlis`, else
    /// `NAME.json`). A file that does not load is 400 and leaves any old model serving.
    pub fn load(&self, name: &str) -> Result<Arc<Loaded>, ServeError> {
        let _disk = self.disk.lock().unwrap_or_else(|e| e.into_inner());
        let path = ["amlis", "json"]
            .iter()
            .map(|ext| self.dir.join(format!("{name}.{ext}")))
            .find(|p| model_name(p).as_deref() == Some(name) && p.is_file())
            .ok_or_else(|| {
                ServeError::not_found(format!(
                    "no model file `{name}.amlis` or `{name}.json` in {}",
                    self.dir.display()
                ))
            })?;
        let loaded = self.load_file(name, &path);
        let slots = self.slots.read().unwrap_or_else(|e| e.into_inner());
        self.metrics
            .set_models_ready(slots.values().filter(|s| s.model.is_some()).count());
        loaded
    }

    /// Writes the learned state of bandit `name` to its file, atomically and in the file's
    /// encoding; returns the model and the bytes written. The version does not change: the
    /// same state goes on serving, and the poller does not take the new file for a change.
    /// A greedy policy learned from logs does not learn, so there is nothing to save (400).
    pub fn save(&self, name: &str) -> Result<(Arc<Loaded>, usize), ServeError> {
        let _disk = self.disk.lock().unwrap_or_else(|e| e.into_inner());
        let model = self.require(name, None)?;
        let bandit = model.bandit()?;
        if bandit.greedy().is_some() {
            return Err(ServeError::bad_request(format!(
                "model `{name}` is a greedy policy learned from logs: it does not learn online, \
                 so its file already holds its whole state"
            )));
        }
        let file = {
            let slots = self.slots.read().unwrap_or_else(|e| e.into_inner());
            slots.get(name).map(|s| s.file.clone())
        }
        .ok_or_else(|| ServeError::not_found(format!("unknown model `{name}`")))?;
        let bytes = bandit.to_bytes(model.encoding)?;
        persist::write_atomic(&file, &bytes)
            .map_err(|e| ServeError::internal(format!("cannot save model `{name}`: {e}")))?;
        let mut slots = self.slots.write().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = slots.get_mut(name) {
            if slot.model.as_ref().is_some_and(|m| Arc::ptr_eq(m, &model)) {
                slot.stamp = stamp_of(&file);
            }
        }
        tracing::info!(model = %name, version = %model.version, file = %file.display(), bytes = bytes.len(), "bandit state saved");
        Ok((model, bytes.len()))
    }

    /// The repository extension's `unload`: the model stops serving (requests in flight
    /// finish) until it is loaded again.
    pub fn unload(&self, name: &str) -> Result<(), ServeError> {
        let mut slots = self.slots.write().unwrap_or_else(|e| e.into_inner());
        let slot = slots
            .get_mut(name)
            .ok_or_else(|| ServeError::not_found(format!("unknown model `{name}`")))?;
        slot.model = None;
        slot.unloaded = true;
        tracing::info!(model = %name, "model unloaded");
        self.metrics
            .set_models_ready(slots.values().filter(|s| s.model.is_some()).count());
        Ok(())
    }

    /// Every model the repository knows, by name.
    pub fn index(&self) -> Vec<IndexEntry> {
        let slots = self.slots.read().unwrap_or_else(|e| e.into_inner());
        slots
            .iter()
            .map(|(name, s)| IndexEntry {
                name: name.clone(),
                version: s.model.as_ref().map(|m| m.version.clone()),
                state: if s.model.is_some() {
                    "READY"
                } else {
                    "UNAVAILABLE"
                },
                reason: if s.unloaded {
                    "unloaded".into()
                } else {
                    s.error.clone().unwrap_or_default()
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_files_are_named_by_stem() {
        assert_eq!(
            model_name(Path::new("m/iris.amlis")).as_deref(),
            Some("iris")
        );
        assert_eq!(model_name(Path::new("m/a.b.json")).as_deref(), Some("a.b"));
        assert_eq!(model_name(Path::new("m/.iris.amlis.tmp-1")), None);
        assert_eq!(model_name(Path::new("m/README.md")), None);
        assert_eq!(model_name(Path::new("m/.amlis")), None);
    }
}
