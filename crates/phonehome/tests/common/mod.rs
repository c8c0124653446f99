//! Shared by the end-to-end tests: running the pipeline and collecting what it reported.
#![allow(dead_code)]

use phonehome::model::{Finding, FlowRecord, Message, Summary, Warning};
use phonehome::{Analyzer, Options, Profile, Report};
use std::path::Path;

/// Everything a run reported.
#[derive(Default)]
pub struct Collected {
    pub messages: Vec<Message>,
    pub flows: Vec<FlowRecord>,
    pub warnings: Vec<Warning>,
    pub findings: Vec<Finding>,
    pub summary: Option<Summary>,
}

impl Report for Collected {
    fn message(&mut self, message: &Message) -> std::io::Result<()> {
        self.messages.push(message.clone());
        Ok(())
    }
    fn flow(&mut self, flow: &FlowRecord) -> std::io::Result<()> {
        self.flows.push(flow.clone());
        Ok(())
    }
    fn warning(&mut self, warning: &Warning) -> std::io::Result<()> {
        self.warnings.push(warning.clone());
        Ok(())
    }
    fn finish(&mut self, findings: &[Finding], summary: &Summary) -> std::io::Result<()> {
        self.findings = findings.to_vec();
        self.summary = Some(summary.clone());
        Ok(())
    }
}

/// Runs `inputs` with the profile at `profile` (if any) and returns what was reported.
pub fn run(profile: Option<&Path>, inputs: &[&Path]) -> Collected {
    let profile = profile.map(|p| {
        let text = std::fs::read_to_string(p).expect("profile readable");
        Profile::parse(&text).expect("profile valid").0
    });
    run_with(
        Options {
            profile,
            ..Options::default()
        },
        inputs,
    )
}

/// Runs `inputs` with `options`.
pub fn run_with(options: Options, inputs: &[&Path]) -> Collected {
    let mut out = Collected::default();
    let mut analyzer = Analyzer::new(options);
    for input in inputs {
        analyzer.analyze_file(input, input.display().to_string().into(), &mut out);
    }
    analyzer.finish(&mut out).expect("report");
    out
}
