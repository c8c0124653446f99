//! Organisations behind domains: the entity data file, its format and longest-suffix matching.
//!
//! An [`EntityDb`] maps a host name to the organisation that controls it: the entity whose domain
//! rule is the longest suffix of the host on a label boundary (`log.tbs.qq.com` → rule `qq.com` →
//! Tencent; `notqq.com` matches nothing). Each entity has a headquarters country, an optional
//! country of incorporation, an optional parent (resolved to its name and country) and public
//! sources. Names under a shared hosting suffix (`cloudfront.net`, `appspot.com`, …) belong to
//! unknown customers: they stay unknown unless a longer rule matches. Unknown is reported as
//! unknown, never guessed.
//!
//! The data ships in `data/entities.toml` ([`EMBEDDED_ENTITIES`]); the format is documented in
//! `docs/entities.md`. Users add or override entries with an overlay file
//! ([`EntityDb::overlay_toml`]).
//!
//! ```
//! use phonehome_attribute::entity::EntityDb;
//! let db = EntityDb::embedded();
//! let m = db.lookup("Tracking.Intl.MIUI.com.:443").unwrap();
//! assert_eq!((m.id, m.country, m.incorporated, m.rule), ("xiaomi", "CN", Some("KY"), "miui.com"));
//! let m = db.lookup("cloud.oneplus.net").unwrap();
//! assert_eq!(m.parent.map(|p| (p.id, p.country)), Some(("oppo", "CN")));
//! assert!(db.lookup("notqq.com").is_none());
//! assert!(db.lookup("d1234.cloudfront.net").is_none());
//! ```

mod error;
mod parse;

pub use error::{EntityError, EntityErrorKind};

use parse::parse_entity_file;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

/// The entity file compiled into the library (`data/entities.toml`).
pub const EMBEDDED_ENTITIES: &str = include_str!("../../../data/entities.toml");

/// The origin that names the compiled-in file in errors and in [`Entity::origin`].
pub const EMBEDDED_ORIGIN: &str = "data/entities.toml";

/// What an organisation mainly does, for grouping in reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EntityKind {
    /// Makes phones or their operating system.
    Vendor,
    /// Makes the phone's chipset.
    Chipset,
    /// Runs a broad consumer internet platform (search, social, cloud, apps).
    Platform,
    /// Advertising network or exchange.
    Ads,
    /// Analytics, attribution or measurement.
    Analytics,
    /// Push notification service.
    Push,
    /// Mobile network operator.
    Carrier,
    /// Cloud or content delivery provider.
    Cloud,
    /// Security software.
    Security,
    /// Social network.
    Social,
    /// Online shopping or services marketplace.
    Commerce,
    /// Payments.
    Payments,
    /// Media, video or games.
    Media,
    /// Developer tools (crash reporting, code hosting).
    Tools,
    /// Holding company of other entities.
    Holding,
}

impl EntityKind {
    /// The lower-case name used in the data file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vendor => "vendor",
            Self::Chipset => "chipset",
            Self::Platform => "platform",
            Self::Ads => "ads",
            Self::Analytics => "analytics",
            Self::Push => "push",
            Self::Carrier => "carrier",
            Self::Cloud => "cloud",
            Self::Security => "security",
            Self::Social => "social",
            Self::Commerce => "commerce",
            Self::Payments => "payments",
            Self::Media => "media",
            Self::Tools => "tools",
            Self::Holding => "holding",
        }
    }
}

/// One organisation, as read from an entity file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entity {
    /// Short stable identifier (`xiaomi`), referenced by `parent` and by overlays.
    pub id: String,
    /// Display name (`Xiaomi`).
    pub name: String,
    /// Headquarters country, ISO 3166-1 alpha-2.
    pub country: String,
    /// Country of incorporation when it differs from the headquarters (`KY` for Cayman Islands).
    pub incorporated: Option<String>,
    /// Id of the parent entity.
    pub parent: Option<String>,
    /// What the organisation mainly does.
    pub kind: Option<EntityKind>,
    /// Domain rules (lower case): a host equal to one or ending in `.` + one belongs here.
    pub domains: Vec<String>,
    /// Public evidence for the entity's identity, country and parent.
    pub sources: Vec<String>,
    /// Extra evidence for single domains whose owner is not obvious from the name.
    pub domain_sources: BTreeMap<String, Vec<String>>,
    /// Free-text remark on a choice made in the data.
    pub note: Option<String>,
    /// The file the entity came from.
    pub origin: String,
    /// 1-based line of the entity's `id` in that file.
    pub line: usize,
}

