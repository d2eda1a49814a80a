//! gatecheck decides whether a release candidate of an HTTP API may ship.
//!
//! ```text
//! sources (k6 summary, raw results, env, Prometheus, scrape) ──► Evidence
//!                                        load (native runner) ──┘   │
//!                              policy::evaluate (pure) ◄────────────┘
//!                                        │
//!                                     Verdict ──► report (table, JSON, JUnit, Markdown) + exit code
//! ```
//! Layers import only downward: `metrics` (figures with provenance) at the ground; `policy`
//! (gates, thresholds, the pure evaluator, the verdict) above it; `sources`, `load` and
//! `report` above that; `demo` (the embedded target) next; `commands` on top, with `cli` and
//! `settings` at the edge. A breached gate is an outcome (exit 1), not an error; anything that
//! prevents judging — unreadable evidence, a broken policy, a bad setting, an unreachable
//! server — is an `Error` (exit 2).

pub mod cli;
pub mod commands;
pub mod demo;
pub mod env;
pub mod error;
pub mod escape;
pub mod input;
pub mod load;
pub mod metrics;
pub mod policy;
pub mod report;
pub mod secret;
pub mod settings;
pub mod sources;

pub use commands::{run, Outcome};
