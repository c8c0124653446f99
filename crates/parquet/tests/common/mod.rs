//! Shared by the tests: realistic findings and a generic Arrow-row-to-JSON reader.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use phonehome_model::{
    Destination, Direction, Finding, FindingTransport, MatchKind, NameSource, OrgRef, Party,
    SourceRef, Timestamp,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// An RFC 3339 time as phonehome writes it, `secs` after 2026-11-24T10:00:00Z plus `micros`.
pub fn at(secs: i64, micros: u32) -> String {
    Timestamp::from_secs_nanos(1_795_514_400 + secs, micros * 1000).to_rfc3339()
}

fn org(id: &str, name: &str) -> OrgRef {
    OrgRef {
        id: id.into(),
        name: name.into(),
    }
}

/// An IMEI sent in plain text to Xiaomi over HTTPS, every destination field set.
pub fn imei_to_xiaomi() -> Finding {
    Finding {
        record_type: "finding",
        kind: "imei".into(),
        match_kind: MatchKind::Known,
        label: "imei #1".into(),
        value: "867530912345678".into(),
        form: "plain".into(),
        preimage: "867530912345678".into(),
        confidence: "high".into(),
        count: 3,
        reason: None,
        details: BTreeMap::new(),
        decimals: None,
        precision_m: None,
        direction: Direction::Request,
        time: Some(at(0, 123_456)),
        first_time: Some(at(0, 123_456)),
        last_time: Some(at(95, 7)),
        host: Some("tracking.intl.miui.com".into()),
        method: Some("POST".into()),
        url: "https://tracking.intl.miui.com/track/v4".into(),
        location: "body".into(),
        chain: vec!["gzip".into(), "json:$.data.imei".into()],
        transport: FindingTransport {
            client: Some("10.0.0.2:41822".into()),
            server: Some("161.117.71.36:443".into()),
            tls: Some("1.3".into()),
            http: Some("1.1".into()),
            sni: Some("tracking.intl.miui.com".into()),
        },
        destination: Destination {
            name: Some("tracking.intl.miui.com".into()),
            name_source: Some(NameSource::Sni),
            domain: Some("miui.com".into()),
            org: Some(org("xiaomi", "Xiaomi")),
            org_country: Some("CN".into()),
            incorporated: Some("KY".into()),
            parent: Some(org("xiaomi-group", "Xiaomi Corporation")),
            parent_country: Some("CN".into()),
            org_rule: Some("miui.com (entities.toml)".into()),
            org_evidence: vec![
                "https://www.mi.com/global/about/".into(),
                "WHOIS miui.com registrant Xiaomi".into(),
            ],
            party: Some(Party::First),
            server_ip: Some("161.117.71.36".into()),
            server_country: Some("SG".into()),
            server_country_source: Some("ip-location-db".into()),
            asn: Some(45102),
            asn_org: Some("Alibaba (US) Technology Co., Ltd.".into()),
        },
        watch: vec!["org_country".into(), "parent_country".into()],
        source: SourceRef::frame("capture.pcapng".into(), 1204),
    }
}

/// A location pair found by pattern in a HAR entry: reason, details, decimals, precision.
pub fn location_pattern() -> Finding {
    Finding {
        record_type: "finding",
        kind: "location".into(),
        match_kind: MatchKind::Pattern,
        label: "coordinates".into(),
        value: "52.52001,13.40495".into(),
        form: "formatted".into(),
        preimage: "lat=52.52001&lon=13.40495".into(),
        confidence: "medium".into(),
        count: 1,
        reason: Some("latitude and longitude under `lat` and `lon`".into()),
        details: BTreeMap::from([
            ("lat_key".to_string(), "lat".to_string()),
            ("lon_key".to_string(), "lon".to_string()),
        ]),
        decimals: Some(5),
        precision_m: Some(1.11),
        direction: Direction::Request,
        time: Some(at(3600, 0)),
        first_time: Some(at(3600, 0)),
        last_time: Some(at(3600, 0)),
        host: Some("api.weather.example".into()),
        method: Some("GET".into()),
        url: "https://api.weather.example/v1?lat=52.52001&lon=13.40495".into(),
        location: "url".into(),
        chain: vec!["query:lat+lon".into()],
        transport: FindingTransport {
            client: None,
            server: Some("203.0.113.9:443".into()),
            tls: None,
            http: Some("2".into()),
            sni: None,
        },
        destination: Destination {
            name: Some("api.weather.example".into()),
            name_source: Some(NameSource::Http),
            domain: Some("weather.example".into()),
            org: Some(org("weatherco", "WeatherCo")),
            org_country: Some("US".into()),
            incorporated: None,
            parent: None,
            parent_country: None,
            org_rule: Some("weather.example".into()),
            org_evidence: vec![],
            party: Some(Party::Third),
            server_ip: Some("203.0.113.9".into()),
            server_country: None,
            server_country_source: None,
            asn: None,
            asn_org: None,
        },
        watch: vec![],
        source: SourceRef::entry("session.har".into(), 17),
    }
}

