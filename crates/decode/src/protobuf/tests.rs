//! Unit tests of the protobuf wire reader, with messages written by hand from the encoding guide.

use super::*;

/// Appends `value` as a varint.
fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A length-delimited field.
fn len_field(number: u64, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint(&mut out, number << 3 | 2);
    varint(&mut out, data.len() as u64);
    out.extend_from_slice(data);
    out
}

/// All leaves, nested messages always tried.
fn leaves(message: &[u8]) -> Vec<(String, Leaf<'_>)> {
    let mut walk = ProtobufLeaves::new(message);
    let mut out = Vec::new();
    while let Some((path, leaf)) = walk.next_leaf(&mut || true) {
        out.push((path.to_string(), leaf));
    }
    out
}

fn number(path: &str, text: &str, suffix: &'static str) -> (String, Leaf<'static>) {
    (
        path.to_string(),
        Leaf::Number {
            text: text.to_string(),
            suffix,
        },
    )
}

#[test]
fn varints() {
    let read = |bytes: &[u8]| {
        let mut pos = 0;
        read_varint(bytes, &mut pos).map(|v| (v, pos))
    };
    assert_eq!(read(&[0x96, 0x01]), Some((150, 2)), "the guide's example");
    assert_eq!(read(&[0x00]), Some((0, 1)));
    assert_eq!(
        read(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
        Some((u64::MAX, 10))
    );
    assert_eq!(
        read(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]),
        None,
        "65 bits"
    );
    assert_eq!(read(&[0x80; 11]), None, "too long");
    assert_eq!(read(&[0x96]), None, "truncated");
    assert_eq!(read(&[]), None);
    assert_eq!(read(&[0x80, 0x00]), None, "overlong zero");
    assert_eq!(read(&[0x96, 0x81, 0x00]), None, "overlong");
}

#[test]
fn fields_and_wire_types() {
    fn read(bytes: &[u8]) -> Option<WireField<'_>> {
        let mut pos = 0;
        read_field(bytes, &mut pos)
    }
    assert_eq!(
        read(&[0x08, 0x96, 0x01]),
        Some(WireField {
            number: 1,
            value: WireValue::Varint(150)
        })
    );
    assert_eq!(
        read(b"\x12\x07testing").map(|f| f.value),
        Some(WireValue::Len(b"testing"))
    );
    assert_eq!(
        read(&[0x19, 1, 0, 0, 0, 0, 0, 0, 0]).map(|f| (f.number, f.value)),
        Some((3, WireValue::Fixed64(1)))
    );
    assert_eq!(
        read(&[0x25, 0, 0, 0x80, 0x3f]).map(|f| f.value),
        Some(WireValue::Fixed32(0x3f80_0000))
    );
    // Field number 0; groups (3, 4) and wire types 6 and 7.
    for tag in [0x00, 0x02, 0x0b, 0x0c, 0x0e, 0x0f] {
        assert_eq!(read(&[tag, 0, 0, 0, 0, 0, 0, 0, 0]), None, "tag {tag:#x}");
    }
    // The largest field number, and one past it.
    let mut top = Vec::new();
    varint(&mut top, MAX_FIELD_NUMBER << 3);
    top.push(1);
    assert_eq!(read(&top).map(|f| f.number), Some(536_870_911));
    let mut past = Vec::new();
    varint(&mut past, (MAX_FIELD_NUMBER + 1) << 3);
    past.push(1);
    assert_eq!(read(&past), None);
    // Truncated fixed values; a length past the end; an absurd length.
    assert_eq!(read(&[0x19, 1, 2, 3]), None);
    assert_eq!(read(&[0x25, 1, 2, 3]), None);
    assert_eq!(read(b"\x12\x08testing"), None);
    let mut absurd = vec![0x12];
    varint(&mut absurd, u64::MAX);
    absurd.extend_from_slice(b"abc");
    assert_eq!(read(&absurd), None);
}

#[test]
fn whole_messages_only() {
    let mut message = len_field(1, b"R58N31XYZQ");
    message.extend_from_slice(&[0x10, 0x96, 0x01]);
    assert_eq!(
        parse_message(&message),
        Some(Shape {
            fields: 2,
            ordered: true
        })
    );
    assert_eq!(parse_message(&message[..message.len() - 1]), None);
    let mut trailing = message.clone();
    trailing.push(0x08);
    assert_eq!(parse_message(&trailing), None);
    assert_eq!(
        parse_message(&[0x10, 0x01, 0x08, 0x01]),
        Some(Shape {
            fields: 2,
            ordered: false
        })
    );
}

