//! Bounds-checked reads of fixed-size integers in a file's byte order.

/// The byte order of a pcap file or of one pcapng section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ByteOrder {
    Little,
    Big,
}

impl ByteOrder {
    /// The `u16` at `at`, or `None` when `bytes` is too short.
    #[inline]
    pub(crate) fn u16(self, bytes: &[u8], at: usize) -> Option<u16> {
        let raw: [u8; 2] = bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            Self::Little => u16::from_le_bytes(raw),
            Self::Big => u16::from_be_bytes(raw),
        })
    }

    /// The `u32` at `at`, or `None` when `bytes` is too short.
    #[inline]
    pub(crate) fn u32(self, bytes: &[u8], at: usize) -> Option<u32> {
        let raw: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(self.u32_of(raw))
    }

    /// The `u32` four bytes encode.
    #[inline]
    pub(crate) fn u32_of(self, raw: [u8; 4]) -> u32 {
        match self {
            Self::Little => u32::from_le_bytes(raw),
            Self::Big => u32::from_be_bytes(raw),
        }
    }

    /// The `u64` at `at`, or `None` when `bytes` is too short.
    #[inline]
    pub(crate) fn u64(self, bytes: &[u8], at: usize) -> Option<u64> {
        let raw: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
        Some(match self {
            Self::Little => u64::from_le_bytes(raw),
            Self::Big => u64::from_be_bytes(raw),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ByteOrder::{Big, Little};

    #[test]
    fn reads_both_orders_and_refuses_short_input() {
        let b = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(Little.u16(&b, 1), Some(0x0302));
        assert_eq!(Big.u32(&b, 4), Some(0x0506_0708));
        assert_eq!(Little.u64(&b, 0), Some(0x0807_0605_0403_0201));
        assert_eq!(Big.u32(&b, 5), None);
        assert_eq!(Big.u16(&b, usize::MAX), None);
    }
}
