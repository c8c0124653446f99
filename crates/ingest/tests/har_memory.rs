//! Memory a HAR reading uses, measured rather than timed: this test binary's global allocator
//! counts the bytes requested, and each case asserts that reading a large file allocates no more
//! than the crate's documented bounds (its 1 MiB read buffer, plus what the entries keep, a small
//! multiple of their JSON). Parsing `creator` or an entry into a JSON tree first, as this reader
//! once did, allocated 20 to 30 times the JSON's size.
//!
//! The counting needs `unsafe` (a `GlobalAlloc` impl forwarding to the system allocator); the
//! library itself forbids unsafe code. One test function runs the cases in turn, so that no other
//! test allocates at the same time.

use phonehome_ingest::{read_har_from, HarEvent, INITIAL_BUFFER_LEN, MAX_HAR_CREATOR_NAME_LEN};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Counts the bytes allocated now and the most allocated at once since the last reset.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only sizes are counted.
// `realloc` keeps its default (allocate, copy, free), so a moving reallocation counts both blocks.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: `ptr` was allocated by `System` with `layout` (through `alloc` above).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What reading `json` delivered, and the most bytes allocated at once beyond what was allocated
/// before (the events are collected, so what the entries keep counts too).
fn read_measured(json: &str) -> (Vec<HarEvent>, Option<String>, usize) {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let mut events = Vec::new();
    let stats = read_har_from(json.as_bytes(), Arc::from("big.har"), &mut |e| {
        events.push(e)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let peak = PEAK.load(Ordering::SeqCst).saturating_sub(base);
    (events, stats.creator, peak)
}

const REQUEST: &str = r#""request": {"method": "GET", "url": "http://a/""#;

#[test]
fn large_members_and_entries_use_memory_in_proportion() {
    // The read buffer, plus a little for the parser, the stats and the event list.
    let fixed = INITIAL_BUFFER_LEN + (256 << 10);

    // 1. A 3 MB `creator` that is an array of empty arrays: nothing of it is kept.
    let creator = format!("[{}[]]", "[],".repeat(1_000_000));
    let json = format!(r#"{{"log": {{"creator": {creator}, "entries": [{{{REQUEST}}}}}]}}}}"#);
    let (events, name, peak) = read_measured(&json);
    assert_eq!((events.len(), name), (1, None));
    assert!(
        peak <= fixed,
        "creator of {} bytes: peak {peak}",
        json.len()
    );
    println!(
        "creator array: {} bytes of JSON, peak {peak} bytes",
        json.len()
    );

    // 2. A creator object with a 2 MB member besides its name, and a name too long to keep.
    let long_name = "n".repeat(10_000);
    let json = format!(
        r#"{{"log": {{"creator": {{"comment": "{}", "name": "{long_name}"}}, "entries": []}}}}"#,
        "c".repeat(2_000_000)
    );
    let (_, name, peak) = read_measured(&json);
    assert_eq!(name.map(|n| n.len()), Some(MAX_HAR_CREATOR_NAME_LEN));
    assert!(peak <= fixed, "creator comment: peak {peak}");

    // 3. An entry with a 3 MB member nobody reads (a million empty objects): skipped as parsed.
    let junk = format!("[{}{{}}]", "{},".repeat(1_000_000));
    let json = format!(r#"{{"log": {{"entries": [{{{REQUEST}}}, "_junk": {junk}}}]}}}}"#);
    let (events, _, peak) = read_measured(&json);
    let [HarEvent::Entry(entry)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(entry.request.url, "http://a/");
    assert!(
        peak <= fixed,
        "entry with {} bytes of junk: peak {peak}",
        json.len()
    );
    println!(
        "entry with junk: {} bytes of JSON, peak {peak} bytes",
        json.len()
    );

    // 4. An entry that keeps a lot: 100 000 headers. What it keeps (48-byte list slots and two
    // 1-byte strings per header, a list that doubles as it grows) stays within 4 bytes per byte
    // of its JSON.
    let headers = vec![r#"{"name": "h", "value": "v"}"#; 100_000].join(",");
    let json = format!(
        r#"{{"log": {{"entries": [{{"request": {{"method": "GET", "url": "http://a/", "headers": [{headers}]}}}}]}}}}"#
    );
    let (events, _, peak) = read_measured(&json);
    let [HarEvent::Entry(entry)] = &events[..] else {
        panic!("{events:?}")
    };
    let kept: usize = entry
        .request
        .headers
        .iter()
        .map(|(n, v)| n.len() + v.len())
        .sum();
    assert_eq!((entry.request.headers.len(), kept), (100_000, 200_000));
    assert!(
        peak <= fixed + 4 * json.len(),
        "{} bytes of headers: peak {peak}",
        json.len()
    );
    println!(
        "100 000 headers: {} bytes of JSON, peak {peak} bytes",
        json.len()
    );
}