#[test]
fn text_is_not_a_message() {
    // Clean text is read as text, whether or not it would parse as protobuf.
    for text in [
        "8a1d4c2b9e7f6a30",                     // an Android ID
        "0f6e1c2b-3a4d-4e5f-8a9b-c0d1e2f3a4b5", // a UUID
        "af2d48f2495881aed1737bb21017f9b6",     // an md5 digest in hex
        "The quick brown fox jumps over the lazy dog",
        "(5",
    ] {
        assert!(!is_candidate(text.as_bytes(), Declared::No), "{text}");
        assert!(
            !is_plausible_message(text.as_bytes(), Declared::No),
            "{text}"
        );
    }
    assert!(parse_message(b"(5").is_some(), "but it would parse");
    assert!(parse_message(b"eabcdeabcd").is_some(), "and so would this");
    assert!(!is_plausible_message(b"eabcdeabcd", Declared::No));
    // {1: "R58N31XYZQ"} is clean text too, but starts with a field-1 tag.
    let message = len_field(1, b"R58N31XYZQ");
    assert_eq!(message, b"\n\nR58N31XYZQ");
    assert!(is_plausible_message(&message, Declared::No));
    // With a control byte it is no longer clean text.
    let message = len_field(1, b"356938035643809");
    assert!(is_plausible_message(&message, Declared::No));
}

#[test]
fn plausibility_score() {
    assert!(!is_plausible_message(b"", Declared::Yes));
    assert!(!is_plausible_message(&[0x08], Declared::Yes), "one byte");
    // Out of order: only when declared.
    let disordered = [0x10, 0x01, 0x08, 0x01];
    assert!(!is_plausible_message(&disordered, Declared::No));
    assert!(is_plausible_message(&disordered, Declared::Yes));
    // Declared clean text that parses.
    assert!(is_plausible_message(b"(5", Declared::Yes));
    // Compressed data is never tried.
    assert!(!is_candidate(&[0x1f, 0x8b, 0x08, 0x00], Declared::Yes));
    assert!(!is_candidate(
        &[0x28, 0xb5, 0x2f, 0xfd, 0x00],
        Declared::Yes
    ));
    assert!(!is_candidate(&[0x04, 0x22, 0x4d, 0x18], Declared::Yes));
    assert!(!is_candidate(&[0x78, 0x9c, 0x01], Declared::Yes));
}

#[test]
fn leaves_and_paths() {
    // {1: "a", 2: {3: 150, 4: {5: "deep"}}, 6: [7, 8], 9: -1}
    let mut inner = len_field(5, b"deep");
    inner = [vec![0x18, 0x96, 0x01], len_field(4, &inner)].concat();
    let mut message = len_field(1, b"a");
    message.extend_from_slice(&len_field(2, &inner));
    message.extend_from_slice(&[0x30, 7, 0x30, 8]);
    message.push(0x48);
    varint(&mut message, u64::MAX);
    assert_eq!(
        leaves(&message),
        vec![
            ("1".to_string(), Leaf::Data(b"a")),
            number("2.3", "150", ""),
            ("2.4.5".to_string(), Leaf::Data(b"deep")),
            number("6", "7", ""),
            number("6", "8", ""),
            number("9", "18446744073709551615", ""),
            number("9", "-1", ":int64"),
        ]
    );
}

#[test]
fn fixed_readings() {
    let mut message = vec![0x09];
    message.extend_from_slice(&48.856_614f64.to_le_bytes());
    message.push(0x11);
    message.extend_from_slice(&0.0f64.to_le_bytes());
    message.push(0x19);
    message.extend_from_slice(&f64::NAN.to_le_bytes());
    message.push(0x21);
    message.extend_from_slice(&1e300f64.to_le_bytes());
    message.push(0x2d);
    message.extend_from_slice(&2.352_222f32.to_le_bytes());
    message.push(0x35);
    message.extend_from_slice(&(-0.1f32).to_le_bytes());
    assert_eq!(
        leaves(&message),
        vec![
            number("1", &48.856_614f64.to_bits().to_string(), ""),
            number("1", "48.856614", ":double"),
            number("2", "0", ""),
            number("3", &f64::NAN.to_bits().to_string(), ""),
            number("4", &1e300f64.to_bits().to_string(), ""),
            number("5", &2.352_222f32.to_bits().to_string(), ""),
            number("5", "2.352222", ":float"),
            number("6", &(-0.1f32).to_bits().to_string(), ""),
            number("6", "-0.1", ":float"),
        ]
    );
}

#[test]
fn float_formatting() {
    let f64_text = |x: f64| format_float(x, x.to_string());
    assert_eq!(f64_text(48.85661400000001).as_deref(), Some("48.856614"));
    assert_eq!(f64_text(0.1 + 0.2).as_deref(), Some("0.3"));
    assert_eq!(f64_text(-122.419_4).as_deref(), Some("-122.4194"));
    assert_eq!(f64_text(1234.5).as_deref(), Some("1234.5"));
    assert_eq!(f64_text(3.0).as_deref(), Some("3"));
    assert_eq!(f64_text(1e-9).as_deref(), Some("0.000000001"));
    assert_eq!(f64_text(1e-12), None, "zero once rounded");
    assert_eq!(f64_text(-0.0), None);
    assert_eq!(f64_text(1e7), None);
    assert_eq!(f64_text(f64::INFINITY), None);
    let x = 48.8566f32;
    assert_eq!(
        format_float(f64::from(x), x.to_string()).as_deref(),
        Some("48.8566")
    );
}

