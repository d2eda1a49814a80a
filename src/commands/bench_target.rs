//! `gatecheck bench-target` (hidden): a minimal loopback server with a seeded delay mix, for
//! the load benchmark and fault tests.

use std::io::Write;

use crate::cli::BenchTargetArgs;
use crate::error::Error;

use super::Outcome;

pub async fn bench_target(args: BenchTargetArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    let body = args.body_bytes;
    crate::demo::bench_target::serve(args.port, args.delay_mix.as_deref(), args.truth_out.as_deref(), body, out)
        .await?;
    Ok(Outcome::Pass)
}
