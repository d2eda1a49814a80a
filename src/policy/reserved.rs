//! gatecheck's own verdict rows — run integrity (partial runs, remote-write, evidence age,
//! nothing judged, `check --watch` stability) and k6's own thresholds — carry reserved ids.
//! A policy gate or freshness entry with such an id is a policy error, and no waiver ever
//! covers a row of gatecheck's own (freshness rows included): otherwise a policy gate named
//! `run-integrity` would let its waiver ship a partial run or six-year-old evidence.
//!
//! Ids are compared folded (case, `_` for `-`), so `Run_Integrity` cannot stand in either.

use crate::policy::Policy;

/// Facts about the run and its evidence: partial run, refused pushes, evidence age, nothing
/// judged, watch stability.
pub const RUN_INTEGRITY: &str = "run-integrity";
/// k6's own threshold verdicts recorded in a summary.
pub const K6_THRESHOLDS: &str = "k6-thresholds";

/// Every id gatecheck writes rows under, plus names kept free for rows of its own.
pub const IDS: &[&str] =
    &[RUN_INTEGRITY, K6_THRESHOLDS, "evidence-age", "freshness", "coverage", "nothing-judged", "waivers", "gatecheck"];

fn fold(id: &str) -> String {
    id.trim().to_ascii_lowercase().replace('_', "-")
}

/// True when `id` is (a spelling of) a reserved id.
pub fn is_reserved(id: &str) -> bool {
    let id = fold(id);
    IDS.iter().any(|reserved| *reserved == id)
}

/// Why a policy may not use `id` for a gate or freshness entry, when it may not.
pub fn check_policy_id(id: &str) -> Result<(), String> {
    if is_reserved(id) {
        return Err(format!("id {id:?} is reserved for gatecheck's own rows ({}): choose another id", IDS.join(", ")));
    }
    Ok(())
}

/// True when a row under `gate` is one of gatecheck's own, which no waiver covers: a reserved
/// id, or a freshness requirement (the evidence's age is a fact, not a breach to sign off).
pub fn is_own_row(policy: &Policy, gate: &str) -> bool {
    is_reserved(gate) || policy.freshness.iter().any(|f| f.id == gate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_a_reserved_id_is_reserved() {
        for id in ["run-integrity", "Run_Integrity", " k6_thresholds ", "EVIDENCE-AGE"] {
            assert!(is_reserved(id), "{id}");
        }
        for id in ["read-latency", "integrity", "run-integrity-2"] {
            assert!(!is_reserved(id), "{id}");
        }
    }
}