#[test]
fn nesting_is_capped() {
    // 10 000 messages, each the only field of its parent.
    let mut message = vec![0x08, 0x01];
    for _ in 0..10_000 {
        message = len_field(1, &message);
    }
    assert!(is_plausible_message(&message, Declared::No));
    let all = leaves(&message);
    assert_eq!(all.len(), 1, "the rest stays bytes");
    let (path, leaf) = &all[0];
    assert_eq!(path.split('.').count(), MAX_PROTOBUF_NESTING);
    assert!(matches!(leaf, Leaf::Data(bytes) if bytes.len() > 10_000));
}

#[test]
fn refused_trials_leave_bytes() {
    let message = len_field(2, &[0x08, 0x01]);
    let mut walk = ProtobufLeaves::new(&message);
    let mut asked = 0;
    let mut refuse = || {
        asked += 1;
        false
    };
    let (path, leaf) = walk.next_leaf(&mut refuse).unwrap();
    assert_eq!((path, leaf), ("2", Leaf::Data(&[0x08, 0x01][..])));
    assert!(walk.next_leaf(&mut refuse).is_none());
    assert_eq!(asked, 1);
}

#[test]
fn grpc_framing() {
    let a = len_field(1, b"356938035643809");
    let b = [0x08, 0x2a];
    let mut stream = vec![0, 0, 0, 0, a.len() as u8];
    stream.extend_from_slice(&a);
    stream.extend_from_slice(&[0, 0, 0, 0, 2]);
    stream.extend_from_slice(&b);
    let frames = grpc_frames(&stream, Declared::No).unwrap();
    assert_eq!(
        frames,
        vec![
            GrpcFrame { flags: 0, data: &a },
            GrpcFrame { flags: 0, data: &b }
        ]
    );
    // Truncated, trailing byte, bad flags, absurd length.
    assert_eq!(
        grpc_frames(&stream[..stream.len() - 1], Declared::Yes),
        None
    );
    let mut trailing = stream.clone();
    trailing.push(0);
    assert_eq!(grpc_frames(&trailing, Declared::Yes), None);
    let mut bad_flags = stream.clone();
    bad_flags[0] = 2;
    assert_eq!(grpc_frames(&bad_flags, Declared::Yes), None);
    assert_eq!(
        grpc_frames(&[0, 0xff, 0xff, 0xff, 0xff, 1, 2], Declared::Yes),
        None
    );
    // Only empty messages: framing when declared, nothing to read when guessed.
    assert_eq!(
        grpc_frames(&[0; 10], Declared::Yes).map(|f| f.len()),
        Some(2)
    );
    assert_eq!(grpc_frames(&[0; 10], Declared::No), None);
    // A frame that is not a message, and a "compressed" frame that is not compressed.
    let text = [&[0u8, 0, 0, 0, 5][..], b"hello"].concat();
    assert!(grpc_frames(&text, Declared::Yes).is_some());
    assert_eq!(grpc_frames(&text, Declared::No), None);
    let fake = [&[1u8, 0, 0, 0, 2][..], &[0x08, 0x01]].concat();
    assert_eq!(grpc_frames(&fake, Declared::No), None);
    // gRPC-Web trailers.
    let trailers = [&stream[..], &[0x80, 0, 0, 0, 15], b"grpc-status:0\r\n"].concat();
    let frames = grpc_frames(&trailers, Declared::No).unwrap();
    assert!(frames[2].trailers() && !frames[2].compressed());
}

#[test]
fn length_prefixed_framing() {
    let a = len_field(1, b"356938035643809");
    let b = [0x08, 0x2a];
    let stream = [&[a.len() as u8][..], &a, &[2], &b].concat();
    assert!(is_length_prefixed_candidate(&stream));
    assert_eq!(
        length_prefixed_messages(&stream),
        Some(vec![&a[..], &b[..]])
    );
    assert_eq!(length_prefixed_messages(&stream[..stream.len() - 1]), None);
    assert_eq!(length_prefixed_messages(&[0x05, 0x08]), None);
    assert_eq!(length_prefixed_messages(&[0x00]), None, "empty message");
    assert_eq!(
        length_prefixed_messages(&[0x04, b't', b'e', b'x', b't']),
        None
    );
    assert_eq!(length_prefixed_messages(&[]), None);
    let mut absurd = Vec::new();
    varint(&mut absurd, u64::MAX >> 1);
    absurd.extend_from_slice(&[0x08, 0x01]);
    assert!(!is_length_prefixed_candidate(&absurd));
    assert_eq!(length_prefixed_messages(&absurd), None);
}
