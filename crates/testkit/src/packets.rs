//! A capture as IP packets, one frame at a time (no flow stage).

use phonehome_ingest::{read_capture, CaptureEvent};
use phonehome_wire::IpPacket;
use std::path::Path;
use std::sync::Arc;

/// Calls `on` with the frame number and the packet of every frame of the capture at `path` that
/// `phonehome-wire` parses as IP, in file order; other frames are skipped. For tests that look at
/// each packet as captured (fragments and all), without the flow stage's reassembly.
///
/// Fails as `phonehome_ingest::read_capture` does: only when nothing at all can be read.
pub fn read_ip_packets(
    path: &Path,
    on: &mut dyn FnMut(u64, IpPacket<'_>),
) -> Result<(), phonehome_ingest::Error> {
    let name: Arc<str> = Arc::from(path.display().to_string());
    read_capture(path, name, &mut |event| {
        if let CaptureEvent::Frame(frame) = event {
            if let Ok(ip) = phonehome_wire::parse_frame(frame.linktype, frame.data) {
                on(frame.number, ip);
            }
        }
    })
    .map(|_| ())
}
