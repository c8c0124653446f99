//! A findings file reads back, through the parquet crate's Arrow reader, as the JSON Lines
//! findings it was written from.

mod common;

use arrow_array::RecordBatch;
use arrow_schema::Schema;
use bytes::Bytes;
use common::{canonical_times, normalise, row_to_json, sample_findings};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use phonehome_model::{Finding, PolicyOutcome, Summary, Violation};
use phonehome_parquet::{finding_schema, write_findings, ParquetReport, SUMMARY_KEY};
use phonehome_report::Report;
use serde_json::Value;

fn summary_with_policy() -> Summary {
    let violation = |rule: &str, findings: Vec<usize>| Violation {
        rule: rule.into(),
        reason: format!("{rule} breached"),
        findings,
    };
    Summary {
        tool: "phonehome 0.1.0".into(),
        schema: 1,
        device: Some("Redmi Note 13".into()),
        watch: vec!["CN".into()],
        policy: Some(PolicyOutcome {
            file: "policy.toml".into(),
            name: Some("no data to CN".into()),
            rules: 3,
            violations: vec![
                violation("no-imei", vec![0]),
                violation("no-cn", vec![0, 3]),
                // The same rule again, for the same finding: listed once.
                violation("no-cn", vec![3]),
                // A coverage rule names no finding; an index past the end is ignored.
                violation("max_uninspected_flows", vec![]),
                violation("no-location", vec![1, 99]),
            ],
        }),
        ..Summary::default()
    }
}

/// Writes through the `Report` trait, as the CLI does.
fn write(findings: &[Finding], summary: &Summary) -> Bytes {
    let mut report = ParquetReport::new(Vec::new());
    report.finish(findings, summary).unwrap();
    Bytes::from(report.into_inner())
}

fn read(bytes: Bytes) -> (Schema, Option<String>, Vec<RecordBatch>) {
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap();
    let schema = builder.schema().as_ref().clone();
    let summary = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|e| e.key == SUMMARY_KEY))
        .and_then(|e| e.value.clone());
    let batches = builder.build().unwrap().collect::<Result<_, _>>().unwrap();
    (schema, summary, batches)
}

#[test]
fn every_row_reads_back_as_its_json_lines_finding() {
    let findings = sample_findings();
    let summary = summary_with_policy();
    let (schema, summary_json, batches) = read(write(&findings, &summary));

    assert_eq!(schema.fields(), finding_schema().fields());
    let saved: Summary = serde_json::from_str(&summary_json.unwrap()).unwrap();
    assert_eq!(saved, summary);

    let rows: Vec<Value> = batches
        .iter()
        .flat_map(|b| (0..b.num_rows()).map(move |r| row_to_json(b, r)))
        .collect();
    assert_eq!(rows.len(), findings.len());

    let expected_violations = [
        vec!["no-imei", "no-cn"],
        vec!["no-location"],
        vec![],
        vec!["no-cn"],
    ];
    for (i, (mut row, finding)) in rows.into_iter().zip(&findings).enumerate() {
        let object = row.as_object_mut().unwrap();
        assert_eq!(object.remove("device").unwrap(), "Redmi Note 13", "row {i}");
        assert_eq!(
            object.remove("violations").unwrap(),
            serde_json::json!(expected_violations[i]),
            "row {i}"
        );
        normalise(&mut row);
        let mut expected = serde_json::to_value(finding).unwrap();
        canonical_times(&mut expected);
        assert_eq!(row, expected, "row {i}");
    }
}

#[test]
fn a_time_with_an_offset_is_stored_as_the_same_instant_in_utc() {
    let findings = vec![common::media_upload()];
    let (_, _, batches) = read(write(&findings, &Summary::default()));
    let row = row_to_json(&batches[0], 0);
    // 12:00:00.5 at +02:00.
    assert_eq!(row["time"], "2026-11-24T10:00:00.500000Z");
    assert_eq!(row["first_time"], "2026-11-24T09:59:59.999999Z");
    assert_eq!(row["device"], Value::Null);
    assert_eq!(row["violations"], serde_json::json!([]));
}

#[test]
fn no_findings_make_a_valid_empty_file() {
    let (schema, summary_json, batches) = read(write(&[], &Summary::default()));
    assert_eq!(schema.fields(), finding_schema().fields());
    assert!(summary_json.is_some());
    assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 0);
}

#[test]
fn a_time_that_is_not_rfc_3339_is_an_error_naming_the_finding() {
    let mut findings = sample_findings();
    findings[2].last_time = Some("yesterday".into());
    let err = write_findings(Vec::new(), &findings, &Summary::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "finding 2: `last_time` is not an RFC 3339 time: `yesterday`"
    );
    let mut report = ParquetReport::new(Vec::new());
    let io = report.finish(&findings, &Summary::default()).unwrap_err();
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
}

#[test]
fn a_failing_output_is_an_io_error() {
    struct Full;
    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "disk full",
            ))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut report = ParquetReport::new(Full);
    let err = report
        .finish(&sample_findings(), &Summary::default())
        .unwrap_err();
    assert!(err.to_string().contains("disk full"), "{err}");
    assert_eq!(err.kind(), std::io::ErrorKind::StorageFull, "{err}");
}
