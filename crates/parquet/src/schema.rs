//! The Arrow schema of a findings file.

use arrow_array::builder::MapFieldNames;
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use std::sync::{Arc, OnceLock};

/// The time zone of every timestamp column.
pub(crate) const UTC: &str = "UTC";

/// The Arrow schema of the Parquet file [`crate::write_findings`] writes: one row per finding.
///
/// Columns, in order (`?` marks a nullable column or struct member):
///
/// | column | type |
/// | --- | --- |
/// | `device`? | `utf8`: the device profile's name (`Summary.device`), the same on every row |
/// | `kind`, `match`, `label`, `value`, `form`, `preimage`, `confidence` | `utf8` |
/// | `count` | `int64` |
/// | `reason`? | `utf8` (set for `pattern` findings) |
/// | `details` | `map<utf8, utf8>`, empty when the finding has none |
/// | `decimals`? | `int32` |
/// | `precision_m`? | `float64` |
/// | `direction` | `utf8` (`request`, `response`) |
/// | `time`?, `first_time`?, `last_time`? | `timestamp(microsecond, "UTC")` |
/// | `host`?, `method`? | `utf8` |
/// | `url`, `where` | `utf8` |
/// | `chain` | `list<utf8>`, outermost decoding first |
/// | `transport` | `struct<client?, server?, tls?, http?, sni?: utf8>` |
/// | `destination` | `struct` (below) |
/// | `watch` | `list<utf8>` |
/// | `source` | `struct<file: utf8, frame?: int64, entry?: int64>` |
/// | `violations` | `list<utf8>`: ids of the policy rules whose violations list this finding, in policy order, each once |
///
/// `destination` is `struct<name?, name_source?, domain?: utf8, org?: struct<id, name: utf8>,
/// org_country?, incorporated?: utf8, parent?: struct<id, name: utf8>, parent_country?,
/// org_rule?: utf8, org_evidence: list<utf8>, party?, server_ip?, server_country?,
/// server_country_source?: utf8, asn?: int64, asn_org?: utf8>`.
///
/// Lists and the map are never null (empty instead) and their items are never null. List items
/// are named `element` and map entries `key_value` (`key`, `value`), as the Parquet format asks.
pub fn finding_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA.get_or_init(build_schema).clone()
}

fn build_schema() -> SchemaRef {
    let text = |name: &str| Field::new(name, DataType::Utf8, false);
    let opt_text = |name: &str| Field::new(name, DataType::Utf8, true);
    let time = |name: &str| Field::new(name, timestamp_type(), true);
    Arc::new(Schema::new(vec![
        opt_text("device"),
        text("kind"),
        text("match"),
        text("label"),
        text("value"),
        text("form"),
        text("preimage"),
        text("confidence"),
        Field::new("count", DataType::Int64, false),
        opt_text("reason"),
        Field::new("details", details_type(), false),
        Field::new("decimals", DataType::Int32, true),
        Field::new("precision_m", DataType::Float64, true),
        text("direction"),
        time("time"),
        time("first_time"),
        time("last_time"),
        opt_text("host"),
        opt_text("method"),
        text("url"),
        text("where"),
        Field::new("chain", string_list_type(), false),
        Field::new("transport", DataType::Struct(transport_fields()), false),
        Field::new("destination", DataType::Struct(destination_fields()), false),
        Field::new("watch", string_list_type(), false),
        Field::new("source", DataType::Struct(source_fields()), false),
        Field::new("violations", string_list_type(), false),
    ]))
}

/// `timestamp(microsecond, "UTC")`.
pub(crate) fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()))
}

/// The item of every list column: a non-null string named `element`, as the Parquet format
/// specifies for lists.
pub(crate) fn string_item() -> Arc<Field> {
    Arc::new(Field::new("element", DataType::Utf8, false))
}

fn string_list_type() -> DataType {
    DataType::List(string_item())
}

/// The names of `details`' entries, keys and values, as the Parquet format specifies for maps.
pub(crate) fn details_names() -> MapFieldNames {
    MapFieldNames {
        entry: "key_value".into(),
        key: "key".into(),
        value: "value".into(),
    }
}

/// The key field of `details`.
pub(crate) fn details_key() -> Field {
    Field::new(details_names().key, DataType::Utf8, false)
}

/// The value field of `details`.
pub(crate) fn details_value() -> Field {
    Field::new(details_names().value, DataType::Utf8, false)
}

fn details_type() -> DataType {
    let entries = Field::new(
        details_names().entry,
        DataType::Struct(Fields::from(vec![details_key(), details_value()])),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

/// Members of `transport`.
pub(crate) fn transport_fields() -> Fields {
    ["client", "server", "tls", "http", "sni"]
        .into_iter()
        .map(|name| Field::new(name, DataType::Utf8, true))
        .collect()
}

/// Members of `destination.org` and `destination.parent`.
pub(crate) fn org_fields() -> Fields {
    Fields::from(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, false),
    ])
}

/// Members of `destination`.
pub(crate) fn destination_fields() -> Fields {
    let opt_text = |name: &str| Field::new(name, DataType::Utf8, true);
    let org = |name: &str| Field::new(name, DataType::Struct(org_fields()), true);
    Fields::from(vec![
        opt_text("name"),
        opt_text("name_source"),
        opt_text("domain"),
        org("org"),
        opt_text("org_country"),
        opt_text("incorporated"),
        org("parent"),
        opt_text("parent_country"),
        opt_text("org_rule"),
        Field::new("org_evidence", string_list_type(), false),
        opt_text("party"),
        opt_text("server_ip"),
        opt_text("server_country"),
        opt_text("server_country_source"),
        Field::new("asn", DataType::Int64, true),
        opt_text("asn_org"),
    ])
}

/// Members of `source`.
pub(crate) fn source_fields() -> Fields {
    Fields::from(vec![
        Field::new("file", DataType::Utf8, false),
        Field::new("frame", DataType::Int64, true),
        Field::new("entry", DataType::Int64, true),
    ])
}
