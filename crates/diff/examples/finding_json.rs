//! Prints the differential findings of a comparison as JSON, one per line.
use phonehome_diff::{diff_runs, DiffOptions, RunSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: Vec<RunSpec> = std::env::args()
        .skip(1)
        .map(|a| RunSpec::parse(&a))
        .collect::<Result<_, _>>()?;
    let outcome = diff_runs(&runs, &DiffOptions::default())?;
    for f in &outcome.findings {
        println!("{}", serde_json::to_string(f)?);
    }
    Ok(())
}