/// A name leaked in a DNS query's label: no method, no times, almost nothing known.
pub fn dns_query_leak() -> Finding {
    Finding {
        record_type: "finding",
        kind: "android_id".into(),
        match_kind: MatchKind::Known,
        label: "android_id".into(),
        value: "9774d56d682e549c".into(),
        form: "sha1".into(),
        preimage: "9774d56d682e549c".into(),
        confidence: "low".into(),
        count: 12,
        reason: None,
        details: BTreeMap::new(),
        decimals: None,
        precision_m: None,
        direction: Direction::Response,
        time: None,
        first_time: None,
        last_time: None,
        host: None,
        method: None,
        url: "dns://a3f1.telemetry.example".into(),
        location: "dns:qname".into(),
        chain: vec![],
        transport: FindingTransport {
            client: None,
            server: None,
            tls: None,
            http: None,
            sni: None,
        },
        destination: Destination {
            name_source: Some(NameSource::DnsQuery),
            ..Destination::default()
        },
        watch: vec![],
        source: SourceRef {
            file: "no-frame.pcap".into(),
            frame: None,
            entry: None,
        },
    }
}

/// A media upload by pattern, with details and a non-ASCII label.
pub fn media_upload() -> Finding {
    Finding {
        record_type: "finding",
        kind: "media".into(),
        match_kind: MatchKind::Pattern,
        label: "photo «IMG_0042»".into(),
        value: "image/jpeg 48213 bytes".into(),
        form: "plain".into(),
        preimage: String::new(),
        confidence: "high".into(),
        count: 1,
        reason: Some("an image upload".into()),
        details: BTreeMap::from([
            ("bytes".to_string(), "48213".to_string()),
            ("media_type".to_string(), "image/jpeg".to_string()),
            ("exif_gps".to_string(), String::new()),
        ]),
        decimals: None,
        precision_m: None,
        direction: Direction::Request,
        time: Some("2026-11-24T12:00:00.5+02:00".into()),
        first_time: Some(at(-1, 999_999)),
        last_time: Some(at(7200, 500_000)),
        host: Some("upload.cloud.example".into()),
        method: Some("PUT".into()),
        url: "https://upload.cloud.example/u/1".into(),
        location: "body".into(),
        chain: vec!["multipart:photo".into()],
        transport: FindingTransport {
            client: Some("[fd00::2]:50000".into()),
            server: Some("[2001:db8::5]:443".into()),
            tls: Some("1.2".into()),
            http: Some("1.1".into()),
            sni: Some("upload.cloud.example".into()),
        },
        destination: Destination {
            name: Some("upload.cloud.example".into()),
            name_source: Some(NameSource::Dns),
            domain: Some("cloud.example".into()),
            org: None,
            org_country: None,
            incorporated: None,
            parent: None,
            parent_country: None,
            org_rule: None,
            org_evidence: vec![],
            party: None,
            server_ip: Some("2001:db8::5".into()),
            server_country: Some("DE".into()),
            server_country_source: Some("ip-location-db".into()),
            asn: Some(4_200_000_000),
            asn_org: Some("Example Hosting".into()),
        },
        watch: vec!["server_country".into()],
        source: SourceRef::frame("capture.pcapng".into(), 9),
    }
}

/// The four sample findings, in report order.
pub fn sample_findings() -> Vec<Finding> {
    vec![
        imei_to_xiaomi(),
        location_pattern(),
        dns_query_leak(),
        media_upload(),
    ]
}

