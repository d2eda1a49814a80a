//! How old load-test evidence is (`--max-evidence-age`): a native summary records when its run
//! ended; k6's files record no time of their own, so their modification time stands in, and
//! the verdict row says which was used. Raw results carry their points' times: their date is
//! the newest point's, so copying an artifact (which resets its modification time) changes
//! nothing.

use std::path::Path;

use crate::metrics::MetricSet;
use crate::policy::evaluate::EvidenceTime;

/// The end of the run behind a summary: `gatecheck.ended_at` when recorded, else the file's
/// modification time.
pub fn of_summary(set: &MetricSet, path: &Path) -> EvidenceTime {
    let recorded = set
        .run
        .as_ref()
        .and_then(|run| run.ended_at.as_deref())
        .and_then(|text| time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok());
    match recorded {
        Some(ended) => EvidenceTime {
            path: set.path.clone(),
            ended_at: Some(ended.unix_timestamp()),
            how: "its recorded end time (gatecheck.ended_at)".into(),
        },
        None if path.as_os_str() == "-" => EvidenceTime {
            path: set.path.clone(),
            ended_at: None,
            how: "standard input has no modification time and the summary records no end time".into(),
        },
        None => of_file(path),
    }
}

/// A file's modification time, for evidence that records no time of its own (k6's files).
pub fn of_file(path: &Path) -> EvidenceTime {
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64);
    EvidenceTime {
        path: path.display().to_string(),
        ended_at: modified,
        how: match modified {
            Some(_) => "the file's modification time (k6 records no end time)".into(),
            None => "the file's modification time cannot be read".into(),
        },
    }
}

/// The end of the runs behind raw results: each file's newest point.
pub fn of_raw(stats: &crate::sources::k6_ndjson::RawStats) -> Vec<EvidenceTime> {
    stats
        .newest_point
        .iter()
        .map(|(path, newest)| EvidenceTime {
            path: path.clone(),
            ended_at: *newest,
            how: match newest {
                Some(_) => "its newest point's time".into(),
                None => "it holds no point with a time".into(),
            },
        })
        .collect()
}