impl Entity {
    fn error(&self, kind: EntityErrorKind) -> EntityError {
        EntityError {
            origin: self.origin.clone(),
            line: Some(self.line),
            entity: Some(self.id.clone()),
            kind,
        }
    }
}

/// A shared hosting suffix and where it was listed.
#[derive(Clone, Debug)]
struct SharedSuffix {
    suffix: String,
    origin: String,
    line: usize,
}

/// The parent of a matched organisation, resolved to its name and country.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParentOrg<'a> {
    /// Parent entity id.
    pub id: &'a str,
    /// Parent display name.
    pub name: &'a str,
    /// Parent headquarters country.
    pub country: &'a str,
}

/// The organisation a host belongs to and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrgMatch<'a> {
    /// Entity id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Headquarters country (ISO 3166-1 alpha-2).
    pub country: &'a str,
    /// Country of incorporation when it differs from the headquarters.
    pub incorporated: Option<&'a str>,
    /// What the organisation mainly does.
    pub kind: Option<EntityKind>,
    /// The direct parent, resolved.
    pub parent: Option<ParentOrg<'a>>,
    /// The domain rule that matched (the longest suffix of the host that has a rule).
    pub rule: &'a str,
    /// Evidence specific to that rule (often empty).
    pub rule_sources: &'a [String],
    /// Evidence for the entity.
    pub sources: &'a [String],
}

/// What a suffix in the rule table leads to.
#[derive(Clone, Copy, Debug)]
enum Target {
    Entity(usize),
    SharedHosting,
}

/// Whether `build` insists that every parent id is in the same database.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ParentLinks {
    Required,
    /// For an overlay checked on its own: parents may be in the base it will be laid over.
    MayBeInBase,
}

/// A checked set of entities and shared hosting suffixes with a suffix table for lookups.
#[derive(Clone, Debug, Default)]
pub struct EntityDb {
    entities: Vec<Entity>,
    by_id: HashMap<String, usize>,
    /// Index of each entity's parent (`None` without one).
    parents: Vec<Option<usize>>,
    /// Index of the top of each entity's parent chain (itself when it has no parent).
    roots: Vec<usize>,
    /// Every domain rule and shared suffix → what it leads to.
    rules: HashMap<String, Target>,
    shared: Vec<SharedSuffix>,
    shared_sources: Vec<String>,
}

