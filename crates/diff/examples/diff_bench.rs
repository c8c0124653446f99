//! Times a comparison: `diff_bench A B` (run arguments as `RunSpec::parse` takes them).
use phonehome_diff::{diff_runs, render_table, DiffOptions, RunSpec, TableOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: Vec<RunSpec> = std::env::args()
        .skip(1)
        .map(|a| RunSpec::parse(&a))
        .collect::<Result<_, _>>()?;
    let started = std::time::Instant::now();
    let outcome = diff_runs(&runs, &DiffOptions::default())?;
    let secs = started.elapsed().as_secs_f64();
    render_table(
        &outcome,
        &mut std::io::stdout().lock(),
        &TableOptions::default(),
    )?;
    let bytes: u64 = outcome.summary.inputs.iter().map(|i| i.bytes).sum();
    eprintln!(
        "{} requests, {} endpoints, {} findings in {secs:.2} s ({:.1} MB/s)",
        outcome.summary.counts.requests,
        outcome.endpoints.len(),
        outcome.findings.len(),
        bytes as f64 / 1e6 / secs
    );
    Ok(())
}
