//! Numeric coordinate matching: radius, rounding, truncation, scaling, pairing and decoys.

use super::*;
use crate::Location;

/// Trafalgar Square, as in the phone-sim profile.
fn london(radius_m: Option<f64>) -> LocationMatcher {
    LocationMatcher::new(&[Location {
        lat: 51.507351,
        lon: -0.127758,
        radius_m,
    }])
}

fn dec(text: &str) -> Decimal {
    Decimal::parse(text.as_bytes()).unwrap()
}

/// (form, decimals) of the pair `lat,lon` given as leaves.
fn leaves(m: &LocationMatcher, lat: &str, lon: &str) -> Option<(&'static str, u32)> {
    m.match_leaves(dec(lat), dec(lon))
        .map(|h| (h.form.name(), h.decimals))
}

/// (form, decimals, matched text) of every pair in `text`.
fn text(m: &LocationMatcher, text: &str) -> Vec<(&'static str, u32, String)> {
    m.scan_text(text.as_bytes())
        .into_iter()
        .map(|h| (h.form.name(), h.decimals, text[h.start..h.end].to_string()))
        .collect()
}

#[test]
fn decimals_are_read_exactly() {
    assert_eq!(
        dec("51.50735"),
        Decimal {
            mantissa: 5_150_735,
            decimals: 5
        }
    );
    assert_eq!(
        dec("-0.12776"),
        Decimal {
            mantissa: -12_776,
            decimals: 5
        }
    );
    assert_eq!(
        dec("+7"),
        Decimal {
            mantissa: 7,
            decimals: 0
        }
    );
    for bad in [
        "",
        "-",
        ".5",
        "5.",
        "1.2.3",
        "1e5",
        "0x10",
        "1.0000000000000001",
        "1234567890123456789",
    ] {
        assert_eq!(Decimal::parse(bad.as_bytes()), None, "{bad}");
    }
    assert_eq!(Decimal::of_f64(51.507351), Some(dec("51.507351")));
    assert_eq!(Decimal::of_f64(0.1 + 0.2), Some(dec("0.3")));
    assert_eq!(Decimal::of_f64(f64::NAN), None);
}

#[test]
fn bracketing_is_rounding_or_truncation() {
    let p = dec("-0.127758");
    // Rounded and truncated to every precision.
    for ok in [
        "-0.13",
        "-0.12",
        "-0.128",
        "-0.127",
        "-0.1278",
        "-0.1277",
        "-0.12776",
        "-0.12775",
        "-0.127758",
        "-0.1277580",
    ] {
        assert!(dec(ok).brackets(p), "{ok}");
    }
    for bad in [
        "-0.14",
        "-0.126",
        "0.1278",
        "-0.12777",
        "-0.127759",
        "-0.1277581",
    ] {
        assert!(!dec(bad).brackets(p), "{bad}");
    }
}

#[test]
fn within_radius_at_full_precision_is_plain() {
    let m = london(Some(300.0));
    assert_eq!(leaves(&m, "51.507351", "-0.127758"), Some(("plain", 6)));
    // 200 m north: within 300 m, not a rounding.
    assert_eq!(leaves(&m, "51.509150", "-0.127758"), Some(("plain", 6)));
    // More precise than the profile and close by.
    assert_eq!(leaves(&m, "51.50735123", "-0.12775801"), Some(("plain", 8)));
    // Fewer decimals but not a rounding: still within the radius.
    assert_eq!(leaves(&m, "51.5085", "-0.1270"), Some(("plain", 4)));
}

