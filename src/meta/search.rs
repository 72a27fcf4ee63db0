//! The budgeted search: successive halving over the portfolio's candidates, the family
//! defaults and random neighbours of the best, on growing subsamples ("rungs") of the
//! training rows, trials in parallel, each with its own time and memory limit.
//!
//! Rungs grow by a factor of 3 up to every training row (a small data set has one rung).
//! A candidate is promoted to the next rung once it ranks in the top third of the trials
//! finished on its rung. Jobs are chosen in fixed batches from finished results only, so a
//! search bounded by `max_trials` alone makes the same trials, scores and choice for a seed
//! whatever the thread count. The best candidate is the best scored on the highest rung any
//! candidate reached.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::data::{KFold, Split, Splitter, StratifiedKFold, Table, Task};
use crate::error::{Error, Result};
use crate::evaluate::selection::cross_validate::{
    resolve_metrics, run_fold_keeping, CvData, TableData,
};
use crate::meta::ensemble::{self, EnsembleReport, Oof, OofStore, Scoring};
use crate::meta::features::{self, MetaFeatures};
use crate::meta::paired;
use crate::meta::portfolio::Portfolio;
use crate::meta::space::{self, InputProfile};
use crate::meta::spec::{AutoSearch, CvChoice};
use crate::models::ensemble::voting::{Voting, VotingClassifier, VotingRegressor};
use crate::models::{Estimator, ModelConfig};
use crate::preprocess::Step;
use crate::service::config::TrainConfig;
use crate::traits::{Control, FitContext, FitEvent, Metric};

/// Trials run per batch (fixed, so that the sequence of trials does not depend on the
/// number of threads).
const BATCH: usize = 4;
/// How many prior defaults (the family defaults that ranked best across the portfolio) are
/// scored on every rung and compete as the incumbent.
const PRIOR_DEFAULTS: usize = 2;
/// The keep ratio and growth factor of successive halving.
const ETA: usize = 3;
/// The smallest rung, in rows.
const MIN_RUNG: usize = 600;
/// The most rungs of growing size.
const MAX_RUNGS: usize = 4;
/// Extra rungs on every row with new splits (repeated cross-validation of the best third,
/// then ninth): the choice rests on the mean over repeats, which tames the luck of the best
/// of many close candidates.
const REPEATS: usize = 2;
/// Below this many training rows the search repeats cross-validation [`SMALL_REPEATS`]
/// times instead: fits are cheap there, and one split's score moves by more than the gaps
/// between the best candidates (a 25-row fold of pima moves accuracy by 0.04 a row).
const SMALL_ROWS: usize = 1_000;
/// Extra rungs of repeated cross-validation on small data (the best 81st of the candidates
/// reaches the last).
const SMALL_REPEATS: usize = 4;

/// The extra rungs of repeated cross-validation for `n` training rows.
fn repeats(n: usize) -> usize {
    if n < SMALL_ROWS {
        SMALL_REPEATS
    } else {
        REPEATS
    }
}

/// Where a candidate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The best configurations of the nearest portfolio data sets.
    ZeroShot,
    /// A family's default configuration.
    Default,
    /// A random neighbour of a good candidate.
    Neighbour,
}

/// How a trial ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrialStatus {
    /// Scored.
    Ok,
    /// A fit or a score failed (the message says why).
    Failed,
    /// Cut by its own time limit or by the budget.
    TimedOut,
    /// Not run: its memory estimate exceeds the trial memory limit.
    SkippedMemory,
}

/// One trial: a candidate scored on one rung.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// The trial's number, from 0.
    pub id: usize,
    /// The candidate's number, from 0.
    pub candidate: usize,
    /// Where the candidate came from.
    pub origin: Origin,
    /// The whole pipeline config tried.
    pub config: TrainConfig,
    /// The rung (0: the smallest subsample).
    pub rung: usize,
    /// The rows the trial cross-validated on.
    pub n_rows: usize,
    /// The mean score over folds (`None` unless `status` is `ok`).
    pub score: Option<f64>,
    /// The mean over this trial and the candidate's earlier trials on the same rows (with
    /// other splits): what the ranking uses.
    #[serde(default)]
    pub repeated_score: Option<f64>,
    /// The standard error of that mean (fold standard deviation over the square root of
    /// the fold count; `None` with one holdout split).
    #[serde(default)]
    pub std_error: Option<f64>,
    /// The score of each fold, in split order (empty unless `status` is `ok`): what paired
    /// comparisons between candidates scored on the same splits use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fold_scores: Vec<f64>,
    /// The seconds spent fitting, over every fold.
    pub fit_time: f64,
    /// How it ended.
    pub status: TrialStatus,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Why a search stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoppedBy {
    /// `max_trials` trials were made.
    MaxTrials,
    /// The time budget ran out.
    TimeBudget,
    /// The callback asked to stop.
    Callback,
    /// No candidate was left.
    Exhausted,
}

