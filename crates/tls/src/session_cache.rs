//! TLS 1.2 session resumption across the connections of one capture (RFC 5246 §7.3, RFC 5077).
//!
//! A resumed TLS 1.2 connection reuses the master secret of an earlier one, named by the session
//! id (RFC 5246 §7.4.1.2) or by a session ticket (RFC 5077 §3.1). Key logs usually repeat the
//! master secret under the new client random, but not always (some libraries log only full
//! handshakes), so every [`crate::TlsSession`] that learns a master secret records it here, and a
//! session that finds no key for its own client random looks here before giving up.
//!
//! **Design:** `SessionCache` is a cheap handle (`Arc<Mutex<…>>`); clone it into every
//! [`crate::TlsSession`] of a capture with [`crate::TlsSession::with_cache`]. Sessions of one
//! capture are fed in capture order, so a resumption always comes after the connection that
//! created the session. The cache holds at most [`MAX_CACHE_ENTRIES`] entries and forgets the
//! oldest first. Tickets are stored by their SHA-256, so a long ticket costs 32 bytes.

use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// Most master secrets remembered per capture (session ids and tickets together).
pub const MAX_CACHE_ENTRIES: usize = 1 << 16;

/// How a cached session is named.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum CacheKey {
    /// A session id (at most 32 bytes).
    SessionId(Vec<u8>),
    /// The SHA-256 of a session ticket.
    Ticket([u8; 32]),
}

#[derive(Default)]
struct CacheInner {
    secrets: HashMap<CacheKey, [u8; 48]>,
    order: VecDeque<CacheKey>,
}

/// Master secrets of earlier TLS 1.2 sessions, by session id and by ticket; shared by the
/// connections of one capture (clone the handle).
#[derive(Clone, Default)]
pub struct SessionCache {
    inner: Arc<Mutex<CacheInner>>,
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        f.debug_struct("SessionCache")
            .field("len", &self.len())
            .finish()
    }
}

impl SessionCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of remembered sessions.
    pub fn len(&self) -> usize {
        self.lock().secrets.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Remembers the master secret of a session id (empty ids are ignored).
    pub fn insert_session_id(&self, session_id: &[u8], master: &[u8; 48]) {
        if !session_id.is_empty() && session_id.len() <= 32 {
            self.insert(CacheKey::SessionId(session_id.to_vec()), master);
        }
    }

    /// Remembers the master secret of a session ticket (empty tickets are ignored).
    pub fn insert_ticket(&self, ticket: &[u8], master: &[u8; 48]) {
        if !ticket.is_empty() {
            self.insert(CacheKey::Ticket(Sha256::digest(ticket).into()), master);
        }
    }

    /// The master secret of a session id.
    pub fn by_session_id(&self, session_id: &[u8]) -> Option<[u8; 48]> {
        if session_id.is_empty() {
            return None;
        }
        self.lock()
            .secrets
            .get(&CacheKey::SessionId(session_id.to_vec()))
            .copied()
    }

    /// The master secret of a session ticket.
    pub fn by_ticket(&self, ticket: &[u8]) -> Option<[u8; 48]> {
        if ticket.is_empty() {
            return None;
        }
        self.lock()
            .secrets
            .get(&CacheKey::Ticket(Sha256::digest(ticket).into()))
            .copied()
    }

    fn insert(&self, key: CacheKey, master: &[u8; 48]) {
        let mut inner = self.lock();
        if inner.secrets.insert(key.clone(), *master).is_none() {
            inner.order.push_back(key);
        }
        while inner.order.len() > MAX_CACHE_ENTRIES {
            if let Some(old) = inner.order.pop_front() {
                inner.secrets.remove(&old);
            }
        }
    }

    /// The lock; a panic elsewhere while holding it leaves plain data behind, so poisoning is
    /// ignored.
    fn lock(&self) -> MutexGuard<'_, CacheInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_sharing_and_eviction() {
        let cache = SessionCache::new();
        let shared = cache.clone();
        cache.insert_session_id(&[1; 32], &[0xaa; 48]);
        cache.insert_ticket(&[2; 300], &[0xbb; 48]);
        cache.insert_session_id(&[], &[0xcc; 48]); // ignored
        cache.insert_ticket(&[], &[0xcc; 48]); // ignored
        cache.insert_session_id(&[3; 33], &[0xcc; 48]); // too long for a session id
        assert_eq!(shared.len(), 2);
        assert_eq!(shared.by_session_id(&[1; 32]), Some([0xaa; 48]));
        assert_eq!(shared.by_ticket(&[2; 300]), Some([0xbb; 48]));
        assert_eq!(shared.by_ticket(&[2; 299]), None);
        assert_eq!(shared.by_session_id(&[]), None);
        assert!(
            !format!("{cache:?}").contains("aa"),
            "secrets never printed"
        );
        for i in 0..MAX_CACHE_ENTRIES as u32 {
            cache.insert_ticket(&i.to_be_bytes(), &[1; 48]);
        }
        assert_eq!(cache.len(), MAX_CACHE_ENTRIES);
        assert_eq!(cache.by_session_id(&[1; 32]), None, "the oldest went first");
        assert_eq!(cache.by_ticket(&0u32.to_be_bytes()), Some([1; 48]));
    }
}