#[test]
fn rounded_and_truncated_to_fewer_decimals() {
    // Rounding at 2 decimals lands 330 m away: outside a 300 m radius, yet the same point.
    let m = london(Some(300.0));
    assert_eq!(leaves(&m, "51.51", "-0.13"), Some(("rounded", 2)));
    assert_eq!(leaves(&m, "51.507", "-0.128"), Some(("rounded", 3)));
    assert_eq!(leaves(&m, "51.5074", "-0.1278"), Some(("rounded", 4)));
    assert_eq!(leaves(&m, "51.50735", "-0.12776"), Some(("rounded", 5)));
    // Truncated (toward zero).
    assert_eq!(leaves(&m, "51.50", "-0.12"), Some(("rounded", 2)));
    assert_eq!(leaves(&m, "51.5073", "-0.1277"), Some(("rounded", 4)));
    // Mixed precision reports the coarser.
    assert_eq!(leaves(&m, "51.5074", "-0.12776"), Some(("rounded", 4)));
    // Without a radius, rounding still matches; the default radius is small.
    let m = london(None);
    assert_eq!(leaves(&m, "51.51", "-0.13"), Some(("rounded", 2)));
    assert_eq!(leaves(&m, "51.5085", "-0.1270"), None);
}

#[test]
fn decoys_are_never_the_point() {
    let m = london(Some(300.0));
    // 1 km north at full precision.
    assert_eq!(leaves(&m, "51.516345", "-0.127758"), None);
    // One decimal: not enough, even though it rounds to the point.
    assert_eq!(leaves(&m, "51.5", "-0.1"), None);
    assert_eq!(leaves(&m, "51.51", "-0.1"), None);
    // Longitude with its sign flipped (17 km east).
    assert_eq!(leaves(&m, "51.507351", "0.127758"), None);
    assert_eq!(leaves(&m, "51.5074", "0.1278"), None);
    // A rounding that is one unit off.
    assert_eq!(leaves(&m, "51.52", "-0.13"), None);
    // Swapped fields are not a latitude of -0.13.
    assert_eq!(leaves(&m, "-0.127758", "51.507351"), None);
    // Out of range.
    assert_eq!(leaves(&m, "151.507351", "-0.127758"), None);
    // Integers in degrees are not coordinates; an integer and a decimal are not a pair.
    assert_eq!(leaves(&m, "51", "0"), None);
    assert_eq!(leaves(&m, "51507351", "-0.127758"), None);
}

#[test]
fn e6_and_e7_integers_are_scaled() {
    let m = london(Some(300.0));
    assert_eq!(leaves(&m, "51507351", "-127758"), Some(("scaled", 6)));
    assert_eq!(leaves(&m, "515073510", "-1277580"), Some(("scaled", 7)));
    // E6 rounded to 1e-4 degrees still lies within the radius.
    assert_eq!(leaves(&m, "51507400", "-127800"), Some(("scaled", 6)));
    // 1 km away in E6.
    assert_eq!(leaves(&m, "51516345", "-127758"), None);
}

#[test]
fn pairs_in_text_either_order_any_separator() {
    let m = london(Some(300.0));
    for (t, pair) in [
        ("51.5074,-0.1278", "51.5074,-0.1278"),
        ("ll=-0.1278,51.5074&z=3", "-0.1278,51.5074"),
        ("loc: 51.50735; -0.12776.", "51.50735; -0.12776"),
        ("51.50735 -0.12776", "51.50735 -0.12776"),
        ("[51.507351|-0.127758]", "51.507351|-0.127758"),
        ("{\"c\":[-0.12776, 51.50735]}", "-0.12776, 51.50735"),
    ] {
        let got = text(&m, t);
        assert_eq!(got.len(), 1, "{t}: {got:?}");
        assert_eq!(got[0].2, pair, "{t}");
    }
    assert_eq!(text(&m, "51.51,-0.13")[0].0, "rounded");
    assert_eq!(text(&m, "51.507351,-0.127758")[0].0, "plain");
    // A node that is only E6 integers.
    assert_eq!(text(&m, " 51507351,-127758 ")[0].0, "scaled");
}

