//! The device profile: the phone's identifiers, read from TOML.

use crate::toml_tree::{line_of, TomlNode};
use crate::variants;
use std::fmt;
use toml::Spanned;

/// Keys of the `[device]` table that hold identifiers, with whether they are usually lists.
const DEVICE_VALUE_KEYS: [(&str, bool); 10] = [
    ("imei", true),
    ("serial", false),
    ("android_id", false),
    ("advertising_id", false),
    ("oaid", false),
    ("mac", true),
    ("phone_number", true),
    ("imsi", false),
    ("iccid", false),
    ("email", true),
];
/// Keys of the `[device]` table that describe the device.
const DEVICE_INFO_KEYS: [&str; 3] = ["name", "region", "vendor"];
/// Top-level keys.
const TOP_KEYS: [&str; 5] = ["device", "location", "contact", "sms", "custom"];
/// Keys of a `[[location]]` entry.
const LOCATION_KEYS: [&str; 3] = ["lat", "lon", "radius_m"];
/// Keys of a `[[contact]]` entry.
const CONTACT_KEYS: [&str; 2] = ["name", "phone"];
/// Keys of an `[[sms]]` entry.
const SMS_KEYS: [&str; 1] = ["text"];
/// Keys of a `[[custom]]` entry.
const CUSTOM_KEYS: [&str; 2] = ["kind", "value"];
/// Values shorter than this many characters get a warning: they match too easily.
pub const MIN_VALUE_LEN: usize = 4;

/// One identifier from the `[device]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileValue {
    /// The key it was listed under: `imei`, `serial`, `android_id`, `advertising_id`, `oaid`,
    /// `mac`, `phone_number`, `imsi`, `iccid`, `email`.
    pub kind: String,
    /// How findings name it: `imei #1` for list keys (`imei`, `mac`, `phone_number`, `email`) and
    /// for any key given several values, else the key alone (`serial`).
    pub label: String,
    /// The value as listed (trimmed).
    pub value: String,
}

/// A `[[location]]` entry: where the phone usually is (see [`crate::Detector`] for how
/// coordinates are matched).
#[derive(Clone, Debug, PartialEq)]
pub struct Location {
    /// Latitude in degrees, −90 to 90.
    pub lat: f64,
    /// Longitude in degrees, −180 to 180.
    pub lon: f64,
    /// How far from the point still counts, in metres, when given.
    pub radius_m: Option<f64>,
}

/// A `[[contact]]` entry from the phone's address book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    /// The contact's name, when given.
    pub name: Option<String>,
    /// The contact's phone numbers as listed.
    pub phones: Vec<String>,
}

/// An `[[sms]]` entry: a message stored on the phone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sms {
    /// The message text.
    pub text: String,
}

/// A `[[custom]]` entry: any other value to look for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomValue {
    /// Its kind, as findings report it (`wifi_ssid`).
    pub kind: String,
    /// The value as listed.
    pub value: String,
}

/// A device profile: the identifiers to look for in the phone's traffic.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    /// `[device] name`.
    pub name: Option<String>,
    /// `[device] region` (ISO 3166-1 alpha-2), used for national phone-number formats.
    pub region: Option<String>,
    /// `[device] vendor`: the entity id of the device's maker (`xiaomi`), for first or third party.
    pub vendor: Option<String>,
    /// The `[device]` identifiers, in the order listed.
    pub values: Vec<ProfileValue>,
    /// The `[[location]]` entries.
    pub locations: Vec<Location>,
    /// The `[[contact]]` entries.
    pub contacts: Vec<Contact>,
    /// The `[[sms]]` entries.
    pub sms: Vec<Sms>,
    /// The `[[custom]]` entries (a `value` list gives one entry per value).
    pub custom: Vec<CustomValue>,
}

