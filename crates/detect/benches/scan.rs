//! Throughput of [`Detector::scan`] over a 1 MiB analytics-style JSON body, with profiles of 10,
//! 1 000 and 10 000 values (IMEIs, MACs, Android IDs, advertising IDs, emails and phone numbers,
//! generated), and the size of the automata they build.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use phonehome_detect::{Detector, Profile};
use std::fmt::Write;
use std::hint::black_box;
use std::time::Instant;

/// The Luhn check digit of `digits`.
fn luhn(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let t = d * 2;
                if t > 9 {
                    t - 9
                } else {
                    t
                }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// A profile with `n` values spread over six kinds, one location, two contacts and an SMS.
fn profile(n: usize) -> Profile {
    let mut kinds: [Vec<String>; 6] = Default::default();
    for i in 0..n {
        let v = match i % 6 {
            0 => {
                let body = format!("3569380{:07}", i);
                format!("\"{body}{}\"", luhn(&body))
            }
            1 => format!(
                "\"3c:28:{:02x}:{:02x}:{:02x}:45\"",
                (i >> 16) & 0xff,
                (i >> 8) & 0xff,
                i & 0xff
            ),
            2 => format!(
                "\"{:016x}\"",
                0x9774_d56d_682e_549c_u64.wrapping_add(i as u64 * 7919)
            ),
            3 => format!(
                "\"{:08x}-8cf0-11bd-b23e-10b96e40000d\"",
                0x3840_0000_u32.wrapping_add(i as u32)
            ),
            4 => format!("\"user{i}@example.co.uk\""),
            _ => format!("\"+4477009{:05}\"", i % 100_000),
        };
        kinds[i % 6].push(v);
    }
    let names = [
        "imei",
        "mac",
        "android_id",
        "advertising_id",
        "email",
        "phone_number",
    ];
    let mut text = String::from("[device]\nregion = \"GB\"\n");
    for (name, values) in names.iter().zip(&kinds) {
        if !values.is_empty() {
            writeln!(text, "{name} = [{}]", values.join(", ")).unwrap();
        }
    }
    text.push_str(
        "[[location]]\nlat = 51.507351\nlon = -0.127758\nradius_m = 300\n\
         [[contact]]\nname = \"Priya Shah\"\nphone = \"+447700900456\"\n\
         [[contact]]\nname = \"José Núñez\"\n\
         [[sms]]\ntext = \"Your parcel will arrive tomorrow between 9 and 11, reply STOP to opt out\"\n",
    );
    let (profile, _) = Profile::parse(&text).expect("generated profile parses");
    profile
}

/// 1 MiB of analytics events: ids in hex, timestamps, coordinates that are not the point,
/// user agents, URLs; two profile values near the end.
fn body() -> Vec<u8> {
    let mut out = String::from("{\"events\": [");
    let mut i: u64 = 0;
    while out.len() < (1 << 20) - 300 {
        let id = 0x1234_5678_9abc_def0_u64.wrapping_mul(i + 1);
        writeln!(
            out,
            "{{\"seq\": {i}, \"ts\": {}, \"sid\": \"{id:016x}\", \"ev\": \"screen_view\", \
             \"lat\": {}.{:04}, \"lng\": {}.{:04}, \"ua\": \"Dalvik/2.1.0 (Linux; U; Android 12)\", \
             \"url\": \"https://cdn.example.com/a/{id:x}.js?v=3.2.1\", \"n\": \"Ünïcödé ✓ {i}\"}},",
            1_700_000_000_000u64 + i * 17,
            10 + i % 40,
            i % 10_000,
            i % 90,
            (i * 7) % 10_000,
        )
        .unwrap();
        i += 1;
    }
    out.push_str("{\"imei\": \"356938035643809\", \"mac\": \"3C:28:6D:01:23:45\"}]}");
    out.into_bytes()
}

fn scan(c: &mut Criterion) {
    let data = body();
    let mut group = c.benchmark_group("Detector::scan 1 MiB JSON");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    for n in [10usize, 1_000, 10_000] {
        let profile = profile(n);
        let started = Instant::now();
        let detector = Detector::new(&profile);
        println!(
            "{n} values: {} patterns, {:?}, automata {:.1} MiB, built in {:?}",
            detector.pattern_count(),
            detector.automaton_kind(),
            detector.automaton_bytes() as f64 / (1 << 20) as f64,
            started.elapsed()
        );
        group.bench_with_input(BenchmarkId::from_parameter(n), &data, |b, data| {
            b.iter(|| black_box(detector.scan(black_box(data))))
        });
    }
    group.finish();
}

criterion_group!(benches, scan);
criterion_main!(benches);