#[test]
fn numbers_inside_other_text_are_not_coordinates() {
    let m = london(Some(300.0));
    for t in [
        "v51.5074,-0.1278",            // glued to a letter
        "151.5074,-0.1278",            // inside a longer number
        "51.5074,-0.1278000000000001", // more decimals than a coordinate has
        "1.51.5074,-0.1278",           // a version string
        "51.5074,-0.1278.5",           // followed by `.digit`
        "51.5074,,-0.1278",            // two separators
        "51.5074:-0.1278",             // not a separator
        "51.5074,      -0.1278",       // too many spaces
        "51.5074e0,-0.1278",
        "51.5,-0.1",
        "51507351,-127758,1", // integers only as a whole node
        "id=51507351,-127758",
        "51.5074,0.1278",
    ] {
        assert!(text(&m, t).is_empty(), "{t}: {:?}", text(&m, t));
    }
    // Long runs of digits and dots are read in bounded steps.
    let junk = "9.".repeat(10_000) + &"1".repeat(10_000) + "." + &"2".repeat(10_000);
    assert!(text(&m, &junk).is_empty());
    assert!(LocationMatcher::default()
        .scan_text(b"51.5074,-0.1278")
        .is_empty());
}

#[test]
fn precision_is_the_cell_diagonal() {
    // 10^-5 degrees: 1.112 m north-south, 0.692 m east-west at London.
    assert_eq!(precision_m(5, 51.507351), 1.31);
    assert_eq!(precision_m(4, 0.0), 15.725);
    assert!(precision_m(2, 89.9) > 1111.0);
    assert!((haversine_m(51.507351, -0.127758, 51.516345, -0.127758) - 1000.1).abs() < 1.0);
}

#[test]
fn sibling_keys_from_chain_elements() {
    let lat = |p: &str, s: &str| SiblingKey::Lat(p.into(), s.into());
    let lon = |p: &str, s: &str| SiblingKey::Lon(p.into(), s.into());
    let k = |e: &str| sibling_key(e);
    assert_eq!(k("json:$.lat"), Some(("json:$".into(), lat("", ""))));
    assert_eq!(
        k("json:$.a.b.lng"),
        Some(("json:$.a.b".into(), lon("", "")))
    );
    assert_eq!(
        k("json:$.loc[3].Latitude"),
        Some(("json:$.loc[3]".into(), lat("", "")))
    );
    assert_eq!(
        k("json:$['loc lat']"),
        Some(("json:$".into(), lat("loc ", "")))
    );
    assert_eq!(
        k("json:$['a\\'b'].lon"),
        Some(("json:$['a\\'b']".into(), lon("", "")))
    );
    assert_eq!(
        k("json:$.pos[1]"),
        Some(("json:$.pos".into(), SiblingKey::Unnamed))
    );
    assert_eq!(k("query:loc_lat"), Some(("query:".into(), lat("loc_", ""))));
    assert_eq!(k("form:locLng"), Some(("form:".into(), lon("loc", ""))));
    assert_eq!(k("form:la"), Some(("form:".into(), lat("", ""))));
    assert_eq!(k("form:lo"), Some(("form:".into(), lon("", ""))));
    assert_eq!(k("form:longitude"), Some(("form:".into(), lon("", ""))));
    assert_eq!(
        k("protobuf:3.1"),
        Some(("protobuf:3.".into(), SiblingKey::Unnamed))
    );
    assert_eq!(
        k("protobuf:2"),
        Some(("protobuf:".into(), SiblingKey::Unnamed))
    );
    assert_eq!(
        k("protobuf:3.1:double"),
        Some(("protobuf:3.".into(), SiblingKey::Unnamed))
    );
    for none in [
        "json:$.imei",
        "form:latlng",
        "percent",
        "base64",
        "json:$[",
        "json:x.lat",
        "json:$['lat",
        "query:slow",
    ] {
        assert_eq!(k(none), None, "{none}");
    }
}

fn leaf(location: &str, chain: &[&str], data: &str) -> NumberLeaf {
    let chain: Vec<String> = chain.iter().map(|s| s.to_string()).collect();
    NumberLeaf::new(location, &chain, data.as_bytes()).unwrap()
}

