//! The field table of filter-language.md section 1: canonical paths, aliases and types.

/// The type of a field, which decides the values and operators it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Str,
    Time,
    Ip,
    /// `auditEventMetadata.*`: any JSON value.
    Any,
    /// The `user` pseudo field: principal identifier or email.
    User,
}

pub const USER: &str = "user";
use super::lex::is_field_char;
use crate::event::field;
pub use crate::event::field::{
    ACTION, METADATA, PRINCIPAL_EMAIL, PRINCIPAL_ID, PRINCIPAL_TYPE, TIME,
};

/// `auditEventMetadata.`: the prefix of every metadata path.
const METADATA_DOT: &str = "auditEventMetadata.";

/// Canonical path, aliases, type.
pub const FIELDS: &[(&str, &[&str], FieldType)] = &[
    (field::ID, &["id"], FieldType::Str),
    (TIME, &["time", "created"], FieldType::Time),
    (
        PRINCIPAL_TYPE,
        &["principal.type", "principalType"],
        FieldType::Str,
    ),
    (PRINCIPAL_ID, &["actor"], FieldType::Str),
    (PRINCIPAL_EMAIL, &["email"], FieldType::Str),
    (USER, &[], FieldType::User),
    (field::MODULE, &["module"], FieldType::Str),
    (
        field::RESOURCE_TYPE,
        &["resource.type", "resourceType", "type"],
        FieldType::Str,
    ),
    (
        field::RESOURCE_ID,
        &["resource.identifier", "resourceId"],
        FieldType::Str,
    ),
    (field::ACCOUNT, &["account"], FieldType::Str),
    (field::ORG, &["org", "organization"], FieldType::Str),
    (field::PROJECT, &["project"], FieldType::Str),
    (ACTION, &["action"], FieldType::Str),
    (field::METHOD, &["method"], FieldType::Str),
    (field::CLIENT_IP, &["ip", "clientIP"], FieldType::Ip),
];

/// Resolves a field name (case-insensitive, canonical or alias) to its canonical path and
/// type. Metadata paths keep the case of their keys: `metadata.batchId` becomes
/// `auditEventMetadata.batchId`.
pub fn resolve(name: &str) -> Option<(String, FieldType)> {
    for (path, aliases, ty) in FIELDS {
        if path.eq_ignore_ascii_case(name) || aliases.iter().any(|a| a.eq_ignore_ascii_case(name)) {
            return Some((path.to_string(), *ty));
        }
    }
    for prefix in ["metadata.", METADATA_DOT] {
        if name.len() > prefix.len()
            && name.is_char_boundary(prefix.len())
            && name[..prefix.len()].eq_ignore_ascii_case(prefix)
        {
            let rest = &name[prefix.len()..];
            if is_metadata_keys(rest) {
                return Some((format!("{METADATA}.{rest}"), FieldType::Any));
            }
        }
    }
    None
}

/// Whether `rest` (what follows `metadata.`) is dotted keys the text syntax can write: each
/// non-empty and made of field characters, so that every filter prints as text that parses
/// back (a Logpush key `auditEventMetadata.org-id` would print as `metadata.org-id`, which
/// reads as free text).
fn is_metadata_keys(rest: &str) -> bool {
    rest.split('.')
        .all(|k| !k.is_empty() && k.chars().all(|c| c != '.' && is_field_char(c)))
}

/// The type of a canonical path (as found in IR), or `None` if it is not canonical.
pub fn type_of_canonical(path: &str) -> Option<FieldType> {
    if let Some(rest) = path.strip_prefix(METADATA_DOT) {
        return is_metadata_keys(rest).then_some(FieldType::Any);
    }
    FIELDS
        .iter()
        .find(|(p, _, _)| *p == path)
        .map(|(_, _, t)| *t)
}

/// The one path whose value stands for field `name` when events are counted per value:
/// its canonical path, except that `user` (identifier or email) counts by the principal
/// identifier. `None` when `name` is not a field.
pub fn count_path(name: &str) -> Option<String> {
    resolve(name).map(|(path, ty)| match ty {
        FieldType::User => PRINCIPAL_ID.to_string(),
        _ => path,
    })
}