impl EntityDb {
    /// The compiled-in database, parsed once. A broken embedded file (caught by the crate's tests)
    /// gives an empty database at run time rather than a panic.
    pub fn embedded() -> &'static EntityDb {
        static EMBEDDED: OnceLock<EntityDb> = OnceLock::new();
        EMBEDDED.get_or_init(|| {
            EntityDb::from_toml(EMBEDDED_ENTITIES, EMBEDDED_ORIGIN).unwrap_or_default()
        })
    }

    /// Parses and checks a complete entity file; `origin` (usually the path) names it in errors.
    /// Every `parent` must be defined in the same text.
    pub fn from_toml(text: &str, origin: &str) -> Result<EntityDb, EntityError> {
        let file = parse_entity_file(text, origin)?;
        Self::build(
            file.entities,
            file.shared,
            file.shared_sources,
            ParentLinks::Required,
        )
    }

    /// This database with an overlay file laid over it (the CLI's `--entities FILE`). Unlike
    /// [`EntityDb::from_toml`], a `parent` in the overlay may name an entity of this database.
    /// Same rules as [`EntityDb::with_overlay`].
    pub fn overlay_toml(&self, text: &str, origin: &str) -> Result<EntityDb, EntityError> {
        let file = parse_entity_file(text, origin)?;
        let overlay = Self::build(
            file.entities,
            file.shared,
            file.shared_sources,
            ParentLinks::MayBeInBase,
        )?;
        self.with_overlay(overlay)
    }

    /// This database with `overlay` laid over it: an overlay entity with an existing id replaces
    /// that entity entirely (domains included); a domain or shared suffix listed in the overlay is
    /// taken away from whichever base entity or shared list had it; new entities and suffixes are
    /// added. The result is checked again (parents, cycles).
    pub fn with_overlay(&self, overlay: EntityDb) -> Result<EntityDb, EntityError> {
        let claimed: HashSet<&str> = overlay.rules.keys().map(String::as_str).collect();
        let mut replacements: Vec<Option<Entity>> =
            overlay.entities.into_iter().map(Some).collect();
        let mut entities = Vec::with_capacity(self.entities.len() + replacements.len());
        for base in &self.entities {
            let replacement = overlay
                .by_id
                .get(&base.id)
                .and_then(|&i| replacements.get_mut(i))
                .and_then(Option::take);
            entities.push(replacement.unwrap_or_else(|| {
                let mut kept = base.clone();
                kept.domains.retain(|d| !claimed.contains(d.as_str()));
                kept.domain_sources
                    .retain(|d, _| !claimed.contains(d.as_str()));
                kept
            }));
        }
        entities.extend(replacements.into_iter().flatten());
        let mut shared: Vec<SharedSuffix> = self
            .shared
            .iter()
            .filter(|s| !claimed.contains(s.suffix.as_str()))
            .cloned()
            .collect();
        shared.extend(overlay.shared);
        let mut shared_sources = self.shared_sources.clone();
        for source in overlay.shared_sources {
            if !shared_sources.contains(&source) {
                shared_sources.push(source);
            }
        }
        Self::build(entities, shared, shared_sources, ParentLinks::Required)
    }

    /// The organisation behind `host` (as sent: any case, optional port and trailing dot), from the
    /// longest matching domain rule. `None` when no rule matches, when the longest match is a
    /// shared hosting suffix, for IP literals and for names with characters DNS names cannot have.
    pub fn lookup(&self, host: &str) -> Option<OrgMatch<'_>> {
        let name = crate::domain_name(host)?;
        let mut suffix = name.as_str();
        loop {
            if let Some((rule, target)) = self.rules.get_key_value(suffix) {
                return match *target {
                    Target::Entity(index) => Some(self.org_match(index, rule)),
                    Target::SharedHosting => None,
                };
            }
            let dot = suffix.find('.')?;
            suffix = suffix.get(dot + 1..)?;
        }
    }

    /// The entity with this id.
    pub fn entity(&self, id: &str) -> Option<&Entity> {
        self.by_id.get(id).and_then(|&i| self.entities.get(i))
    }

    /// The top of `id`'s parent chain (the entity itself when it has no parent).
    pub fn top_parent(&self, id: &str) -> Option<&Entity> {
        let index = *self.by_id.get(id)?;
        self.roots.get(index).and_then(|&r| self.entities.get(r))
    }

    /// Whether `org_id` is the same party as `vendor_id`: both ids are known and their parent chains
    /// end at the same entity. This covers the vendor itself, its parent and grand-parents, its
    /// children, and siblings under a common parent (OnePlus, realme and OPPO are one party).
    /// Unknown ids are never the same party.
    pub fn is_same_party(&self, vendor_id: &str, org_id: &str) -> bool {
        match (self.by_id.get(vendor_id), self.by_id.get(org_id)) {
            (Some(&vendor), Some(&org)) => self.roots.get(vendor) == self.roots.get(org),
            _ => false,
        }
    }

    /// All entities, in file order (overlay additions last).
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// Number of entities.
    pub fn len(&self) -> usize {
        self.entities.len()
    }

    /// Whether there are no entities.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// Number of domain rules over all entities.
    pub fn domain_count(&self) -> usize {
        self.entities.iter().map(|e| e.domains.len()).sum()
    }

    /// The shared hosting suffixes, in file order.
    pub fn shared_hosting_suffixes(&self) -> impl Iterator<Item = &str> + '_ {
        self.shared.iter().map(|s| s.suffix.as_str())
    }

    /// Evidence for the shared hosting list.
    pub fn shared_hosting_sources(&self) -> &[String] {
        &self.shared_sources
    }

    fn org_match<'a>(&'a self, index: usize, rule: &'a str) -> OrgMatch<'a> {
        let e = &self.entities[index];
        let parent = self
            .parents
            .get(index)
            .copied()
            .flatten()
            .and_then(|p| self.entities.get(p))
            .map(|p| ParentOrg {
                id: &p.id,
                name: &p.name,
                country: &p.country,
            });
        OrgMatch {
            id: &e.id,
            name: &e.name,
            country: &e.country,
            incorporated: e.incorporated.as_deref(),
            kind: e.kind,
            parent,
            rule,
            rule_sources: e.domain_sources.get(rule).map_or(&[], Vec::as_slice),
            sources: &e.sources,
        }
    }

    /// Checks what needs all entities at once (ids, domains, shared suffixes, parents, cycles) and
    /// builds the lookup tables.
    fn build(
        entities: Vec<Entity>,
        shared: Vec<SharedSuffix>,
        shared_sources: Vec<String>,
        links: ParentLinks,
    ) -> Result<EntityDb, EntityError> {
        let mut by_id: HashMap<String, usize> = HashMap::with_capacity(entities.len());
        for (index, e) in entities.iter().enumerate() {
            if let Some(&first) = by_id.get(&e.id) {
                let first = &entities[first];
                return Err(e.error(EntityErrorKind::DuplicateId {
                    first_origin: first.origin.clone(),
                    first_line: first.line,
                }));
            }
            by_id.insert(e.id.clone(), index);
        }
        let rule_count = entities.iter().map(|e| e.domains.len()).sum::<usize>() + shared.len();
        let mut rules: HashMap<String, Target> = HashMap::with_capacity(rule_count);
        for (index, e) in entities.iter().enumerate() {
            for domain in &e.domains {
                if let Some(Target::Entity(other)) =
                    rules.insert(domain.clone(), Target::Entity(index))
                {
                    return Err(e.error(EntityErrorKind::DuplicateDomain {
                        domain: domain.clone(),
                        other: entities[other].id.clone(),
                    }));
                }
            }
        }
        for s in &shared {
            match rules.insert(s.suffix.clone(), Target::SharedHosting) {
                None => {}
                Some(Target::Entity(owner)) => {
                    return Err(entities[owner].error(EntityErrorKind::SharedHostingDomain {
                        domain: s.suffix.clone(),
                    }))
                }
                Some(Target::SharedHosting) => {
                    return Err(EntityError {
                        origin: s.origin.clone(),
                        line: Some(s.line),
                        entity: None,
                        kind: EntityErrorKind::DuplicateSharedSuffix {
                            suffix: s.suffix.clone(),
                        },
                    })
                }
            }
        }
        let mut parents = Vec::with_capacity(entities.len());
        for e in &entities {
            let parent = match &e.parent {
                None => None,
                Some(id) => match by_id.get(id) {
                    Some(&index) => Some(index),
                    None if links == ParentLinks::MayBeInBase => None,
                    None => {
                        return Err(e.error(EntityErrorKind::UnknownParent { parent: id.clone() }))
                    }
                },
            };
            parents.push(parent);
        }
        check_parent_cycles(&entities, &parents)?;
        let roots = (0..entities.len())
            .map(|mut top| {
                // Terminates: there are no cycles.
                while let Some(parent) = parents[top] {
                    top = parent;
                }
                top
            })
            .collect();
        Ok(EntityDb {
            entities,
            by_id,
            parents,
            roots,
            rules,
            shared,
            shared_sources,
        })
    }
}

/// Fails on the first parent chain that comes back to an entity already on it.
fn check_parent_cycles(entities: &[Entity], parents: &[Option<usize>]) -> Result<(), EntityError> {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Mark {
        Unseen,
        OnPath,
        Done,
    }
    let mut marks = vec![Mark::Unseen; entities.len()];
    let mut path = Vec::new();
    for start in 0..entities.len() {
        path.clear();
        let mut next = Some(start);
        while let Some(index) = next {
            match marks[index] {
                Mark::Done => break,
                Mark::OnPath => {
                    let from = path.iter().position(|&p| p == index).unwrap_or(0);
                    let cycle = path[from..]
                        .iter()
                        .map(|&p: &usize| entities[p].id.clone())
                        .collect();
                    return Err(entities[index].error(EntityErrorKind::ParentCycle { cycle }));
                }
                Mark::Unseen => {
                    marks[index] = Mark::OnPath;
                    path.push(index);
                    next = parents[index];
                }
            }
        }
        for &index in &path {
            marks[index] = Mark::Done;
        }
    }
    Ok(())
}
