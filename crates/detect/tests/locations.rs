//! Locations in whole messages: pairs in one value, sibling JSON members, form fields and query
//! parameters, E6/E7 integers, protobuf doubles, and the decoys that must not be the point.

use phonehome_decode::DecodeLimits;
use phonehome_detect::{detect_message, Detector, MessageHit, Profile};
use phonehome_model::Message;
use phonehome_testkit::request_message;
use std::io::Write;

/// Trafalgar Square within 300 m, as in the phone-sim profile.
const PROFILE: &str = "[[location]]\nlat = 51.507351\nlon = -0.127758\nradius_m = 300\n";

fn detector() -> Detector {
    let (profile, warnings) = Profile::parse(PROFILE).unwrap();
    assert!(warnings.is_empty());
    Detector::new(&profile)
}

/// The hits of profile values (`known`); unlisted coordinates (`pattern`) are the patterns
/// crate's business.
fn hits(msg: &Message) -> Vec<MessageHit> {
    let (hits, report) = detect_message(msg, &detector(), &DecodeLimits::default());
    assert!(report.limits_hit.is_empty(), "{:?}", report.limits_hit);
    hits.into_iter()
        .filter(|h| h.hit.pattern.is_none())
        .collect()
}

/// (form, decimals, location, chain, preimage) of the single hit.
fn one(msg: &Message) -> (String, u32, String, Vec<String>, String) {
    let hits = hits(msg);
    assert_eq!(hits.len(), 1, "{}: {hits:?}", msg.url);
    let h = hits.into_iter().next().unwrap();
    assert_eq!(
        (h.hit.kind.as_str(), h.hit.label.as_str()),
        ("location", "location #1")
    );
    assert_eq!(h.hit.value, "51.507351,-0.127758");
    let decimals = h.hit.decimals.unwrap();
    assert!(h.hit.precision_m.unwrap() > 0.0);
    (h.hit.form, decimals, h.location, h.chain, h.hit.preimage)
}