/// The record of a search: the leaderboard and what led to it. It travels in the fitted
/// pipeline's metadata (and so in `amlis_model_info_json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchReport {
    /// The config type searched (`auto_classifier` or `auto_regressor`).
    pub search_type: String,
    /// The settings of the search.
    pub settings: AutoSearch,
    /// The scorer.
    pub metric: String,
    /// `"5 folds"` or `"holdout 0.2"`.
    pub validation: String,
    /// The meta-features of the training data.
    pub meta_features: MetaFeatures,
    /// The portfolio data sets the zero-shot step found nearest.
    pub neighbours: Vec<String>,
    /// The rows of each rung.
    pub rungs: Vec<usize>,
    /// Seconds from the start to the end of the final refit.
    pub elapsed: f64,
    /// Why the search stopped.
    pub stopped_by: StoppedBy,
    /// The trial whose candidate was chosen.
    pub best_trial: usize,
    /// The candidates of the prior defaults, best prior first (see
    /// [`crate::meta::portfolio::Portfolio::prior_defaults`]; empty when
    /// `keep_prior_default` is off or the portfolio names none of the searched families).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prior_defaults: Vec<usize>,
    /// Why the chosen candidate was chosen rather than the better prior default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<String>,
    /// Every trial, in the order made.
    pub trials: Vec<Trial>,
    /// The ensemble selection over the best candidates' out-of-fold predictions, when it
    /// ran; when `used`, the fitted model is that ensemble and `best_trial` names the best
    /// single candidate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensemble: Option<EnsembleReport>,
}

/// One candidate: a pipeline config and where it came from.
#[derive(Debug, Clone)]
struct Candidate {
    config: TrainConfig,
    model: Value,
    origin: Origin,
}

/// A job: candidate `candidate` on rung `rung`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Job {
    candidate: usize,
    rung: usize,
}

/// The rows and splits of one rung (global row indices).
struct Rung {
    rows: usize,
    splits: Vec<Split>,
}

/// The state of a search in progress.
pub(crate) struct Search<'a> {
    spec: &'a AutoSearch,
    kind: Estimator,
    data: TableData<'a>,
    metric: Box<dyn Metric>,
    sign: f64,
    profile: InputProfile,
    encoded_width: usize,
    user_steps: Vec<Step>,
    families: Vec<&'static str>,
    seed: u64,
    rungs: Vec<Rung>,
    candidates: Vec<Candidate>,
    queue: VecDeque<usize>,
    seen: HashSet<String>,
    trials: Vec<Trial>,
    promoted: HashSet<(usize, usize)>,
    /// Per rung, the scored trials (indices) best first.
    ranking: Vec<Vec<usize>>,
    /// Per rung, the finished trials.
    finished: Vec<usize>,
    /// Per candidate, its trials (indices).
    by_candidate: Vec<Vec<usize>>,
    validation: String,
    meta_features: MetaFeatures,
    neighbours: Vec<String>,
    /// The candidates of the prior defaults, promoted through every rung; the better of
    /// them is kept unless a challenger is clearly better.
    prior: Vec<usize>,
    n_generated: u64,
    /// The first rung of every row, whose out-of-fold predictions feed ensemble selection.
    ens_rung: usize,
    /// The out-of-fold predictions of the best candidates on `ens_rung`.
    oof: OofStore,
}

/// What ensemble selection found, and the voting config when the search uses it.
type EnsembleChoice = (EnsembleReport, Option<TrainConfig>);

fn task_name(task: &Task) -> &'static str {
    match task {
        Task::Classification { .. } => "classification",
        _ => "regression",
    }
}

/// The splits of `rows` (sorted global indices) for `cv`, stratified for a classifier when
/// every class allows it.
fn splits_of(
    rows: &[usize],
    y: &[f64],
    cv: CvChoice,
    stratify: bool,
    seed: u64,
) -> Result<Vec<Split>> {
    let (k, first_only) = match cv {
        CvChoice::Folds(k) => (k, false),
        CvChoice::Holdout(f) => (((1.0 / f).round() as usize).max(2), true),
        CvChoice::Auto => (5, false),
    };
    let y_sub: Vec<f64> = rows
        .iter()
        .map(|&i| y.get(i).copied().unwrap_or(f64::NAN))
        .collect();
    let stratified = if stratify {
        StratifiedKFold::new(k)
            .shuffle(seed)
            .split_indices(rows.len(), Some(&y_sub))
            .ok()
    } else {
        None
    };
    let local = match stratified {
        Some(s) => s,
        None => KFold::new(k)
            .shuffle(seed)
            .split_indices(rows.len(), None)?,
    };
    let to_global =
        |v: &[usize]| -> Vec<usize> { v.iter().filter_map(|&i| rows.get(i).copied()).collect() };
    Ok(local
        .iter()
        .take(if first_only { 1 } else { usize::MAX })
        .map(|s| Split {
            train: to_global(&s.train),
            test: to_global(&s.test),
        })
        .collect())
}

/// The number of model columns after one-hot encoding.
fn encoded_width(table: &Table, target: Option<&str>) -> usize {
    table
        .iter()
        .filter(|(name, _)| Some(*name) != target)
        .map(|(_, c)| match c {
            crate::data::Column::Numeric(_) => 1,
            crate::data::Column::Categorical(c) => c.categories().len().max(1),
        })
        .sum()
}

