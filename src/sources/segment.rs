//! Execution segments: one runner runs exactly the I-th of N disjoint parts of a scenario, as
//! k6's `--execution-segment` does, so N runners (Kubernetes Indexed Job pods, CI matrix jobs)
//! together are the unsplit run: the same VUs, the same iterations due, the same request cap.
//!
//! - VUs (and the open model's in-flight limit, and the request cap) are split with
//!   `floor((I+1)·V/N) − floor(I·V/N)`, which sums to V exactly over the N segments.
//! - In the open model iteration n of a flow (due at start + n/R on the unsplit schedule)
//!   belongs to segment n mod N, so every segment keeps the unsplit timing.

use std::fmt;
use std::time::Duration;

/// The I-th (0-based) of N segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub index: u32,
    pub count: u32,
}

impl Default for Segment {
    fn default() -> Segment {
        Segment::WHOLE
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Segment {
    /// The unsplit run.
    pub const WHOLE: Segment = Segment { index: 0, count: 1 };

    pub fn new(index: u32, count: u32) -> Result<Segment, String> {
        if count == 0 {
            return Err("the number of segments must be at least 1".into());
        }
        if index >= count {
            return Err(format!(
                "segment index {index} is out of range: expected 0 to {} (0-based) of {count}",
                count - 1
            ));
        }
        Ok(Segment { index, count })
    }

    /// `I/N`, 0-based.
    pub fn parse(text: &str) -> Result<Segment, String> {
        let (index, count) =
            text.trim().split_once('/').ok_or_else(|| format!("{text:?}: expected I/N, e.g. 0/4 (0-based)"))?;
        let number = |part: &str| {
            part.trim().parse::<u32>().map_err(|_| format!("{text:?}: expected I/N with whole numbers, e.g. 0/4"))
        };
        Segment::new(number(index)?, number(count)?)
    }

    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    /// This segment's share of `total` (VUs, a request cap): the shares of all N sum to it.
    pub fn share(&self, total: u64) -> u64 {
        let (i, n) = (u128::from(self.index), u128::from(self.count));
        let total = u128::from(total);
        ((i + 1) * total / n - i * total / n) as u64
    }

    /// The iteration number on the unsplit schedule of this segment's `local`-th iteration.
    pub fn iteration(&self, local: u64) -> u64 {
        local.saturating_mul(u64::from(self.count)).saturating_add(u64::from(self.index))
    }

    /// How many of the first `due` iterations of the unsplit schedule are this segment's.
    pub fn due_of(&self, due: u64) -> u64 {
        let (i, n) = (u64::from(self.index), u64::from(self.count));
        if due <= i {
            0
        } else {
            (due - i).div_ceil(n)
        }
    }

    /// The open-model arrivals this segment's plan schedules for a flow of a run planned to
    /// last `duration` that starts `start_after` into it, at `rate` per second: iteration n of
    /// the unsplit schedule is due n / rate after the flow's start, before the run's end. The
    /// one count the scheduler (`load::run`, its workers) runs and records (started + dropped)
    /// and every reader holds a native summary to (`sources::native_plan`).
    pub fn arrivals_due(&self, duration: Duration, start_after: Duration, rate: f64) -> u64 {
        let unsplit = (duration.saturating_sub(start_after).as_secs_f64() * rate).ceil();
        // A float to integer cast saturates (NaN gives 0): a bound, never a wrap.
        self.due_of(unsplit as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_sum_to_the_whole_like_k6_segments() {
        // k6: thirds of constant-vus 5 gave 2/2/1... in some order; the formula sums exactly.
        let thirds: Vec<u64> = (0..3).map(|i| Segment::new(i, 3).unwrap().share(5)).collect();
        assert_eq!(thirds.iter().sum::<u64>(), 5);
        assert!(thirds.iter().all(|s| (1..=2).contains(s)), "{thirds:?}");
        for n in 1..9u32 {
            for total in [0u64, 1, 2, 7, 100, 1_000_003] {
                let sum: u64 = (0..n).map(|i| Segment::new(i, n).unwrap().share(total)).sum();
                assert_eq!(sum, total, "{total} over {n}");
            }
        }
    }

    #[test]
    fn open_model_iterations_interleave_and_cover_the_schedule_once() {
        // k6: thirds of 7/s over 3 s = 21 due (22 with the one at 0 s in k6's count): every
        // iteration belongs to exactly one segment.
        for due in [0u64, 1, 2, 21, 22, 100] {
            let segments: Vec<Segment> = (0..3).map(|i| Segment::new(i, 3).unwrap()).collect();
            assert_eq!(segments.iter().map(|s| s.due_of(due)).sum::<u64>(), due);
            let mut seen: Vec<u64> =
                segments.iter().flat_map(|s| (0..s.due_of(due)).map(move |k| s.iteration(k))).collect();
            seen.sort();
            assert_eq!(seen, (0..due).collect::<Vec<_>>());
        }
    }

    #[test]
    fn arrivals_due_are_the_schedule_before_the_window_ends_split_over_segments() {
        // 5/s over 3 s: due at 0, 0.2, ..., 2.8 s: 15; a segment's share interleaves.
        let s = Duration::from_secs_f64;
        assert_eq!(Segment::WHOLE.arrivals_due(s(3.0), s(0.0), 5.0), 15);
        assert_eq!(Segment::WHOLE.arrivals_due(s(3.9), s(1.0), 5.0), 15);
        assert_eq!(Segment::WHOLE.arrivals_due(s(3.0), s(3.0), 5.0), 0);
        assert_eq!(Segment::WHOLE.arrivals_due(s(3.0), s(4.0), 5.0), 0);
        let thirds: u64 = (0..3).map(|i| Segment::new(i, 3).unwrap().arrivals_due(s(3.0), s(0.0), 7.0)).sum();
        assert_eq!(thirds, 21);
    }

    #[test]
    fn parse_and_refusals() {
        assert_eq!(Segment::parse("1/4").unwrap(), Segment { index: 1, count: 4 });
        assert!(Segment::parse("4/4").unwrap_err().contains("out of range"));
        assert!(Segment::parse("0/0").unwrap_err().contains("at least 1"));
        assert!(Segment::parse("a/b").is_err() && Segment::parse("3").is_err());
    }
}