/// Why a profile could not be read: the line and key when known, and the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileError {
    /// 1-based line in the profile text.
    pub line: Option<usize>,
    /// The key at fault.
    pub key: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, &self.key) {
            (Some(line), Some(key)) => write!(f, "line {line}, key `{key}`: {}", self.reason),
            (Some(line), None) => write!(f, "line {line}: {}", self.reason),
            (None, Some(key)) => write!(f, "key `{key}`: {}", self.reason),
            (None, None) => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for ProfileError {}

/// One value to look for, whatever table it came from: what [`crate::Detector`] is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// Finding kind.
    pub(crate) kind: String,
    /// Finding label.
    pub(crate) label: String,
    /// The value as listed.
    pub(crate) value: String,
    /// How its textual forms are made.
    pub(crate) shape: Shape,
}

/// How a value's textual forms are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Case variants only.
    Text,
    /// IMEI forms.
    Imei,
    /// MAC separators and case.
    Mac,
    /// UUID with and without dashes, case.
    Uuid,
    /// Phone-number formats.
    Phone,
    /// A person's name: case variants, and matched Unicode- and case-folded where the data is not
    /// plain ASCII.
    Name,
    /// An SMS text: as listed and with its whitespace collapsed, case variants, any run of
    /// [`crate::detector::MIN_SMS_PARTIAL_CHARS`] characters of it, and folded like a name.
    Sms,
}

impl Profile {
    /// Reads a profile from TOML; returns it with warnings (bad IMEI check digit, a MAC that is not
    /// one, unparseable phone numbers, very short values). Every key is optional.
    ///
    /// # Errors
    ///
    /// Malformed TOML, unknown keys (with a "did you mean" when one is close), and values of the
    /// wrong type, each naming the line and key.
    pub fn parse(text: &str) -> Result<(Profile, Vec<String>), ProfileError> {
        let root: TomlNode = toml::from_str(text).map_err(|e| ProfileError {
            line: e.span().map(|span| line_of(text, span.start)),
            key: None,
            reason: e.message().trim().to_string(),
        })?;
        let mut reader = ProfileReader {
            text,
            profile: Profile::default(),
            warnings: Vec::new(),
        };
        let TomlNode::Table(members) = root else {
            return Err(ProfileError {
                line: None,
                key: None,
                reason: "expected a table".into(),
            });
        };
        for (key, value) in &members {
            match key.as_str() {
                "device" => reader.device(value)?,
                "location" => {
                    for table in reader.tables(key, value)? {
                        reader.location(table)?;
                    }
                }
                "contact" => {
                    for table in reader.tables(key, value)? {
                        reader.contact(table)?;
                    }
                }
                "sms" => {
                    for table in reader.tables(key, value)? {
                        reader.sms(table)?;
                    }
                }
                "custom" => {
                    for table in reader.tables(key, value)? {
                        reader.custom(table)?;
                    }
                }
                _ => {
                    let mut err = reader.unknown_key(key, value, &TOP_KEYS);
                    if DEVICE_VALUE_KEYS.iter().any(|(k, _)| k == key)
                        || DEVICE_INFO_KEYS.contains(&key.as_str())
                    {
                        err.reason =
                            format!("unknown top-level key; `{key}` belongs in the [device] table");
                    }
                    return Err(err);
                }
            }
        }
        reader.check_values();
        Ok((reader.profile, reader.warnings))
    }

    /// Every value to look for, with its kind and label, in profile order.
    pub(crate) fn targets(&self) -> Vec<Target> {
        let mut targets = Vec::new();
        for v in &self.values {
            let shape = match v.kind.as_str() {
                "imei" => Shape::Imei,
                "mac" => Shape::Mac,
                "phone_number" => Shape::Phone,
                "advertising_id" | "oaid" => Shape::Uuid,
                _ => Shape::Text,
            };
            targets.push(Target {
                kind: v.kind.clone(),
                label: v.label.clone(),
                value: v.value.clone(),
                shape,
            });
        }
        for (i, contact) in self.contacts.iter().enumerate() {
            let label = match &contact.name {
                Some(name) => format!("contact {name:?}"),
                None => format!("contact #{}", i + 1),
            };
            if let Some(name) = &contact.name {
                targets.push(Target {
                    kind: "contact".into(),
                    label: label.clone(),
                    value: name.clone(),
                    shape: Shape::Name,
                });
            }
            for phone in &contact.phones {
                targets.push(Target {
                    kind: "contact".into(),
                    label: label.clone(),
                    value: phone.clone(),
                    shape: Shape::Phone,
                });
            }
        }
        for (i, sms) in self.sms.iter().enumerate() {
            targets.push(Target {
                kind: "sms".into(),
                label: format!("sms #{}", i + 1),
                value: sms.text.clone(),
                shape: Shape::Sms,
            });
        }
        let mut seen_kinds: Vec<(&str, usize)> = Vec::new();
        for custom in &self.custom {
            let n = match seen_kinds.iter_mut().find(|(k, _)| *k == custom.kind) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    seen_kinds.push((&custom.kind, 1));
                    1
                }
            };
            targets.push(Target {
                kind: custom.kind.clone(),
                label: format!("{} #{n}", custom.kind),
                value: custom.value.clone(),
                shape: Shape::Text,
            });
        }
        targets
    }
}

