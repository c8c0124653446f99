//! Turning a slice of findings into one Arrow record batch of [`crate::finding_schema`].

use crate::schema::{self, UTC};
use crate::ParquetWriteError;
use arrow_array::builder::{ListBuilder, MapBuilder, StringBuilder};
use arrow_array::{
    ArrayRef, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray, StructArray,
    TimestampMicrosecondArray,
};
use arrow_buffer::NullBuffer;
use phonehome_model::{Finding, OrgRef, Summary, Timestamp};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// For each finding index, the ids of the policy rules that list it, in policy order, each once.
pub(crate) struct ViolationIndex<'a> {
    rules: HashMap<usize, Vec<&'a str>>,
}

impl<'a> ViolationIndex<'a> {
    /// Indexes `summary.policy`'s violations; indices at or past `findings` are ignored.
    pub(crate) fn new(summary: &'a Summary, findings: usize) -> Self {
        let mut rules: HashMap<usize, Vec<&'a str>> = HashMap::new();
        for violation in summary.policy.iter().flat_map(|p| &p.violations) {
            for &index in violation.findings.iter().filter(|&&i| i < findings) {
                let ids = rules.entry(index).or_default();
                if !ids.contains(&violation.rule.as_str()) {
                    ids.push(&violation.rule);
                }
            }
        }
        Self { rules }
    }

    fn rules(&self, index: usize) -> &[&'a str] {
        self.rules.get(&index).map_or(&[], Vec::as_slice)
    }
}

/// The findings `chunk`, whose first one is finding number `first` of the report, as one batch.
pub(crate) fn finding_batch(
    chunk: &[Finding],
    first: usize,
    device: Option<&str>,
    violations: &ViolationIndex<'_>,
) -> Result<RecordBatch, ParquetWriteError> {
    let rows = Rows { chunk, first };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![device; chunk.len()])),
        rows.text(|f| &f.kind),
        rows.name("match", |f| &f.match_kind)?,
        rows.text(|f| &f.label),
        rows.text(|f| &f.value),
        rows.text(|f| &f.form),
        rows.text(|f| &f.preimage),
        rows.text(|f| &f.confidence),
        Arc::new(Int64Array::from_iter_values(
            chunk.iter().map(|f| to_i64(f.count)),
        )),
        rows.opt_text(|f| f.reason.as_deref()),
        rows.details()?,
        Arc::new(Int32Array::from_iter(chunk.iter().map(|f| {
            f.decimals.map(|d| i32::try_from(d).unwrap_or(i32::MAX))
        }))),
        Arc::new(Float64Array::from_iter(chunk.iter().map(|f| f.precision_m))),
        rows.text(|f| f.direction.as_str()),
        rows.time("time", |f| f.time.as_deref())?,
        rows.time("first_time", |f| f.first_time.as_deref())?,
        rows.time("last_time", |f| f.last_time.as_deref())?,
        rows.opt_text(|f| f.host.as_deref()),
        rows.opt_text(|f| f.method.as_deref()),
        rows.text(|f| &f.url),
        rows.text(|f| &f.location),
        string_lists(chunk.iter().map(|f| f.chain.as_slice())),
        rows.transport()?,
        rows.destination()?,
        string_lists(chunk.iter().map(|f| f.watch.as_slice())),
        rows.source()?,
        string_lists((first..first + chunk.len()).map(|i| violations.rules(i))),
    ];
    Ok(RecordBatch::try_new(schema::finding_schema(), columns)?)
}

/// A chunk of findings and the report index of its first one.
#[derive(Clone, Copy)]
struct Rows<'a> {
    chunk: &'a [Finding],
    first: usize,
}