fn json(body: &str) -> Message {
    request_message(
        "https://lbs.example/report",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

fn chain(elements: &[&str]) -> Vec<String> {
    elements.iter().map(|s| s.to_string()).collect()
}

#[test]
fn sibling_json_members() {
    let (form, decimals, location, ch, preimage) = one(&json(
        r#"{"tel": "", "lat": 51.507351, "lng": -0.127758, "acc": 20}"#,
    ));
    assert_eq!(
        (form.as_str(), decimals, location.as_str()),
        ("plain", 6, "body")
    );
    assert_eq!(
        (ch, preimage.as_str()),
        (chain(&["json:$.lat"]), "51.507351,-0.127758")
    );
    // Rounded to 2, 3 and 4 decimals, and truncated.
    for (lat, lon, decimals) in [
        ("51.51", "-0.13", 2),
        ("51.507", "-0.128", 3),
        ("51.5074", "-0.1278", 4),
        ("51.5073", "-0.1277", 4),
    ] {
        let body = format!(r#"{{"gps": {{"latitude": "{lat}", "longitude": "{lon}"}}}}"#);
        let (form, d, _, ch, _) = one(&json(&body));
        assert_eq!((form.as_str(), d), ("rounded", decimals), "{body}");
        assert_eq!(ch, chain(&["json:$.gps.latitude"]));
    }
    // Prefixed keys, longitude first in the document.
    let (form, _, _, ch, _) = one(&json(r#"{"loc_lng": -0.12776, "loc_lat": 51.50735}"#));
    assert_eq!((form.as_str(), ch), ("rounded", chain(&["json:$.loc_lat"])));
    // A GeoJSON position, [lon, lat].
    let (form, _, _, _, _) = one(&json(
        r#"{"type": "Point", "coordinates": [-0.1278, 51.5074]}"#,
    ));
    assert_eq!(form, "rounded");
}

#[test]
fn pairs_in_one_value_either_order() {
    let (form, d, location, ch, preimage) = one(&json(
        r#"{"location": "-0.12776,51.50735", "adcode": "110105"}"#,
    ));
    assert_eq!(
        (form.as_str(), d, location.as_str()),
        ("rounded", 5, "body")
    );
    assert_eq!(
        (ch, preimage.as_str()),
        (chain(&["json:$.location"]), "-0.12776,51.50735")
    );
    let msg = request_message(
        "https://restapi.example/v3/geocode/regeo?location=-0.127758%2C51.507351&key=k",
        &[],
        b"",
    );
    let (form, _, location, ch, _) = one(&msg);
    assert_eq!((form.as_str(), location.as_str()), ("plain", "url"));
    assert_eq!(ch, chain(&["query:location"]));
    let msg = request_message("https://a.example/", &[("X-Geo", "51.5074; -0.1278")], b"");
    let (_, _, location, ch, _) = one(&msg);
    assert_eq!((location.as_str(), ch), ("header:X-Geo", chain(&[])));
}

#[test]
fn query_parameters_and_form_fields() {
    let msg = request_message(
        "https://a.example/ad?lat=51.51&lng=-0.13&os=android",
        &[],
        b"",
    );
    let (form, d, location, ch, preimage) = one(&msg);
    assert_eq!((form.as_str(), d, location.as_str()), ("rounded", 2, "url"));
    assert_eq!(
        (ch, preimage.as_str()),
        (chain(&["query:lat"]), "51.51,-0.13")
    );
    let msg = request_message(
        "https://a.example/u",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"la=51.5073&lo=-0.1277&v=2",
    );
    let (form, _, location, ch, _) = one(&msg);
    assert_eq!((form.as_str(), location.as_str()), ("rounded", "body"));
    assert_eq!(ch, chain(&["form:la"]));
}

#[test]
fn e6_and_e7_integers() {
    let (form, d, _, ch, preimage) = one(&json(r#"{"latE6": 51507351, "lngE6": -127758}"#));
    assert_eq!((form.as_str(), d), ("scaled", 6));
    assert_eq!(
        (ch, preimage.as_str()),
        (chain(&["json:$.latE6"]), "51507351,-127758")
    );
    let (form, d, _, _, _) = one(&json(r#"{"lat": 515073510, "lon": -1277580}"#));
    assert_eq!((form.as_str(), d), ("scaled", 7));
}

/// A protobuf message of two doubles: field 1 (latitude) and field 2 (longitude), each a tag
/// `field << 3 | 1` (wire type 1, 64-bit) and 8 little-endian bytes.
fn protobuf_two_doubles(lat: f64, lon: f64) -> Vec<u8> {
    let mut body = Vec::new();
    for (field, value) in [(1u8, lat), (2, lon)] {
        body.push(field << 3 | 1);
        body.extend_from_slice(&value.to_le_bytes());
    }
    body
}

#[test]
fn protobuf_doubles() {
    let body = protobuf_two_doubles(51.507351, -0.127758);
    assert_eq!(body.len(), 18);
    assert_eq!(body[0], 0x09);
    assert_eq!(body[9], 0x11);
    let msg = request_message(
        "https://lbs.example/pb",
        &[("Content-Type", "application/x-protobuf")],
        &body,
    );
    let (form, d, location, ch, _) = one(&msg);
    assert_eq!((form.as_str(), d, location.as_str()), ("plain", 6, "body"));
    assert!(ch.last().unwrap().starts_with("protobuf:"), "{ch:?}");
}

#[test]
fn gzip_body_like_the_phone_sim() {
    let json = br#"{"tel": "+447700900123", "lat": 51.50735, "lng": -0.12776}"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json).unwrap();
    let mut msg = request_message(
        "https://log.tbs.qq.com/ajax",
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        b"",
    );
    msg.body = phonehome_model::Body {
        raw: gz.finish().unwrap(),
        decoded: Some(json.to_vec()),
        encodings: vec!["gzip".into()],
        truncated: false,
    };
    let (form, d, location, ch, _) = one(&msg);
    assert_eq!(
        (form.as_str(), d, location.as_str()),
        ("rounded", 5, "body")
    );
    assert_eq!(ch, chain(&["content-encoding:gzip", "json:$.lat"]));
}

#[test]
fn decoys_are_not_the_point() {
    for body in [
        // 1 km north at full precision.
        r#"{"lat": 51.516345, "lng": -0.127758}"#,
        // One decimal.
        r#"{"lat": 51.5, "lng": -0.1}"#,
        // The longitude's sign flipped.
        r#"{"lat": 51.507351, "lng": 0.127758}"#,
        // Not siblings: latitude and longitude of different objects.
        r#"{"home": {"lat": 51.507351}, "work": {"lng": -0.127758}}"#,
        // Keys that are not a latitude and a longitude.
        r#"{"x": 51.507351, "y": -0.127758}"#,
        // Swapped under their names.
        r#"{"lat": -0.127758, "lng": 51.507351}"#,
        // Numbers inside longer numbers and versions.
        r#"{"v": "151.507351,-0.127758", "w": "1.51.5074,-0.1278"}"#,
        // E6 of a point 1 km away; an integer and a decimal.
        r#"{"latE6": 51516345, "lngE6": -127758}"#,
        r#"{"lat": 51507351, "lng": -0.127758}"#,
    ] {
        let found = hits(&json(body));
        assert!(found.is_empty(), "{body}: {found:?}");
    }
    let msg = request_message("https://a.example/?lat=51.5&lng=-0.1", &[], b"");
    assert!(hits(&msg).is_empty());
}

#[test]
fn many_numbers_stay_bounded() {
    // 20 000 coordinates, none the point: every one is looked at, nothing is found.
    let points: Vec<String> = (0..20_000)
        .map(|i| format!("{{\"lat\": {}.5, \"lng\": -0.{i:05}}}", 10 + i % 60))
        .collect();
    let body = format!("[{}]", points.join(","));
    let msg = json(&body);
    let limits = DecodeLimits {
        max_nodes: 1_000_000,
        ..DecodeLimits::default()
    };
    let started = std::time::Instant::now();
    let (found, report) = detect_message(&msg, &detector(), &limits);
    assert!(found.iter().all(|h| h.hit.pattern.is_some()), "{found:?}");
    assert!(
        report
            .limits_hit
            .iter()
            .any(|l| l.contains("MAX_NUMBER_LEAVES")),
        "{:?}",
        report.limits_hit
    );
    println!("{} bytes in {:?}", body.len(), started.elapsed());
}

#[test]
fn separate_headers_and_cookies() {
    let msg = request_message(
        "https://a.example/",
        &[
            ("X-Lat", "51.5074"),
            ("User-Agent", "x"),
            ("X-Lng", "-0.1278"),
        ],
        b"",
    );
    let (form, d, location, ch, preimage) = one(&msg);
    assert_eq!(
        (form.as_str(), d, location.as_str()),
        ("rounded", 4, "header:X-Lat")
    );
    assert_eq!((ch, preimage.as_str()), (chain(&[]), "51.5074,-0.1278"));
    let msg = request_message(
        "https://a.example/",
        &[("Cookie", "sid=1; lng=-0.12776; lat=51.50735")],
        b"",
    );
    let (_, _, location, _, preimage) = one(&msg);
    assert_eq!(
        (location.as_str(), preimage.as_str()),
        ("cookie:lat", "51.50735,-0.12776")
    );
    // A latitude header and a longitude cookie are not siblings; nor are two latitudes.
    let msg = request_message(
        "https://a.example/",
        &[("X-Lat", "51.5074"), ("Cookie", "lng=-0.1278")],
        b"",
    );
    assert!(hits(&msg).is_empty());
}