/// The shortest alias of a canonical path, for printing (`auditAction` prints as `action`).
pub fn short_name(path: &str) -> String {
    if let Some(rest) = path.strip_prefix(METADATA_DOT) {
        return format!("metadata.{rest}");
    }
    for (p, aliases, _) in FIELDS {
        if *p == path {
            return aliases.first().copied().unwrap_or(p).to_string();
        }
    }
    path.to_string()
}

/// The known field name closest to `name` (edit distance over lowercase names).
pub fn closest(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    let mut best = ("action", usize::MAX);
    let mut candidates: Vec<&'static str> = Vec::new();
    for (path, aliases, _) in FIELDS {
        candidates.push(path);
        candidates.extend(aliases.iter().copied());
    }
    candidates.push("metadata.");
    for cand in candidates {
        let d = distance(&lower, &cand.to_ascii_lowercase());
        if d < best.1 {
            best = (cand, d);
        }
    }
    best.0
}

/// Levenshtein distance, bounded in cost by the (limited) query length.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(64).collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = if ca == cb { 0 } else { 2 };
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// One name of the filter language for a field: its canonical path, aliases and type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Name {
    pub path: &'static str,
    pub aliases: &'static [&'static str],
    #[serde(rename = "type")]
    pub ty: &'static str,
}

/// Everything a form, a query bar or a table needs to know of the fields: the event's
/// fields (formats.md §1), the names the filter language gives them (with the `metadata.`
/// prefix for any metadata key) and the known vocabulary of values.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    pub fields: &'static [crate::event::Field],
    pub names: Vec<Name>,
    pub metadata_prefix: &'static str,
    pub vocabulary: crate::schema::vocabulary::Lists,
    /// The presets of `is:` (`is:login`).
    pub presets: Vec<&'static str>,
    /// The lists of the structured filter (a form's fields) and the field each
    /// constrains; the vocabulary's lists have the same keys.
    pub form_lists: Vec<FormList>,
    /// The fields a viewer's table holds by column ([`crate::columns::FIELDS`]).
    pub table_fields: &'static [&'static str],
}

/// A list of the structured filter and the field (a canonical path, or `user`) it
/// constrains.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FormList {
    pub key: &'static str,
    pub path: &'static str,
}

pub fn catalog() -> Catalog {
    let names = FIELDS
        .iter()
        .map(|(path, aliases, ty)| Name {
            path,
            aliases,
            ty: match ty {
                FieldType::Str => "string",
                FieldType::Time => "time",
                FieldType::Ip => "ip",
                FieldType::Any => "json",
                FieldType::User => "user",
            },
        })
        .collect();
    Catalog {
        fields: crate::event::FIELDS,
        names,
        metadata_prefix: "metadata.",
        vocabulary: crate::schema::vocabulary::lists(),
        presets: super::Preset::ALL.map(super::Preset::name).to_vec(),
        form_lists: super::structured::LISTS
            .iter()
            .map(|&(key, path)| FormList { key, path })
            .collect(),
        table_fields: &crate::columns::FIELDS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_case_insensitively() {
        assert_eq!(
            resolve("RESOURCETYPE").map(|r| r.0),
            Some("auditResource.type".into())
        );
        assert_eq!(resolve("Created").map(|r| r.1), Some(FieldType::Time));
        assert_eq!(
            resolve("Metadata.batchId").map(|r| r.0),
            Some("auditEventMetadata.batchId".into())
        );
        assert_eq!(resolve("metadata."), None);
        assert_eq!(closest("acton"), "action");
        assert_eq!(closest("resourcetyp"), "resourceType");
    }

    #[test]
    fn the_vocabulary_is_keyed_by_form_lists() {
        let c = catalog();
        let vocabulary = serde_json::to_value(&c.vocabulary).unwrap();
        for key in vocabulary.as_object().unwrap().keys() {
            assert!(c.form_lists.iter().any(|l| l.key == key), "{key}");
        }
        for l in &c.form_lists {
            assert!(
                l.path == USER || c.table_fields.contains(&l.path),
                "{}",
                l.path
            );
        }
    }

    #[test]
    fn count_paths_are_canonical_and_user_counts_the_identifier() {
        assert_eq!(count_path("action").as_deref(), Some(ACTION));
        assert_eq!(
            count_path("principal.type").as_deref(),
            Some(PRINCIPAL_TYPE)
        );
        assert_eq!(count_path("user").as_deref(), Some(PRINCIPAL_ID));
        assert_eq!(count_path("colour"), None);
    }
}