/// The state of one [`Profile::parse`].
struct ProfileReader<'t> {
    text: &'t str,
    profile: Profile,
    warnings: Vec<String>,
}

/// A table's members.
type Members = [(String, Spanned<TomlNode>)];

impl ProfileReader<'_> {
    fn line(&self, node: &Spanned<TomlNode>) -> usize {
        line_of(self.text, node.span().start)
    }

    fn error(
        &self,
        key: &str,
        node: &Spanned<TomlNode>,
        reason: impl Into<String>,
    ) -> ProfileError {
        ProfileError {
            line: Some(self.line(node)),
            key: Some(key.to_string()),
            reason: reason.into(),
        }
    }

    fn warn(&mut self, key: &str, node: &Spanned<TomlNode>, reason: impl fmt::Display) {
        let line = self.line(node);
        self.warnings
            .push(format!("line {line}, key `{key}`: {reason}"));
    }

    fn unknown_key(&self, key: &str, node: &Spanned<TomlNode>, known: &[&str]) -> ProfileError {
        let reason = match closest(key, known) {
            Some(near) => format!("unknown key; did you mean `{near}`?"),
            None => format!("unknown key; expected one of {}", known.join(", ")),
        };
        self.error(key, node, reason)
    }

    /// The tables of an array of tables (or a single table).
    fn tables<'n>(
        &self,
        key: &str,
        node: &'n Spanned<TomlNode>,
    ) -> Result<Vec<&'n Spanned<TomlNode>>, ProfileError> {
        match node.get_ref() {
            TomlNode::Table(_) => Ok(vec![node]),
            TomlNode::Array(items)
                if items
                    .iter()
                    .all(|i| matches!(i.get_ref(), TomlNode::Table(_))) =>
            {
                Ok(items.iter().collect())
            }
            other => Err(self.error(
                key,
                node,
                format!("expected [[{key}]] tables, found {}", other.type_name()),
            )),
        }
    }

    fn members<'n>(
        &self,
        key: &str,
        node: &'n Spanned<TomlNode>,
    ) -> Result<&'n Members, ProfileError> {
        match node.get_ref() {
            TomlNode::Table(members) => Ok(members),
            other => Err(self.error(
                key,
                node,
                format!("expected a table, found {}", other.type_name()),
            )),
        }
    }

    /// A string (integers are accepted as their digits).
    fn string(&self, key: &str, node: &Spanned<TomlNode>) -> Result<String, ProfileError> {
        match node.get_ref() {
            TomlNode::Str(s) => Ok(s.trim().to_string()),
            TomlNode::Int(i) => Ok(i.to_string()),
            other => Err(self.error(
                key,
                node,
                format!("expected a string, found {}", other.type_name()),
            )),
        }
    }

    /// A string or a list of strings (integers are accepted as their digits); empty values are
    /// dropped with a warning, and `check` may warn about each value (at its own line).
    fn strings(
        &mut self,
        key: &str,
        node: &Spanned<TomlNode>,
        check: impl Fn(&str) -> Option<String>,
    ) -> Result<Vec<String>, ProfileError> {
        let items: Vec<&Spanned<TomlNode>> = match node.get_ref() {
            TomlNode::Array(items) => items.iter().collect(),
            _ => vec![node],
        };
        let mut out = Vec::new();
        for item in items {
            let value = match item.get_ref() {
                TomlNode::Str(s) => s.trim().to_string(),
                TomlNode::Int(i) => i.to_string(),
                _ => return Err(self.error(key, item, "expected a string or a list of strings")),
            };
            if value.is_empty() {
                self.warn(key, item, "empty value ignored");
                continue;
            }
            if value.chars().count() < MIN_VALUE_LEN {
                self.warn(
                    key,
                    item,
                    format_args!("`{value}` is very short and may match by chance"),
                );
            }
            if let Some(problem) = check(&value) {
                self.warn(key, item, problem);
            }
            out.push(value);
        }
        Ok(out)
    }

    /// A number (integer or float).
    fn number(&self, key: &str, node: &Spanned<TomlNode>) -> Result<f64, ProfileError> {
        match node.get_ref() {
            TomlNode::Float(f) if f.is_finite() => Ok(*f),
            // Coordinates and radii are far below 2^53: the conversion is exact.
            TomlNode::Int(i) => Ok(*i as f64),
            other => Err(self.error(
                key,
                node,
                format!("expected a number, found {}", other.type_name()),
            )),
        }
    }

    fn device(&mut self, node: &Spanned<TomlNode>) -> Result<(), ProfileError> {
        for (key, value) in self.members("device", node)? {
            match key.as_str() {
                "name" => self.profile.name = Some(self.string(key, value)?),
                "vendor" => {
                    let vendor = self.string(key, value)?.trim().to_ascii_lowercase();
                    self.profile.vendor = Some(vendor);
                }
                "region" => {
                    let region = self.string(key, value)?;
                    if variants::region_id(&region).is_none() {
                        self.warn(key, value, format_args!("unknown region `{region}`; national phone formats need a known ISO 3166 code"));
                    }
                    self.profile.region = Some(region);
                }
                _ => {
                    let Some((kind, is_list)) = DEVICE_VALUE_KEYS.iter().find(|(k, _)| k == key)
                    else {
                        let known: Vec<&str> = DEVICE_VALUE_KEYS
                            .iter()
                            .map(|(k, _)| *k)
                            .chain(DEVICE_INFO_KEYS)
                            .collect();
                        return Err(self.unknown_key(key, value, &known));
                    };
                    let check = |v: &str| match *kind {
                        "imei" => variants::imei_problem(v),
                        "mac" => variants::parse_mac(v)
                            .is_none()
                            .then(|| format!("`{v}` is not a MAC address")),
                        _ => None,
                    };
                    let values = self.strings(key, value, check)?;
                    let numbered = *is_list || values.len() > 1;
                    for (i, v) in values.into_iter().enumerate() {
                        let label = if numbered {
                            format!("{kind} #{}", i + 1)
                        } else {
                            kind.to_string()
                        };
                        self.profile.values.push(ProfileValue {
                            kind: kind.to_string(),
                            label,
                            value: v,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    fn location(&mut self, node: &Spanned<TomlNode>) -> Result<(), ProfileError> {
        let (mut lat, mut lon, mut radius_m) = (None, None, None);
        for (key, value) in self.members("location", node)? {
            match key.as_str() {
                "lat" => {
                    let v = self.number(key, value)?;
                    if !(-90.0..=90.0).contains(&v) {
                        return Err(self.error(key, value, "latitude must be between -90 and 90"));
                    }
                    lat = Some(v);
                }
                "lon" => {
                    let v = self.number(key, value)?;
                    if !(-180.0..=180.0).contains(&v) {
                        return Err(self.error(
                            key,
                            value,
                            "longitude must be between -180 and 180",
                        ));
                    }
                    lon = Some(v);
                }
                "radius_m" => {
                    let v = self.number(key, value)?;
                    if v < 0.0 {
                        return Err(self.error(key, value, "radius must not be negative"));
                    }
                    radius_m = Some(v);
                }
                _ => return Err(self.unknown_key(key, value, &LOCATION_KEYS)),
            }
        }
        match (lat, lon) {
            (Some(lat), Some(lon)) => {
                self.profile.locations.push(Location { lat, lon, radius_m });
                Ok(())
            }
            (None, _) => Err(self.error("lat", node, "a [[location]] needs lat and lon")),
            (_, None) => Err(self.error("lon", node, "a [[location]] needs lat and lon")),
        }
    }

    fn contact(&mut self, node: &Spanned<TomlNode>) -> Result<(), ProfileError> {
        let mut contact = Contact {
            name: None,
            phones: Vec::new(),
        };
        for (key, value) in self.members("contact", node)? {
            match key.as_str() {
                "name" => contact.name = Some(self.string(key, value)?).filter(|n| !n.is_empty()),
                "phone" => contact.phones = self.strings(key, value, |_| None)?,
                _ => return Err(self.unknown_key(key, value, &CONTACT_KEYS)),
            }
        }
        if contact.name.is_none() && contact.phones.is_empty() {
            self.warn(
                "contact",
                node,
                "a [[contact]] with neither name nor phone is ignored",
            );
        } else {
            self.profile.contacts.push(contact);
        }
        Ok(())
    }

    fn sms(&mut self, node: &Spanned<TomlNode>) -> Result<(), ProfileError> {
        let mut texts = Vec::new();
        for (key, value) in self.members("sms", node)? {
            match key.as_str() {
                "text" => texts = self.strings(key, value, |_| None)?,
                _ => return Err(self.unknown_key(key, value, &SMS_KEYS)),
            }
        }
        if texts.is_empty() {
            return Err(self.error("text", node, "an [[sms]] needs a text"));
        }
        self.profile
            .sms
            .extend(texts.into_iter().map(|text| Sms { text }));
        Ok(())
    }

    fn custom(&mut self, node: &Spanned<TomlNode>) -> Result<(), ProfileError> {
        let (mut kind, mut values) = (None, Vec::new());
        for (key, value) in self.members("custom", node)? {
            match key.as_str() {
                "kind" => {
                    let k = self.string(key, value)?;
                    if k.is_empty()
                        || !k
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    {
                        return Err(self.error(
                            key,
                            value,
                            "a kind is a non-empty word of letters, digits, `_` and `-`",
                        ));
                    }
                    kind = Some(k);
                }
                "value" => values = self.strings(key, value, |_| None)?,
                _ => return Err(self.unknown_key(key, value, &CUSTOM_KEYS)),
            }
        }
        let Some(kind) = kind else {
            return Err(self.error("kind", node, "a [[custom]] entry needs a kind"));
        };
        if values.is_empty() {
            return Err(self.error("value", node, "a [[custom]] entry needs a value"));
        }
        self.profile
            .custom
            .extend(values.into_iter().map(|value| CustomValue {
                kind: kind.clone(),
                value,
            }));
        Ok(())
    }

    /// Warnings that need the whole profile: phone numbers that cannot be formatted.
    fn check_values(&mut self) {
        let region = self.profile.region.as_deref().and_then(variants::region_id);
        let phones = self
            .profile
            .values
            .iter()
            .filter(|v| v.kind == "phone_number")
            .map(|v| (v.label.clone(), v.value.clone()))
            .chain(self.profile.contacts.iter().flat_map(|c| {
                let label = c
                    .name
                    .as_ref()
                    .map_or_else(|| "contact".to_string(), |n| format!("contact {n:?}"));
                c.phones.iter().map(move |p| (label.clone(), p.clone()))
            }))
            .collect::<Vec<_>>();
        for (label, phone) in phones {
            if let (_, Some(problem)) = variants::phone(&phone, region) {
                self.warnings.push(format!("{label}: {problem}"));
            }
        }
    }
}

/// The known key closest to `key` by edit distance, when it is close enough to be a typo.
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let key = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3) && *d < k.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance between two short strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(0);
            let left = row.get(j).copied().unwrap_or(0);
            let cost = if ca == *cb { diagonal } else { diagonal + 1 };
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = cost.min(above + 1).min(left + 1);
            }
            diagonal = above;
        }
    }
    row.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests;