impl<'a> Search<'a> {
    /// Prepares a search of kind `kind` on `table` (with its `target` column): meta-features,
    /// zero-shot candidates, family defaults, rungs and splits.
    pub(crate) fn new(
        spec: &'a AutoSearch,
        kind: Estimator,
        base: &TrainConfig,
        table: &'a Table,
        target: &str,
        seed: u64,
    ) -> Result<Self> {
        spec.check(kind)?;
        let data = TableData::new(table, target, kind)?;
        let n = data.n_rows();
        if let Some(first_row) = data.y().iter().position(|v| v.is_nan()) {
            return Err(Error::UnlabeledRows {
                model: match kind {
                    Estimator::Classifier => "auto_classifier".into(),
                    _ => "auto_regressor".into(),
                },
                count: data.y().iter().filter(|v| v.is_nan()).count(),
                first_row,
            });
        }
        let labelled = data.y().len();
        if labelled < 10 {
            return Err(Error::InvalidArgument(format!(
                "an automatic search needs at least 10 labelled rows; the data hold {labelled}"
            )));
        }
        let metric_names: Vec<String> = spec.metric.iter().cloned().collect();
        let metric = resolve_metrics(&metric_names, data.target_task(), Some(kind))?
            .into_iter()
            .next()
            .ok_or_else(|| Error::InvalidArgument("no metric to rank trials by".into()))?;
        let sign = if metric.greater_is_better() {
            1.0
        } else {
            -1.0
        };
        let profile = features::profile(&data);
        let meta_features = features::compute(&data, seed)?;
        let families: Vec<&'static str> = space::searchable(kind)
            .into_iter()
            .filter(|f| spec.families.is_empty() || spec.families.iter().any(|g| g == f))
            .collect();

        // Rungs: every row, then thirds down to MIN_RUNG rows.
        let mut sizes = vec![n];
        while sizes.len() < MAX_RUNGS {
            let next = sizes.last().copied().unwrap_or(n) / ETA;
            if next < MIN_RUNG {
                break;
            }
            sizes.push(next);
        }
        sizes.reverse();
        let mut rng = crate::common::rng::for_task(seed, 0x7275_6e67);
        let order = crate::common::rng::permutation(n, &mut rng);
        let cv = spec.cv.resolve(n);
        let stratify = kind == Estimator::Classifier;
        let plan: Vec<(usize, u64)> = sizes
            .iter()
            .map(|&size| (size, seed))
            .chain((1..=repeats(n) as u64).map(|r| (n, seed.wrapping_add(r))))
            .collect();
        let rungs = plan
            .iter()
            .map(|&(size, split_seed)| {
                let mut rows: Vec<usize> = order.iter().copied().take(size).collect();
                rows.sort_unstable();
                Ok(Rung {
                    rows: size,
                    splits: splits_of(&rows, data.y(), cv, stratify, split_seed)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let n_rungs = rungs.len();
        let ens_rung = sizes.len().saturating_sub(1);
        let validation = match cv {
            CvChoice::Folds(k) => format!("{k} folds"),
            CvChoice::Holdout(f) => format!("holdout {f}"),
            CvChoice::Auto => "auto".into(),
        };
        let encoded_width = encoded_width(table, Some(target));
        let mut search = Self {
            spec,
            kind,
            metric,
            sign,
            profile,
            encoded_width,
            user_steps: base.preprocess.clone(),
            families,
            seed,
            rungs,
            candidates: Vec::new(),
            queue: VecDeque::new(),
            seen: HashSet::new(),
            trials: Vec::new(),
            promoted: HashSet::new(),
            ranking: vec![Vec::new(); n_rungs],
            finished: vec![0; n_rungs],
            by_candidate: Vec::new(),
            validation,
            meta_features,
            neighbours: Vec::new(),
            prior: Vec::new(),
            n_generated: 0,
            ens_rung,
            oof: OofStore::default(),
            data,
        };
        let portfolio = Portfolio::shipped()?;
        let (zero, neighbours) = portfolio.zero_shot(
            &search.meta_features,
            task_name(search.data.target_task()),
            &spec.portfolio_exclude,
            usize::MAX,
        );
        search.neighbours = neighbours;
        let mut proposed = 0;
        for model in zero {
            if proposed >= spec.zero_shot {
                break;
            }
            if search.add(model, Origin::ZeroShot)? {
                proposed += 1;
            }
        }
        for f in search.families.clone() {
            search.add(space::default_config(f)?, Origin::Default)?;
        }
        if spec.keep_prior_default {
            let task = task_name(search.data.target_task());
            search.prior = portfolio
                .prior_defaults(
                    task,
                    &spec.portfolio_exclude,
                    &search.families,
                    PRIOR_DEFAULTS,
                )
                .into_iter()
                .filter_map(|v| search.candidates.iter().position(|c| c.model == v))
                .collect();
        }
        Ok(search)
    }

    /// Adds a candidate unless it repeats one or is of a family not searched; returns
    /// whether it was added.
    fn add(&mut self, model: Value, origin: Origin) -> Result<bool> {
        let Some(type_name) = model.get("type").and_then(Value::as_str) else {
            return Ok(false);
        };
        if !self.families.contains(&type_name) {
            return Ok(false);
        }
        let key = model.to_string();
        if !self.seen.insert(key) {
            return Ok(false);
        }
        let mut params = model.clone();
        if let Value::Object(obj) = &mut params {
            obj.remove("type");
        }
        let config = ModelConfig::from_json_parts(type_name, params)?;
        let preprocess = if self.user_steps.is_empty() {
            space::preprocess_for(type_name, &self.profile)?
        } else {
            self.user_steps.clone()
        };
        let config = TrainConfig {
            model: config,
            preprocess,
            random_state: None,
            n_threads: None,
            unlabeled_token: None,
        };
        self.candidates.push(Candidate {
            config,
            model,
            origin,
        });
        self.queue.push_back(self.candidates.len() - 1);
        self.by_candidate.push(Vec::new());
        Ok(true)
    }

    /// A new neighbour of one of the three best candidates so far (a random configuration
    /// when none has scored yet).
    fn generate(&mut self) -> Result<bool> {
        for _ in 0..32 {
            self.n_generated += 1;
            let mut rng = crate::common::rng::for_task(self.seed, 0x6e65_0000 + self.n_generated);
            let parents = self.leaders(3);
            // Mostly neighbours of the leaders; one draw in four (and every draw once the
            // neighbourhood is used up) a fresh random configuration.
            let explore =
                parents.is_empty() || rng.gen_range(0..4) == 0 || self.n_generated % 64 >= 48;
            let parent = if explore {
                None
            } else {
                parents.get(rng.gen_range(0..parents.len()))
            };
            let child = match parent {
                Some(&p) => match self.candidates.get(p) {
                    Some(c) => space::neighbour(&c.model, &mut rng)?,
                    None => continue,
                },
                None => {
                    let i = rng.gen_range(0..self.families.len().max(1));
                    match self.families.get(i) {
                        Some(f) => space::random_config(f, &mut rng)?,
                        None => return Ok(false),
                    }
                }
            };
            if self.add(child, Origin::Neighbour)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The highest rung with a scored trial.
    fn top_rung(&self) -> Option<usize> {
        self.ranking.iter().rposition(|r| !r.is_empty())
    }

    /// Scored trials of `rung`, best first by repeated score (ties: the earlier trial).
    fn ranked(&self, rung: usize) -> Vec<&Trial> {
        self.ranking
            .get(rung)
            .map(|r| r.iter().filter_map(|&i| self.trials.get(i)).collect())
            .unwrap_or_default()
    }

    /// The ranking key of a trial (larger is better).
    fn key(&self, t: &Trial) -> f64 {
        self.sign * t.repeated_score.unwrap_or(f64::NAN)
    }

    /// Records a finished trial: its repeated score and standard error (over the
    /// candidate's trials on the same rows), its place in its rung's ranking.
    fn record(&mut self, mut trial: Trial, oof: Option<Vec<f64>>) {
        let id = self.trials.len();
        trial.id = id;
        let family = trial.config.model.type_name();
        if let (Some(values), Some(score), TrialStatus::Ok, true) = (
            oof,
            trial.score,
            trial.status,
            space::joins_ensembles(family),
        ) {
            self.oof.insert(Oof {
                candidate: trial.candidate,
                family,
                trial: id,
                key: self.sign * score,
                values,
            });
        }
        if let (Some(score), Some(mine)) = (trial.score, self.by_candidate.get(trial.candidate)) {
            let same_rows: Vec<&Trial> = mine
                .iter()
                .filter_map(|&i| self.trials.get(i))
                .filter(|t| t.n_rows == trial.n_rows && t.status == TrialStatus::Ok)
                .collect();
            let m = (same_rows.len() + 1) as f64;
            let sum = same_rows.iter().filter_map(|t| t.score).sum::<f64>() + score;
            trial.repeated_score = Some(sum / m);
            let ses: Option<Vec<f64>> = same_rows
                .iter()
                .map(|t| t.std_error)
                .chain(std::iter::once(trial.std_error))
                .collect();
            trial.std_error = ses.map(|v| v.iter().map(|e| e * e).sum::<f64>().sqrt() / m);
        }
        if let Some(f) = self.finished.get_mut(trial.rung) {
            *f += 1;
        }
        if let Some(list) = self.by_candidate.get_mut(trial.candidate) {
            list.push(id);
        }
        if trial.status == TrialStatus::Ok {
            let key = self.key(&trial);
            if let Some(r) = self.ranking.get(trial.rung) {
                let at =
                    r.partition_point(|&i| self.trials.get(i).is_some_and(|t| self.key(t) >= key));
                if let Some(r) = self.ranking.get_mut(trial.rung) {
                    r.insert(at, id);
                }
            }
        }
        self.trials.push(trial);
    }

    /// The best `k` candidates on the highest rung reached.
    fn leaders(&self, k: usize) -> Vec<usize> {
        self.top_rung()
            .map(|r| self.ranked(r).iter().take(k).map(|t| t.candidate).collect())
            .unwrap_or_default()
    }

    /// The next job: a prior default's promotion, then a promotion (highest rung first),
    /// then a new candidate.
    fn next_job(&mut self, pending: &[Job]) -> Result<Option<Job>> {
        // A prior default goes up as soon as it is scored, whatever its rank, but never
        // above the highest rung another candidate reached (so it does not make the top
        // rung on its own): the choice compares the best candidate with the better of them.
        let frontier = self
            .trials
            .iter()
            .map(|t| (t.candidate, t.rung))
            .chain(pending.iter().map(|j| (j.candidate, j.rung)))
            .filter(|(c, _)| !self.prior.contains(c))
            .map(|(_, r)| r)
            .max()
            .unwrap_or(0);
        for &p in &self.prior {
            for rung in (0..frontier).rev() {
                let job = Job {
                    candidate: p,
                    rung: rung + 1,
                };
                let scored = self.ranked(rung).iter().any(|t| t.candidate == p);
                if scored && !self.promoted.contains(&(p, rung + 1)) && !pending.contains(&job) {
                    return Ok(Some(job));
                }
            }
        }
        for rung in (0..self.rungs.len().saturating_sub(1)).rev() {
            let ranked = self.ranked(rung);
            let finished = self.finished.get(rung).copied().unwrap_or(0);
            let allowed = finished / ETA;
            let next = ranked.iter().take(allowed).map(|t| t.candidate).find(|&c| {
                !self.promoted.contains(&(c, rung + 1))
                    && !pending.contains(&Job {
                        candidate: c,
                        rung: rung + 1,
                    })
            });
            if let Some(candidate) = next {
                return Ok(Some(Job {
                    candidate,
                    rung: rung + 1,
                }));
            }
        }
        if self.queue.is_empty() && !self.generate()? {
            return Ok(None);
        }
        Ok(self
            .queue
            .pop_front()
            .map(|candidate| Job { candidate, rung: 0 }))
    }

    /// Runs one job under a deadline; on the ensemble rung, also returns the candidate's
    /// out-of-fold predictions (row-major, in split order).
    fn run(&self, job: Job, deadline: Option<Instant>) -> (Trial, Option<Vec<f64>>) {
        let mut trial = Trial {
            id: 0,
            candidate: job.candidate,
            origin: Origin::Default,
            config: TrainConfig::new(ModelConfig::DummyRegressor(Default::default())),
            rung: job.rung,
            n_rows: 0,
            score: None,
            repeated_score: None,
            std_error: None,
            fold_scores: Vec::new(),
            fit_time: 0.0,
            status: TrialStatus::Failed,
            message: None,
        };
        let (Some(candidate), Some(rung)) =
            (self.candidates.get(job.candidate), self.rungs.get(job.rung))
        else {
            trial.message = Some("internal: unknown candidate or rung".into());
            return (trial, None);
        };
        trial.origin = candidate.origin;
        trial.config = candidate.config.clone();
        trial.n_rows = rung.rows;
        let mib = space::estimated_mib(&candidate.config.model, rung.rows, self.encoded_width);
        if mib > self.spec.trial_memory_limit {
            trial.status = TrialStatus::SkippedMemory;
            trial.message = Some(format!(
                "estimated {mib:.0} MiB, above trial_memory_limit = {} MiB",
                self.spec.trial_memory_limit
            ));
            return (trial, None);
        }
        let cancel = move |_e: &FitEvent<'_>| match deadline {
            Some(d) if Instant::now() >= d => Control::Cancel,
            _ => Control::Continue,
        };
        let ctx = FitContext::new().random_state(self.seed).callback(&cancel);
        let metrics = std::slice::from_ref(&self.metric);
        let keep = self.spec.ensemble_size > 0 && job.rung == self.ens_rung;
        let mut oof: Option<Vec<f64>> = keep.then(Vec::new);
        let mut scores = Vec::with_capacity(rung.splits.len());
        for split in &rung.splits {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                trial.status = TrialStatus::TimedOut;
                trial.message = Some("the trial's time ran out between folds".into());
                return (trial, None);
            }
            match run_fold_keeping(
                &self.data,
                &candidate.config,
                split,
                metrics,
                false,
                keep,
                &ctx,
            ) {
                Ok(fold) => {
                    trial.fit_time += fold.fit_time;
                    scores.push(fold.test.first().copied().unwrap_or(f64::NAN));
                    oof = oof.and_then(|mut acc| {
                        self.append_oof(&mut acc, fold.kept?, split.test.len())
                            .then_some(acc)
                    });
                }
                Err(Error::Cancelled(_)) => {
                    trial.status = TrialStatus::TimedOut;
                    trial.message = Some("cut by its time limit".into());
                    return (trial, None);
                }
                Err(e) => {
                    trial.message = Some(e.to_string());
                    return (trial, None);
                }
            }
        }
        let mean = scores.iter().sum::<f64>() / scores.len().max(1) as f64;
        if scores.len() > 1 {
            let k = scores.len() as f64;
            let var = scores.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / (k - 1.0);
            trial.std_error = Some((var / k).sqrt()).filter(|v| v.is_finite());
        }
        if mean.is_finite() {
            trial.score = Some(mean);
            trial.fold_scores = scores;
            trial.status = TrialStatus::Ok;
        } else {
            trial.message = Some(format!("the score is not finite ({mean})"));
        }
        (trial, oof)
    }

    /// Values per row of the out-of-fold predictions: the class count or 1.
    fn oof_width(&self) -> usize {
        match self.data.target_task() {
            Task::Classification { classes } => classes.len(),
            _ => 1,
        }
    }

    /// Appends one fold's kept predictions of `rows` test rows to `acc`; false when they do
    /// not have the expected shape (the candidate then stays out of the ensemble).
    fn append_oof(
        &self,
        acc: &mut Vec<f64>,
        kept: crate::evaluate::selection::cross_validate::FoldPrediction,
        rows: usize,
    ) -> bool {
        let width = self.oof_width();
        match (self.kind, kept.scores) {
            (Estimator::Classifier, Some(p)) if p.dim() == (rows, width) => {
                acc.extend(p.iter().copied());
                true
            }
            (Estimator::Classifier, _) => false,
            _ if kept.values.len() == rows => {
                acc.extend(kept.values.iter().copied());
                true
            }
            _ => false,
        }
    }

    /// The targets of the rows the ensemble rung scores, in split order.
    fn oof_targets(&self) -> Vec<f64> {
        let y = self.data.y();
        self.rungs
            .get(self.ens_rung)
            .map(|r| {
                r.splits
                    .iter()
                    .flat_map(|s| s.test.iter())
                    .map(|&i| y.get(i).copied().unwrap_or(f64::NAN))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Seconds a refit of `trial`'s candidate on every row is expected to take.
    fn refit_seconds(&self, trial: &Trial) -> f64 {
        let folds = self
            .rungs
            .get(trial.rung)
            .map_or(1, |g| g.splits.len().max(1)) as f64;
        trial.fit_time / folds * (self.data.n_rows() as f64 / trial.n_rows.max(1) as f64) * 1.25
    }

    /// Ensemble selection over the kept out-of-fold predictions, and the voting config of
    /// the ensemble when it is used: two members or more, an out-of-fold gain over the best
    /// single candidate (cross-fitted) larger than the gain's standard error, and time left for its refit.
    fn ensemble(&self, deadline: Option<Instant>) -> Result<Option<EnsembleChoice>> {
        if self.spec.ensemble_size == 0 {
            return Ok(None);
        }
        let y = self.oof_targets();
        let scoring = Scoring {
            y: &y,
            width: self.oof_width(),
            classification: self.kind == Estimator::Classifier,
            metric: self.metric.as_ref(),
            sign: self.sign,
        };
        let Some(mut report) =
            ensemble::select(&self.oof, &scoring, self.spec.ensemble_size, self.seed)?
        else {
            return Ok(None);
        };
        let refit: f64 = report
            .members
            .iter()
            .filter_map(|m| self.trials.get(m.trial))
            .map(|t| self.refit_seconds(t))
            .sum();
        let left = deadline
            .map(|d| d.saturating_duration_since(Instant::now()).as_secs_f64() + self.slack());
        report.why_not = if report.members.len() < 2 {
            Some("the best round holds one candidate".into())
        } else if report
            .cross_fitted_gain
            .is_none_or(|g| g <= report.gain_std_error)
        {
            Some(format!(
                "its cross-fitted gain over the best single candidate ({}) is not larger than \
                 the gain's standard error ({:.4}; the gain on the rows that selected it: {:.4})",
                report
                    .cross_fitted_gain
                    .map_or_else(|| "not measured".to_string(), |g| format!("{g:.4}")),
                report.gain_std_error,
                self.sign * (report.score - report.best_single_score),
            ))
        } else if left.is_some_and(|l| refit > l) {
            Some(format!(
                "its refit (about {refit:.1} s) does not fit in the {:.1} s left",
                left.unwrap_or(0.0)
            ))
        } else {
            None
        };
        report.used = report.why_not.is_none();
        if !report.used {
            return Ok(Some((report, None)));
        }
        let members: Vec<TrainConfig> = report
            .members
            .iter()
            .filter_map(|m| self.candidates.get(m.candidate))
            .map(|c| c.config.clone())
            .collect();
        let weights = Some(report.members.iter().map(|m| m.weight).collect());
        let model = match self.kind {
            Estimator::Classifier => ModelConfig::VotingClassifier(
                VotingClassifier::new(members)
                    .voting(Voting::Soft)
                    .weights(weights),
            ),
            _ => ModelConfig::VotingRegressor(VotingRegressor::new(members).weights(weights)),
        };
        Ok(Some((report, Some(TrainConfig::new(model)))))
    }

    /// The candidate the one-standard-error rule picks on the highest rung reached: of the
    /// candidates scored within one standard error of the best mean, the one proposed first
    /// (portfolio choices and family defaults come before neighbours). Among many close
    /// candidates, the best cross-validated mean is mostly luck; the rule keeps what was
    /// known to work unless something is clearly better.
    fn one_se(&self) -> Option<&Trial> {
        let ranked = self.ranked(self.top_rung()?);
        let best = *ranked.first()?;
        let margin = best.std_error.unwrap_or(0.0);
        let bound = self.key(best) - margin;
        ranked
            .into_iter()
            .filter(|t| self.key(t) >= bound)
            .min_by_key(|t| (t.candidate, t.id))
    }

    /// The trial whose candidate is chosen, and why: the one-standard-error pick, unless
    /// the better of the prior defaults (by the mean score of its highest rung) is not
    /// clearly beaten: the pick's paired gain over it (the trimmed mean of the fold-by-fold
    /// differences, on every split of all the rows both were scored on) is not larger than
    /// the gain's standard error. On small data, where
    /// cross-validation cannot tell close candidates apart, this keeps a default that did
    /// well across the portfolio's data sets rather than the luckiest of many trials.
    fn choose(&self) -> Option<(&Trial, Option<String>)> {
        let pick = self.one_se()?;
        if self.prior.is_empty() {
            return Some((pick, None));
        }
        let name = |t: &Trial| t.config.model.type_name();
        // The better prior default: its trial on the highest rung it reached (ties: the
        // better prior).
        let mut prior: Option<&Trial> = None;
        for &p in &self.prior {
            let last = self
                .by_candidate
                .get(p)
                .into_iter()
                .flatten()
                .filter_map(|&i| self.trials.get(i))
                .filter(|t| t.status == TrialStatus::Ok)
                .max_by_key(|t| (t.rung, t.id));
            if let Some(t) = last {
                let better = match prior {
                    None => true,
                    Some(b) => t.rung > b.rung || (t.rung == b.rung && self.key(t) > self.key(b)),
                };
                if better {
                    prior = Some(t);
                }
            }
        }
        let Some(prior) = prior else {
            return Some((pick, Some("no prior default was scored".into())));
        };
        if pick.candidate == prior.candidate {
            return Some((
                pick,
                Some(format!(
                    "the prior default ({}) is the one-standard-error choice",
                    name(pick)
                )),
            ));
        }
        let (gain, se, n) = self.paired_gain(pick, prior);
        if n == 0 {
            return Some((
                pick,
                Some(format!(
                    "the prior default ({}) was not scored on the splits of every row",
                    name(prior)
                )),
            ));
        }
        let detail = format!(
            "paired gain of candidate {} ({}) over the prior default, candidate {} ({}): \
             {gain:.4} (trimmed mean), corrected standard error {se:.4}, {n} splits",
            pick.candidate,
            name(pick),
            prior.candidate,
            name(prior)
        );
        if gain > se {
            Some((
                pick,
                Some(format!("{detail}: the challenger is clearly better")),
            ))
        } else {
            Some((prior, Some(format!("{detail}: the prior default is kept"))))
        }
    }

    /// The trimmed mean and standard error of the paired differences (larger is better for
    /// `a`) between the fold scores of `a`'s and `b`'s candidates on the repeated rungs of
    /// all the rows where both were scored (on the first rung of every row when no repeated
    /// one holds both), and the number of pairs (0: no pairs, and no gain).
    ///
    /// The folds of repeated cross-validation share most of their training rows, so their
    /// differences are correlated and the plain `s/√m` is far too small: the standard error
    /// carries the correction of Nadeau and Bengio (2003), `√(1/m + n_test/n_train)`, as in
    /// the corrected repeated k-fold test of Bouckaert and Frank (2004). Fold scores can be
    /// heavy-tailed (r2 on a small fold), so the gain is Yuen's trimmed mean and the error
    /// comes from the winsorized variance ([`paired::trimmed_gain`]).
    fn paired_gain(&self, a: &Trial, b: &Trial) -> (f64, f64, usize) {
        let n = self.data.n_rows();
        let folds = |c: usize, rung: usize| -> Option<&[f64]> {
            self.by_candidate
                .get(c)?
                .iter()
                .filter_map(|&i| self.trials.get(i))
                .find(|t| t.rung == rung && t.status == TrialStatus::Ok)
                .map(|t| t.fold_scores.as_slice())
        };
        let mut diffs: Vec<f64> = Vec::new();
        let mut test_to_train = 0.0_f64;
        // The repeated rungs first: the first rung of every row is where the pick was
        // promoted from among all the candidates, so its folds credit the pick's luck.
        // That rung counts only when no later one holds both.
        for later in [true, false] {
            for (rung, r) in self.rungs.iter().enumerate() {
                if r.rows != n || (rung > self.ens_rung) != later {
                    continue;
                }
                if let (Some(fa), Some(fb)) = (folds(a.candidate, rung), folds(b.candidate, rung)) {
                    if fa.len() == fb.len() {
                        diffs.extend(fa.iter().zip(fb).map(|(x, y)| self.sign * (x - y)));
                        if let Some(s) = r.splits.first() {
                            test_to_train = test_to_train
                                .max(s.test.len() as f64 / s.train.len().max(1) as f64);
                        }
                    }
                }
            }
            if !diffs.is_empty() {
                break;
            }
        }
        let (gain, se) = paired::trimmed_gain(&diffs, test_to_train);
        (gain, se, diffs.len())
    }

    /// Seconds kept free at the end of the search besides the refit estimate (1% of the
    /// budget; the budget is kept within 5%), so that quick refits are never refused for
    /// want of time.
    fn slack(&self) -> f64 {
        self.spec.budget().map_or(0.0, |b| b * 0.01)
    }

    /// Seconds the final refit of the current best is expected to take (twice that when
    /// an ensemble may be chosen, whose members are refitted too).
    fn refit_estimate(&self) -> f64 {
        let Some(r) = self.top_rung() else {
            return 0.0;
        };
        let Some(best) = self.ranked(r).first().copied() else {
            return 0.0;
        };
        let factor = if self.spec.ensemble_size > 0 {
            2.0
        } else {
            1.0
        };
        self.refit_seconds(best) * factor
    }

    /// Runs the search to its end; returns the chosen config and the report (its `elapsed`
    /// is set by the caller after the refit).
    pub(crate) fn run_all(
        mut self,
        search_type: &str,
        start: Instant,
        ctx: &FitContext<'_>,
        threads: Option<usize>,
    ) -> Result<(TrainConfig, SearchReport)> {
        let budget = self.spec.budget();
        let deadline = budget.map(|b| start + Duration::from_secs_f64(b));
        let trial_limit = self
            .spec
            .trial_time_limit
            .or(budget.map(|b| b / 4.0))
            .map(Duration::from_secs_f64);
        // One pool for the whole search (not one per batch): a search on a small table runs
        // thousands of batches.
        let pool = match threads {
            Some(n) if n > 0 => Some(crate::common::parallel::pool_of(n)?),
            _ => None,
        };
        let stopped_by = loop {
            let remaining = self
                .spec
                .max_trials
                .map(|m| m.saturating_sub(self.trials.len()));
            if remaining == Some(0) {
                break StoppedBy::MaxTrials;
            }
            // Leave time for the final refit.
            let reserve = Duration::from_secs_f64(self.refit_estimate() + self.slack());
            let search_end = deadline.map(|d| d.checked_sub(reserve).unwrap_or(d));
            if search_end.is_some_and(|e| Instant::now() >= e) {
                break StoppedBy::TimeBudget;
            }
            let mut jobs: Vec<Job> = Vec::new();
            while jobs.len() < BATCH.min(remaining.unwrap_or(BATCH)) {
                match self.next_job(&jobs)? {
                    Some(j) => jobs.push(j),
                    None => break,
                }
            }
            if jobs.is_empty() {
                break StoppedBy::Exhausted;
            }
            let now = Instant::now();
            let job_deadline = match (search_end, trial_limit) {
                (Some(e), Some(t)) => Some(e.min(now + t)),
                (Some(e), None) => Some(e),
                (None, Some(t)) => Some(now + t),
                (None, None) => None,
            };
            let this = &self;
            let run_batch = || {
                jobs.par_iter()
                    .map(|&j| this.run(j, job_deadline))
                    .collect::<Vec<(Trial, Option<Vec<f64>>)>>()
            };
            let results = match &pool {
                Some(p) => p.install(run_batch),
                None => run_batch(),
            };
            let mut stop = None;
            for (job, (trial, oof)) in jobs.iter().zip(results) {
                if job.rung > 0 {
                    self.promoted.insert((job.candidate, job.rung));
                }
                let best = self
                    .top_rung()
                    .and_then(|r| self.ranked(r).first().and_then(|t| t.repeated_score))
                    .unwrap_or(f64::NAN);
                let values = [
                    ("score", trial.score.unwrap_or(f64::NAN)),
                    ("best", best),
                    ("rung", job.rung as f64),
                ];
                self.record(trial, oof);
                let event = FitEvent {
                    stage: search_type,
                    iteration: self.trials.len(),
                    total: self.spec.max_trials,
                    values: &values,
                };
                match ctx.report(&event) {
                    Control::Continue => {}
                    Control::Stop => stop = Some(StoppedBy::Callback),
                    Control::Cancel => {
                        return Err(Error::Cancelled(format!(
                            "{search_type}: cancelled by the callback after {} trials",
                            self.trials.len()
                        )))
                    }
                }
            }
            if let Some(s) = stop {
                break s;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break StoppedBy::TimeBudget;
            }
        };
        let best = self.choose().map(|(t, why)| (t.id, t.config.clone(), why));
        let Some((best_trial, single, choice)) = best else {
            return Err(self.nothing_fitted(search_type));
        };
        let ensemble = self.ensemble(deadline)?;
        let (config, ensemble) = match ensemble {
            Some((report, Some(voting))) => (voting, Some(report)),
            Some((report, None)) => (single, Some(report)),
            None => (single, None),
        };
        let report = SearchReport {
            search_type: search_type.to_string(),
            settings: self.spec.clone(),
            metric: self.metric.name().to_string(),
            validation: self.validation.clone(),
            meta_features: self.meta_features.clone(),
            neighbours: self.neighbours.clone(),
            rungs: self.rungs.iter().map(|r| r.rows).collect(),
            elapsed: 0.0,
            stopped_by,
            best_trial,
            prior_defaults: self.prior,
            choice,
            trials: self.trials,
            ensemble,
        };
        Ok((config, report))
    }

    /// The error of a search where no trial scored: how many trials ended how, and the
    /// first messages.
    fn nothing_fitted(&self, search_type: &str) -> Error {
        let count = |s: TrialStatus| self.trials.iter().filter(|t| t.status == s).count();
        let mut messages: Vec<String> = Vec::new();
        for t in &self.trials {
            if let Some(m) = &t.message {
                let line = format!("{}: {m}", t.config.model.type_name());
                if !messages.contains(&line) && messages.len() < 5 {
                    messages.push(line);
                }
            }
        }
        Error::InvalidArgument(format!(
            "{search_type}: no model was fitted: {} trials ({} failed, {} timed out, {} \
             skipped for memory){}{}",
            self.trials.len(),
            count(TrialStatus::Failed),
            count(TrialStatus::TimedOut),
            count(TrialStatus::SkippedMemory),
            if messages.is_empty() {
                String::new()
            } else {
                format!("; first reasons: {}", messages.join("; "))
            },
            if count(TrialStatus::TimedOut) > 0 {
                "; raise time_budget or trial_time_limit"
            } else {
                ""
            }
        ))
    }
}