#[test]
fn siblings_pair_by_name_or_position() {
    let m = london(Some(300.0));
    let pairs = |leaves: &[NumberLeaf]| -> Vec<(usize, &'static str, String)> {
        pair_leaves(&m, leaves)
            .into_iter()
            .map(|(i, h, pre)| (i, h.form.name(), pre))
            .collect()
    };
    // Named, with a prefix, in any order, other members around.
    assert!(NumberLeaf::new("body", &["json:$.acc".to_string()], b"12.5").is_none());
    let named = [
        leaf("body", &["json:$.loc_lng"], "-0.12776"),
        leaf("body", &["json:$.loc_lat"], "51.50735"),
    ];
    assert_eq!(
        pairs(&named),
        [(1, "rounded", "51.50735,-0.12776".to_string())]
    );
    // Different prefixes or different parents are not a pair.
    let apart = [
        leaf("body", &["json:$.a.lat"], "51.50735"),
        leaf("body", &["json:$.b.lng"], "-0.12776"),
        leaf("body", &["json:$.home_lat"], "51.50735"),
        leaf("body", &["json:$.work_lng"], "-0.12776"),
        leaf("url", &["query:lat"], "51.50735"),
        leaf("body", &["form:lng"], "-0.12776"),
    ];
    assert!(pairs(&apart).is_empty());
    // Unnamed neighbours (array elements, protobuf fields): either order.
    let unnamed = [
        leaf(
            "body",
            &["content-encoding:gzip", "protobuf:1"],
            "-0.127758",
        ),
        leaf(
            "body",
            &["content-encoding:gzip", "protobuf:2"],
            "51.507351",
        ),
    ];
    assert_eq!(
        pairs(&unnamed),
        [(1, "plain", "51.507351,-0.127758".to_string())]
    );
    let geojson = [
        leaf("body", &["json:$.coordinates[0]"], "-0.1278"),
        leaf("body", &["json:$.coordinates[1]"], "51.5074"),
    ];
    assert_eq!(pairs(&geojson)[0].1, "rounded");
    // Whitespace around a number leaf is fine; anything else is not a number leaf.
    assert_eq!(leaf("url", &["query:lat"], " 51.5 ").text, "51.5");
    assert!(NumberLeaf::new("url", &["query:lat".to_string()], b"51.5N").is_none());
    assert!(NumberLeaf::new("url", &[], b"51.5").is_none());
    assert!(NumberLeaf::new("url", &["query:imei".to_string()], b"51.5").is_none());
    assert!(NumberLeaf::new("url", &["query:lat".to_string()], &[b'1'; 40]).is_none());
}

#[test]
fn many_siblings_pair_in_linear_time() {
    let m = london(Some(300.0));
    let mut leaves: Vec<NumberLeaf> = (0..5_000)
        .map(|i| leaf("body", &[&format!("json:$.pts[{i}]")], "1.25"))
        .collect();
    leaves.extend((0..2_000).map(|i| leaf("body", &[&format!("json:$.k{i}lat")], "51.50735")));
    leaves.extend((0..2_000).map(|i| leaf("body", &[&format!("json:$.k{i}lng")], "-0.1")));
    let started = std::time::Instant::now();
    assert!(pair_leaves(&m, &leaves).is_empty());
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

/// A small deterministic generator of garbage.
fn garbage(seed: u64, alphabet: &[u8], len: usize) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            alphabet[(x >> 33) as usize % alphabet.len()]
        })
        .collect()
}

#[test]
fn garbage_never_panics() {
    let m = london(Some(300.0));
    let alphabet = b"0123456789.-+,;| $[]'\\:latlngonJSONjsonprotobuf#/\xff\xc3";
    for seed in 0..3_000 {
        let data = garbage(seed, alphabet, (seed % 97) as usize);
        let _ = m.scan_text(&data);
        let _ = Decimal::parse(&data);
        let text = String::from_utf8_lossy(&data);
        let _ = sibling_key(&text);
        let _ = json_parent_and_key(&text);
        let _ = NumberLeaf::new("body", &[text.into_owned()], &data);
    }
    // Truncated and absurd inputs.
    for t in [
        "51.",
        "-",
        "51.5074,",
        "51.5074,-",
        "51.5074,-0.",
        ",-0.1278",
        "$['",
        "$[",
        "$.",
        "json:$['a\\",
    ] {
        let _ = m.scan_text(t.as_bytes());
        let _ = sibling_key(t);
    }
    assert!(m.scan_text(&[b'5'; 1 << 16]).is_empty());
    assert!(m.scan_text(&b"1.11,".repeat(50_000)).is_empty());
}