impl<'a> Rows<'a> {
    fn text(self, get: impl Fn(&'a Finding) -> &'a str) -> ArrayRef {
        Arc::new(StringArray::from_iter_values(self.chunk.iter().map(get)))
    }

    fn opt_text(self, get: impl Fn(&'a Finding) -> Option<&'a str>) -> ArrayRef {
        Arc::new(StringArray::from_iter(self.chunk.iter().map(get)))
    }

    /// A column of enum names, spelt as in JSON Lines.
    fn name<T: Serialize + 'a>(
        self,
        field: &'static str,
        get: impl Fn(&'a Finding) -> &'a T,
    ) -> Result<ArrayRef, ParquetWriteError> {
        self.opt_name(field, |f| Some(get(f)))
    }

    /// A column of optional enum names, spelt as in JSON Lines.
    fn opt_name<T: Serialize + 'a>(
        self,
        field: &'static str,
        get: impl Fn(&'a Finding) -> Option<&'a T>,
    ) -> Result<ArrayRef, ParquetWriteError> {
        let mut names = Vec::with_capacity(self.chunk.len());
        for (i, f) in self.chunk.iter().enumerate() {
            names.push(match get(f) {
                Some(value) => Some(enum_name(value, self.first + i, field)?),
                None => None,
            });
        }
        Ok(Arc::new(StringArray::from(names)))
    }

    /// An RFC 3339 time column as microseconds since the epoch, UTC.
    fn time(
        self,
        field: &'static str,
        get: impl Fn(&'a Finding) -> Option<&'a str>,
    ) -> Result<ArrayRef, ParquetWriteError> {
        let mut micros = Vec::with_capacity(self.chunk.len());
        for (i, f) in self.chunk.iter().enumerate() {
            micros.push(match get(f) {
                Some(text) => Some(
                    Timestamp::parse_rfc3339(text)
                        .ok_or_else(|| ParquetWriteError::BadTime {
                            finding: self.first + i,
                            field,
                            value: text.to_owned(),
                        })?
                        .unix_micros(),
                ),
                None => None,
            });
        }
        Ok(Arc::new(
            TimestampMicrosecondArray::from(micros).with_timezone(UTC),
        ))
    }

    fn details(self) -> Result<ArrayRef, ParquetWriteError> {
        let mut map = MapBuilder::new(
            Some(schema::details_names()),
            StringBuilder::new(),
            StringBuilder::new(),
        )
        .with_keys_field(schema::details_key())
        .with_values_field(schema::details_value());
        for f in self.chunk {
            for (key, value) in &f.details {
                map.keys().append_value(key);
                map.values().append_value(value);
            }
            map.append(true)?;
        }
        Ok(Arc::new(map.finish()))
    }

    fn transport(self) -> Result<ArrayRef, ParquetWriteError> {
        let t = |get: fn(&'a Finding) -> Option<&'a str>| self.opt_text(get);
        let members = vec![
            t(|f| f.transport.client.as_deref()),
            t(|f| f.transport.server.as_deref()),
            t(|f| f.transport.tls.as_deref()),
            t(|f| f.transport.http.as_deref()),
            t(|f| f.transport.sni.as_deref()),
        ];
        Ok(Arc::new(StructArray::try_new(
            schema::transport_fields(),
            members,
            None,
        )?))
    }

    fn destination(self) -> Result<ArrayRef, ParquetWriteError> {
        let t = |get: fn(&'a Finding) -> Option<&'a str>| self.opt_text(get);
        let members = vec![
            t(|f| f.destination.name.as_deref()),
            self.opt_name("destination.name_source", |f| {
                f.destination.name_source.as_ref()
            })?,
            t(|f| f.destination.domain.as_deref()),
            self.org(|f| f.destination.org.as_ref())?,
            t(|f| f.destination.org_country.as_deref()),
            t(|f| f.destination.incorporated.as_deref()),
            self.org(|f| f.destination.parent.as_ref())?,
            t(|f| f.destination.parent_country.as_deref()),
            t(|f| f.destination.org_rule.as_deref()),
            string_lists(
                self.chunk
                    .iter()
                    .map(|f| f.destination.org_evidence.as_slice()),
            ),
            self.opt_name("destination.party", |f| f.destination.party.as_ref())?,
            t(|f| f.destination.server_ip.as_deref()),
            t(|f| f.destination.server_country.as_deref()),
            t(|f| f.destination.server_country_source.as_deref()),
            Arc::new(Int64Array::from_iter(
                self.chunk.iter().map(|f| f.destination.asn.map(i64::from)),
            )),
            t(|f| f.destination.asn_org.as_deref()),
        ];
        Ok(Arc::new(StructArray::try_new(
            schema::destination_fields(),
            members,
            None,
        )?))
    }

    /// A nullable `struct<id, name>`; members of null rows hold empty strings.
    fn org(
        self,
        get: impl Fn(&'a Finding) -> Option<&'a OrgRef>,
    ) -> Result<ArrayRef, ParquetWriteError> {
        let orgs: Vec<Option<&OrgRef>> = self.chunk.iter().map(get).collect();
        let ids = StringArray::from_iter_values(orgs.iter().map(|o| o.map_or("", |o| &o.id)));
        let names = StringArray::from_iter_values(orgs.iter().map(|o| o.map_or("", |o| &o.name)));
        let valid = NullBuffer::from_iter(orgs.iter().map(Option::is_some));
        Ok(Arc::new(StructArray::try_new(
            schema::org_fields(),
            vec![Arc::new(ids), Arc::new(names)],
            Some(valid),
        )?))
    }

    fn source(self) -> Result<ArrayRef, ParquetWriteError> {
        let members: Vec<ArrayRef> = vec![
            self.text(|f| &f.source.file),
            Arc::new(Int64Array::from_iter(
                self.chunk.iter().map(|f| f.source.frame.map(to_i64)),
            )),
            Arc::new(Int64Array::from_iter(
                self.chunk.iter().map(|f| f.source.entry.map(to_i64)),
            )),
        ];
        Ok(Arc::new(StructArray::try_new(
            schema::source_fields(),
            members,
            None,
        )?))
    }
}

/// A `list<utf8>` column, one list per row.
fn string_lists<'s, S: AsRef<str> + 's>(rows: impl Iterator<Item = &'s [S]>) -> ArrayRef {
    let mut lists = ListBuilder::new(StringBuilder::new()).with_field(schema::string_item());
    for row in rows {
        for item in row {
            lists.values().append_value(item);
        }
        lists.append(true);
    }
    Arc::new(lists.finish())
}

/// The JSON Lines spelling of a unit enum value (`known`, `sni`, `third`…).
fn enum_name<T: Serialize>(
    value: &T,
    finding: usize,
    field: &'static str,
) -> Result<String, ParquetWriteError> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => Ok(name),
        _ => Err(ParquetWriteError::NotAName { finding, field }),
    }
}

/// A count or number as a signed 64-bit integer (Spark and many readers have no unsigned types);
/// values beyond `i64::MAX` (never seen in practice) saturate.
fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
