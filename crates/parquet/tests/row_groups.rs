//! Many findings are written in several row groups, and rows past the first batch keep their own
//! values and violations.

mod common;

use arrow_array::cast::AsArray;
use arrow_array::RecordBatch;
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use phonehome_model::{Finding, PolicyOutcome, Summary, Violation};
use phonehome_parquet::{write_findings, BATCH_ROWS, ROW_GROUP_ROWS};

const FINDINGS: usize = 200_000;

fn many_findings() -> Vec<Finding> {
    let samples = common::sample_findings();
    (0..FINDINGS)
        .map(|i| {
            let mut f = samples[i % samples.len()].clone();
            f.value = format!("{i:015}");
            f.count = i as u64 + 1;
            f
        })
        .collect()
}

#[test]
fn two_hundred_thousand_findings_use_several_row_groups() {
    let findings = many_findings();
    let summary = Summary {
        policy: Some(PolicyOutcome {
            file: "p.toml".into(),
            name: None,
            rules: 1,
            violations: vec![Violation {
                rule: "late".into(),
                reason: "a late finding".into(),
                findings: vec![BATCH_ROWS + 1, 150_000],
            }],
        }),
        ..Summary::default()
    };
    let mut bytes = Vec::new();
    write_findings(&mut bytes, &findings, &summary).unwrap();

    let builder = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(bytes)).unwrap();
    let groups: Vec<i64> = builder
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows())
        .collect();
    let full = ROW_GROUP_ROWS as i64;
    assert_eq!(groups, [full, full, full, FINDINGS as i64 - 3 * full]);

    let batches: Vec<RecordBatch> = builder.build().unwrap().collect::<Result<_, _>>().unwrap();
    let mut index = 0;
    for batch in &batches {
        let values = batch.column_by_name("value").unwrap().as_string::<i32>();
        let violations = batch.column_by_name("violations").unwrap().as_list::<i32>();
        for r in 0..batch.num_rows() {
            assert_eq!(values.value(r), format!("{index:015}"));
            let rules = violations.value(r);
            let rules: Vec<&str> = rules.as_string::<i32>().iter().flatten().collect();
            let expected: &[&str] = if index == BATCH_ROWS + 1 || index == 150_000 {
                &["late"]
            } else {
                &[]
            };
            assert_eq!(rules, expected, "row {index}");
            if index % 9_973 == 0 {
                // A sample of rows is compared whole with its JSON Lines finding.
                let mut row = common::row_to_json(batch, r);
                let object = row.as_object_mut().unwrap();
                object.remove("device");
                object.remove("violations");
                common::normalise(&mut row);
                let mut expected = serde_json::to_value(&findings[index]).unwrap();
                common::canonical_times(&mut expected);
                assert_eq!(row, expected, "row {index}");
            }
            index += 1;
        }
    }
    assert_eq!(index, FINDINGS);
}

#[test]
fn an_error_past_the_first_batch_names_the_finding_by_its_index() {
    let mut findings = many_findings();
    findings.truncate(3 * BATCH_ROWS);
    findings[2 * BATCH_ROWS + 5].time = Some("2026-11-24".into());
    let err = write_findings(Vec::new(), &findings, &Summary::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "finding {}: `time` is not an RFC 3339 time: `2026-11-24`",
            2 * BATCH_ROWS + 5
        )
    );
}