/// Row `row` of `batch` as a JSON object keyed by column name, converting each column by its
/// Arrow type only (no per-column knowledge).
pub fn row_to_json(batch: &RecordBatch, row: usize) -> Value {
    let mut object = Map::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        object.insert(field.name().clone(), cell(column.as_ref(), row));
    }
    Value::Object(object)
}

/// One cell as JSON: strings, numbers, lists as arrays, structs and maps as objects, and
/// `timestamp(µs, UTC)` as phonehome's RFC 3339 form.
fn cell(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Utf8 => Value::from(array.as_string::<i32>().value(row)),
        DataType::Int64 => Value::from(array.as_primitive::<Int64Type>().value(row)),
        DataType::Int32 => Value::from(array.as_primitive::<Int32Type>().value(row)),
        DataType::Float64 => Value::from(array.as_primitive::<Float64Type>().value(row)),
        DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) if tz.as_ref() == "UTC" => {
            let micros = array.as_primitive::<TimestampMicrosecondType>().value(row);
            Value::from(Timestamp::from_unix_nanos(i128::from(micros) * 1000).to_rfc3339())
        }
        DataType::List(_) => {
            let items = array.as_list::<i32>().value(row);
            Value::Array((0..items.len()).map(|i| cell(items.as_ref(), i)).collect())
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut object = Map::new();
            for (field, member) in fields.iter().zip(s.columns()) {
                object.insert(field.name().clone(), cell(member.as_ref(), row));
            }
            Value::Object(object)
        }
        DataType::Map(_, _) => {
            let entries = array.as_map().value(row);
            let mut object = Map::new();
            for i in 0..entries.len() {
                let key = cell(entries.column(0).as_ref(), i);
                let Value::String(key) = key else {
                    panic!("map key is not a string: {key}")
                };
                object.insert(key, cell(entries.column(1).as_ref(), i));
            }
            Value::Object(object)
        }
        other => panic!("unexpected column type {other}"),
    }
}

/// Brings a row read back from Parquet (after removing `device` and `violations`) to the JSON
/// Lines form of a finding:
///
/// 1. `type` is added (`"finding"`: every row is a finding).
/// 2. Members JSON Lines leaves out when empty or absent (`reason`, `details`, `decimals`,
///    `precision_m`, `watch`, `destination.incorporated`, `destination.org_evidence`,
///    `source.frame`, `source.entry`) are removed when null, `[]` or `{}`.
///
/// Times need no step here: [`row_to_json`] already prints them as phonehome does; the JSON Lines
/// side goes through [`canonical_times`].
pub fn normalise(row: &mut Value) {
    fn drop_empty(object: &mut Value, key: &str) {
        let Some(map) = object.as_object_mut() else {
            panic!("not an object: {object}")
        };
        let empty = match map.get(key) {
            Some(Value::Null) => true,
            Some(Value::Array(a)) => a.is_empty(),
            Some(Value::Object(o)) => o.is_empty(),
            _ => false,
        };
        if empty {
            map.remove(key);
        }
    }
    for key in ["reason", "details", "decimals", "precision_m", "watch"] {
        drop_empty(row, key);
    }
    drop_empty(&mut row["destination"], "incorporated");
    drop_empty(&mut row["destination"], "org_evidence");
    drop_empty(&mut row["source"], "frame");
    drop_empty(&mut row["source"], "entry");
    row.as_object_mut()
        .expect("row is an object")
        .insert("type".into(), Value::from("finding"));
}

/// Rewrites `time`, `first_time` and `last_time` of a JSON Lines finding in phonehome's canonical
/// form (UTC, six fractional digits, `Z`), the only form a microsecond timestamp reads back as:
/// `2026-11-24T12:00:00.5+02:00` becomes `2026-11-24T10:00:00.500000Z`.
pub fn canonical_times(finding: &mut Value) {
    for key in ["time", "first_time", "last_time"] {
        if let Value::String(text) = &finding[key] {
            let t = Timestamp::parse_rfc3339(text).expect("test times are RFC 3339");
            finding[key] = Value::from(t.to_rfc3339());
        }
    }
}
