//! Deterministic, realistic sample audit events (the CLI's `gen`, tests and benchmarks).
//!
//! The same options give the same bytes on every platform: the generator uses its own
//! splitmix64 PRNG and never reads the clock. Events cover the module, resource type and
//! action families of seed 000 (every pair it writes is in the vocabulary), logins,
//! `USER`/`SYSTEM`/`SERVICE_ACCOUNT`/`API_KEY` principals, emails, events without org or
//! project, IPv4 and IPv6 client addresses, nested metadata, non-ASCII text and all three
//! time forms (number, digit string, RFC 3339 with offsets). Times rise through the range.

use std::io::Write;

use serde_json::Value;

use crate::schema::vocabulary::{self, GENERIC_ACTIONS};

/// Default start of the time range: 2026-11-01T00:00:00Z.
pub const DEFAULT_FROM_MS: i64 = 1_793_491_200_000;
/// Default end of the time range (exclusive): 2026-11-08T00:00:00Z, one week later.
pub const DEFAULT_TO_MS: i64 = DEFAULT_FROM_MS + 7 * 86_400_000;
/// Default accounts.
pub const DEFAULT_ACCOUNTS: &[&str] = &["kmpySmUISimoRrJL6NL73w", "acme_prod"];

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleOptions {
    pub seed: u64,
    /// How many events; times spread evenly over `[from_ms, to_ms)`.
    pub count: u64,
    /// `auditResourceScope.accountIdentifier` values, picked at random.
    pub accounts: Vec<String>,
    pub from_ms: i64,
    pub to_ms: i64,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            seed: 1,
            count: 1000,
            accounts: DEFAULT_ACCOUNTS.iter().map(|s| s.to_string()).collect(),
            from_ms: DEFAULT_FROM_MS,
            to_ms: DEFAULT_TO_MS,
        }
    }
}

/// splitmix64: tiny, fast and good enough for sample data.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() >> 32) * n) >> 32
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const LOGINS: &[&str] = &["LOGIN", "LOGIN", "LOGIN", "LOGIN2FA", "UNSUCCESSFUL_LOGIN"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Normal,
    Login,
    Pipeline,
    System,
}

struct Family {
    module: &'static str,
    types: &'static [&'static str],
    /// Extra actions beside the generic ones.
    actions: &'static [&'static str],
    generic: bool,
    weight: u32,
    kind: Kind,
    /// Account-level resources: usually no org or project.
    account_scope: bool,
}

const fn fam(
    module: &'static str,
    types: &'static [&'static str],
    actions: &'static [&'static str],
    weight: u32,
) -> Family {
    Family {
        module,
        types,
        actions,
        generic: true,
        weight,
        kind: Kind::Normal,
        account_scope: false,
    }
}

const FAMILIES: &[Family] = &[
    Family {
        generic: false,
        kind: Kind::Login,
        account_scope: true,
        ..fam("CORE", &["USER"], LOGINS, 14)
    },
    Family {
        account_scope: true,
        ..fam(
            "CORE",
            vocabulary::IDENTITY_TYPES,
            vocabulary::IDENTITY_ACTIONS,
            8,
        )
    },
    fam(
        "CORE",
        &[
            "ORGANIZATION",
            "PROJECT",
            "USER_GROUP",
            "ROLE_ASSIGNMENT",
            "RESOURCE_GROUP",
            "API_KEY",
            "PERMISSION",
        ],
        &[],
        6,
    ),
    fam("CORE", &["SECRET", "CERTIFICATE"], &[], 6),
    Family {
        kind: Kind::Pipeline,
        ..fam(
            "PMS",
            &["PIPELINE", "INPUT_SET"],
            &[
                "START", "END", "PAUSE", "RESUME", "ABORT", "TIMEOUT", "RERUN", "START", "END",
            ],
            12,
        )
    },
    Family {
        generic: false,
        kind: Kind::Pipeline,
        ..fam("PMS", &["STAGE"], &["STAGE_START", "STAGE_END"], 4)
    },
    fam(
        "CD",
        &[
            "SERVICE",
            "ENVIRONMENT",
            "ENVIRONMENT_GROUP",
            "TRIGGER",
            "DB_SCHEMA",
            "DB_INSTANCE",
        ],
        &[],
        6,
    ),
    fam("TEMPLATESERVICE", &["TEMPLATE"], &[], 2),
    fam(
        "CD",
        &["DEPLOYMENT_FREEZE"],
        &["ENABLED", "DISABLED", "FREEZE_BYPASS"],
        2,
    ),
    Family {
        account_scope: true,
        ..fam("CORE", vocabulary::DELEGATE_TYPES, &[], 3)
    },
    fam("CORE", &["CONNECTOR"], &[], 4),
    fam("DASHBOARDS", &["DASHBOARD", "DASHBOARD_FOLDER"], &[], 1),
    fam(
        "GOVERNANCE",
        &["GOVERNANCE_POLICY", "GOVERNANCE_POLICY_SET"],
        &["ENABLED", "DISABLED", "BYPASS"],
        2,
    ),
    fam("CORE", &["FILE", "VARIABLE"], &[], 2),
    Family {
        generic: false,
        account_scope: true,
        ..fam(
            "CORE",
            vocabulary::PLATFORM_SETTINGS_TYPES,
            &["CREATE", "UPDATE", "UPDATE", "DELETE"],
            2,
        )
    },
    fam("CHAOS", vocabulary::CHAOS_TYPES, &[], 2),
    fam("SRM", vocabulary::SRM_TYPES, &["ERROR_BUDGET_RESET"], 2),
    fam(
        "STO",
        vocabulary::STO_TYPES,
        &["TICKET_CREATED", "TICKET_CREATE_FAILED"],
        2,
    ),
    fam(
        "CE",
        &[
            "PERSPECTIVE",
            "PERSPECTIVE_BUDGET",
            "PERSPECTIVE_REPORT",
            "COST_CATEGORY",
            "BUDGET_GROUP",
            "AUTOSTOPPING_RULE",
            "CCM_ANOMALY",
            "CCM_RECOMMENDATION",
            "CLOUD_ASSET_GOVERNANCE_RULE",
        ],
        &["DISMISS_ANOMALY"],
        2,
    ),
    fam(
        "CF",
        &["FEATURE_FLAG", "FEATURE_FLAG_STALE_CONFIG", "TARGET_GROUP"],
        &["ENABLED", "DISABLED", "ENABLED", "DISABLED"],
        4,
    ),
    fam(
        "GITOPS",
        &[
            "GITOPS_APPLICATION",
            "GITOPS_CLUSTER",
            "GITOPS_REPOSITORY",
            "GITOPS_AGENT",
            "GITOPS_APPLICATION_SET",
        ],
        &["SYNC_START", "SYNC_SUCCEEDED", "SYNC_FAILED"],
        3,
    ),
    fam(
        "CODE",
        &[
            "CODE_REPOSITORY",
            "CODE_BRANCH",
            "CODE_TAG",
            "CODE_BRANCH_RULE",
            "CODE_PUSH_RULE",
            "CODE_WEBHOOK",
        ],
        &["FORCE_PUSH", "MOVE_TO_GIT"],
        2,
    ),
    fam(
        "IACM",
        &["WORKSPACE", "IAC_MODULE"],
        &["SYNC_START", "SYNC_SUCCEEDED"],
        1,
    ),
    fam(
        "IDP",
        &[
            "IDP_SCORECARDS",
            "IDP_WORKFLOW",
            "IDP_PLUGINS",
            "IDP_CATALOG_ENTITIES",
            "IDP_LAYOUT",
        ],
        &[],
        1,
    ),
    fam("SEI", &["SEI_COLLECTIONS", "SEI_INSIGHTS"], &[], 1),
    fam("SSCA", &["SSCA_ARTIFACT", "SSCA_COMPLIANCE"], &[], 1),
    fam("CET", &["CET_AGENT_TOKEN", "CET_SAVED_FILTER"], &[], 1),
    fam(
        "HAR",
        &["ARTIFACT_REGISTRY", "ARTIFACT_REGISTRY_UPSTREAM_PROXY"],
        &[],
        1,
    ),
    fam("CDE", &["CDE_GITSPACE", "CDE_INFRAPROVIDER"], &[], 1),
    Family {
        generic: false,
        ..fam(
            "CORE",
            &["USER"],
            &["START_IMPERSONATION", "END_IMPERSONATION"],
            1,
        )
    },
    Family {
        generic: false,
        kind: Kind::System,
        account_scope: true,
        ..fam(
            "CORE",
            &["EULA", "MODULE_LICENSE", "DELEGATE"],
            &["SIGNED_EULA", "EXPIRED", "STABLE_VERSION_CHANGED"],
            2,
        )
    },
    fam(
        "CORE",
        &[
            "NETWORK_MAP",
            "SERVICE_DISCOVERY_AGENT",
            "RUNNER",
            "GITX_WEBHOOK",
        ],
        &[],
        1,
    ),
];

/// (identifier, email)
const USERS: &[(&str, &str)] = &[
    ("alice", "alice@example.com"),
    ("bob.smith", "bob.smith@example.com"),
    ("carol", "carol@acme.io"),
    ("dmitri.ivanov", "dmitri.ivanov@example.com"),
    ("zoë.lambert", "zoe.lambert@example.fr"),
    ("josé.garcía", "jose.garcia@example.es"),
    ("李雷", "li.lei@example.cn"),
    ("priya.sharma", "priya.sharma@example.in"),
    ("kwame.mensah", "kwame@example.gh"),
    ("ana.souza", "ana.souza@example.com.br"),
    ("søren.ødegaard", "soren@example.dk"),
    ("mohammed.ali", "m.ali@example.ae"),
];
const SERVICE_ACCOUNTS: &[&str] = &["sa_ci_bot", "sa_terraform", "sa_backup", "sa_release"];
const API_KEYS: &[&str] = &[
    "pat.kmpySmUISimoRrJL6NL73w.6566a1b2c3d4",
    "sat.kmpySmUISimoRrJL6NL73w.deploy_key",
    "pat.acme_prod.ops_token",
];
const ORGS: &[&str] = &["default", "payments", "platform", "data_science", "mobile"];
const PROJECTS: &[&str] = &[
    "checkout",
    "ledger",
    "api_gateway",
    "web",
    "ml_pipeline",
    "ios_app",
    "café_finder",
];
const WORDS: &[&str] = &[
    "prod", "staging", "dev", "eu", "us", "api", "web", "db", "cache", "billing", "search", "auth",
    "café", "東京", "münchen", "naïve", "payments", "reports", "nightly",
];
const NOTES: &[&str] = &[
    "routine change",
    "déploiement réussi ✓",
    "ロールバック済み",
    "rotated after incident #4521",
    "approved by change board 🚀",
    "quoted \"value\" and back\\slash",
];
const TAGS: &[&str] = &["prod", "eu", "pci", "critical", "team-α", "batch"];
const OFFSETS_MIN: &[i32] = &[0, 0, 120, -300, 330, 540, -480, 60];

/// Writes sample events, one at a time, deterministic for the options.
pub struct Sampler {
    opts: SampleOptions,
    rng: Rng,
    i: u64,
    seed_tag: u16,
    total_weight: u32,
}

impl Sampler {
    pub fn new(mut opts: SampleOptions) -> Self {
        if opts.accounts.is_empty() {
            opts.accounts = DEFAULT_ACCOUNTS.iter().map(|s| s.to_string()).collect();
        }
        if opts.to_ms < opts.from_ms {
            std::mem::swap(&mut opts.to_ms, &mut opts.from_ms);
        }
        let mut rng = Rng(opts.seed);
        let seed_tag = (rng.next() >> 48) as u16;
        Sampler {
            rng,
            i: 0,
            seed_tag,
            total_weight: FAMILIES.iter().map(|f| f.weight).sum(),
            opts,
        }
    }

    /// How many events are left.
    pub fn remaining(&self) -> u64 {
        self.opts.count.saturating_sub(self.i)
    }

    /// Appends the next event as one line of compact JSON ending in `\n`. Returns false
    /// (and writes nothing) once `count` events were written.
    pub fn write_next(&mut self, out: &mut Vec<u8>) -> bool {
        if self.i >= self.opts.count {
            return false;
        }
        self.write_event(out);
        self.i += 1;
        true
    }

    /// The next event as a JSON value.
    pub fn next_value(&mut self) -> Option<Value> {
        let mut line = Vec::with_capacity(700);
        if !self.write_next(&mut line) {
            return None;
        }
        serde_json::from_slice(&line).ok()
    }

    fn time_ms(&mut self) -> i64 {
        let from = self.opts.from_ms as i128;
        let span = (self.opts.to_ms as i128 - from).max(0);
        let count = self.opts.count.max(1) as i128;
        let base = from + span * self.i as i128 / count;
        let step = (span / count).max(1) as u64;
        (base + self.rng.below(step) as i128).min(self.opts.to_ms.max(self.opts.from_ms) as i128)
            as i64
    }

    fn family(&mut self) -> &'static Family {
        let mut r = self.rng.below(self.total_weight as u64) as u32;
        for f in FAMILIES {
            if r < f.weight {
                return f;
            }
            r -= f.weight;
        }
        &FAMILIES[0]
    }

    fn write_event(&mut self, out: &mut Vec<u8>) {
        let t = self.time_ms();
        let fam = self.family();
        let rtype = self.rng.pick(fam.types);
        let n_actions = fam.actions.len()
            + if fam.generic {
                GENERIC_ACTIONS.len()
            } else {
                0
            };
        let a = self.rng.below(n_actions as u64) as usize;
        let action = if fam.generic && a < GENERIC_ACTIONS.len() {
            GENERIC_ACTIONS[a]
        } else {
            fam.actions[a - if fam.generic {
                GENERIC_ACTIONS.len()
            } else {
                0
            }]
        };

        // auditEventId: 24 hex digits like a Mongo ObjectId, unique per counter.
        let secs = (t.div_euclid(1000)) as u32;
        let _ = write!(
            out,
            "{{\"auditEventId\":\"{secs:08x}{:04x}{:012x}\"",
            self.seed_tag,
            self.i & 0xFFFF_FFFF_FFFF
        );

        // Author.
        let ptype = match fam.kind {
            Kind::Login => "USER",
            Kind::System => "SYSTEM",
            Kind::Pipeline if self.rng.chance(35) => "SYSTEM",
            _ => match self.rng.below(100) {
                0..=71 => "USER",
                72..=83 => "SERVICE_ACCOUNT",
                84..=93 => "API_KEY",
                _ => "SYSTEM",
            },
        };
        out.extend_from_slice(b",\"auditEventAuthor\":{\"principal\":{\"type\":\"");
        out.extend_from_slice(ptype.as_bytes());
        out.extend_from_slice(b"\",\"identifier\":");
        match ptype {
            "USER" => {
                let (id, email) = self.rng.pick(USERS);
                push_str(out, id);
                if !self.rng.chance(8) {
                    out.extend_from_slice(b",\"email\":");
                    push_str(out, email);
                }
            }
            "SERVICE_ACCOUNT" => {
                let id = self.rng.pick(SERVICE_ACCOUNTS);
                push_str(out, id);
                if self.rng.chance(50) {
                    out.extend_from_slice(b",\"email\":\"");
                    out.extend_from_slice(id.as_bytes());
                    out.extend_from_slice(b"@service.harness.io\"");
                }
            }
            "API_KEY" => {
                let id = self.rng.pick(API_KEYS);
                push_str(out, id);
            }
            _ => out.extend_from_slice(b"\"SYSTEM\""),
        }
        out.extend_from_slice(b"}}");

        out.extend_from_slice(b",\"auditModule\":");
        push_str(out, fam.module);

        // Resource.
        out.extend_from_slice(b",\"auditResource\":{\"type\":");
        push_str(out, rtype);
        out.extend_from_slice(b",\"identifier\":\"");
        match fam.kind {
            Kind::Login => {
                let (id, _) = self.rng.pick(USERS);
                out.extend_from_slice(id.as_bytes());
            }
            _ => {
                for b in rtype.bytes() {
                    out.push(b.to_ascii_lowercase());
                }
                out.push(b'_');
                out.extend_from_slice(self.rng.pick(WORDS).as_bytes());
                let n = self.rng.below(40);
                let _ = write!(out, "_{n}");
            }
        }
        out.extend_from_slice(b"\"}");

        // Scope.
        out.extend_from_slice(b",\"auditResourceScope\":{\"accountIdentifier\":");
        let account_i = self.rng.below(self.opts.accounts.len() as u64) as usize;
        if let Some(acct) = self.opts.accounts.get(account_i) {
            push_str(out, acct);
        }
        let scope = if fam.account_scope {
            if self.rng.chance(80) {
                0
            } else {
                2
            }
        } else {
            match self.rng.below(100) {
                0..=9 => 0,
                10..=24 => 1,
                _ => 2,
            }
        };
        if scope >= 1 {
            out.extend_from_slice(b",\"orgIdentifier\":");
            push_str(out, self.rng.pick(ORGS));
        }
        if scope == 2 {
            out.extend_from_slice(b",\"projectIdentifier\":");
            push_str(out, self.rng.pick(PROJECTS));
        }
        out.push(b'}');

        out.extend_from_slice(b",\"auditAction\":");
        push_str(out, action);

        // HTTP request: most user actions have one, system ones rarely.
        let http = if ptype == "SYSTEM" {
            self.rng.chance(15)
        } else {
            self.rng.chance(92)
        };
        if http {
            let method = match action {
                "LOGIN" | "LOGIN2FA" | "UNSUCCESSFUL_LOGIN" | "CREATE" | "INVITE" => "POST",
                "UPDATE" | "MOVE" | "ENABLED" | "DISABLED" => {
                    if self.rng.chance(70) {
                        "PUT"
                    } else {
                        "PATCH"
                    }
                }
                "DELETE" | "DELETE_TOKEN" => "DELETE",
                _ => self.rng.pick(&["POST", "POST", "PUT", "GET"][..]),
            };
            out.extend_from_slice(b",\"auditHttpRequestInfo\":{\"requestMethod\":\"");
            out.extend_from_slice(method.as_bytes());
            out.extend_from_slice(b"\",\"clientIP\":\"");
            self.write_ip(out);
            out.extend_from_slice(b"\"}");
        }

        // Time in one of the three forms.
        out.extend_from_slice(b",\"auditEventTime\":");
        match self.rng.below(100) {
            0..=59 => {
                let _ = write!(out, "{t}");
            }
            60..=84 => {
                let _ = write!(out, "\"{t}\"");
            }
            _ => {
                let minutes = self.rng.pick(OFFSETS_MIN);
                self.write_rfc3339(out, t, minutes);
            }
        }

        // Metadata.
        match self.rng.below(100) {
            0..=29 => {}
            r => {
                let batch = self.rng.next();
                let _ = write!(
                    out,
                    ",\"auditEventMetadata\":{{\"batchId\":\"{batch:016x}\""
                );
                if r >= 70 {
                    let req = self.rng.next();
                    let _ = write!(
                        out,
                        ",\"requestId\":\"{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}\"",
                        req >> 32,
                        (req >> 16) & 0xFFFF,
                        req & 0xFFF,
                        (req >> 20) & 0xFFF,
                        req >> 16
                    );
                    let before = self.rng.below(10);
                    let after = before + 1 + self.rng.below(5);
                    let _ = write!(
                        out,
                        ",\"change\":{{\"field\":\"spec.replicas\",\"before\":{before},\"after\":{after},\"source\":{{\"kind\":\"yaml\",\"gitCommit\":null,\"dryRun\":{}}}}}",
                        self.rng.chance(10)
                    );
                    out.extend_from_slice(b",\"tags\":[");
                    let n = 1 + self.rng.below(3);
                    for k in 0..n {
                        if k > 0 {
                            out.push(b',');
                        }
                        push_str(out, self.rng.pick(TAGS));
                    }
                    out.extend_from_slice(b"],\"note\":");
                    push_str(out, self.rng.pick(NOTES));
                }
                out.push(b'}');
            }
        }
        out.extend_from_slice(b"}\n");
    }

    fn write_ip(&mut self, out: &mut Vec<u8>) {
        let r = self.rng.next();
        let b = |k: u32| ((r >> (8 * k)) & 0xFF) as u8;
        let w = |k: u32| ((r >> (16 * k)) & 0xFFFF) as u16;
        let _ = match r % 100 {
            0..=29 => write!(out, "203.0.113.{}", b(1)),
            30..=49 => write!(out, "10.{}.{}.{}", b(1), b(2), b(3)),
            50..=59 => write!(out, "192.168.{}.{}", b(1), b(2)),
            60..=74 => write!(out, "{}.{}.{}.{}", 1 + b(1) % 223, b(2), b(3), b(4)),
            75..=94 => write!(out, "2001:db8:{:x}::{:x}", w(1), w(2)),
            95..=97 => write!(
                out,
                "2a00:1450:4001:{:x}:{:x}:{:x}:{:x}:{:x}",
                w(1),
                w(2),
                w(3),
                w(0),
                w(1) ^ w(2)
            ),
            _ => write!(out, "::ffff:198.51.100.{}", b(1)),
        };
    }

    fn write_rfc3339(&self, out: &mut Vec<u8>, t: i64, minutes: i32) {
        match crate::time::format_with_offset(t, minutes) {
            Some(s) => {
                out.push(b'"');
                out.extend_from_slice(s.as_bytes());
                out.push(b'"');
            }
            None => {
                let _ = write!(out, "{t}");
            }
        }
    }
}

impl Iterator for Sampler {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        self.next_value()
    }
}

/// `count` events as NDJSON text.
pub fn ndjson(opts: SampleOptions) -> Vec<u8> {
    let mut out = Vec::with_capacity(opts.count.min(1 << 20) as usize * 600);
    let mut s = Sampler::new(opts);
    while s.write_next(&mut out) {}
    out
}

/// Appends `s` as a JSON string literal.
fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.extend_from_slice(s.as_bytes());
    } else {
        for ch in s.chars() {
            match ch {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::schema::{check_value, Options};

    fn opts(count: u64, seed: u64) -> SampleOptions {
        SampleOptions {
            seed,
            count,
            ..SampleOptions::default()
        }
    }

    #[test]
    fn deterministic_per_seed() {
        assert_eq!(ndjson(opts(200, 7)), ndjson(opts(200, 7)));
        assert_ne!(ndjson(opts(200, 7)), ndjson(opts(200, 8)));
        // A prefix of a longer run differs only in times (spread over the range), so
        // compare counts of lines only.
        assert_eq!(
            ndjson(opts(50, 7)).iter().filter(|b| **b == b'\n').count(),
            50
        );
    }

    #[test]
    fn events_are_valid_and_in_the_vocabulary() {
        let strict = Options {
            strict: true,
            vocabulary: true,
            ..Options::default()
        };
        let mut ids = HashSet::new();
        let mut last = i64::MIN;
        for v in Sampler::new(opts(5000, 3)) {
            let c = check_value(&v, &strict);
            assert!(c.errors.is_empty(), "{v}: {:?}", c.errors);
            assert!(c.warnings.is_empty(), "{v}: {:?}", c.warnings);
            let id = v["auditEventId"].as_str().unwrap().to_string();
            assert_eq!(id.len(), 24);
            assert!(ids.insert(id), "duplicate id");
            let t = crate::time::parse_time_value(&v["auditEventTime"]).unwrap();
            assert!((DEFAULT_FROM_MS..DEFAULT_TO_MS).contains(&t));
            assert!(t >= last, "times rise");
            last = t;
        }
    }

    #[test]
    fn covers_the_shapes() {
        let text = String::from_utf8(ndjson(opts(5000, 11))).unwrap();
        let values: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let has = |f: &dyn Fn(&Value) -> bool| values.iter().any(f);
        for p in ["USER", "SYSTEM", "SERVICE_ACCOUNT", "API_KEY"] {
            assert!(
                has(&|v| v["auditEventAuthor"]["principal"]["type"] == p),
                "{p}"
            );
        }
        for a in [
            "LOGIN",
            "LOGIN2FA",
            "UNSUCCESSFUL_LOGIN",
            "START",
            "SYNC_FAILED",
        ] {
            assert!(has(&|v| v["auditAction"] == a), "{a}");
        }
        assert!(has(
            &|v| v["auditEventAuthor"]["principal"]["email"].is_string()
        ));
        assert!(has(&|v| v["auditResourceScope"]
            .get("orgIdentifier")
            .is_none()));
        assert!(has(&|v| v["auditResourceScope"]
            .get("projectIdentifier")
            .is_none()
            && v["auditResourceScope"].get("orgIdentifier").is_some()));
        assert!(has(&|v| v["auditHttpRequestInfo"]["clientIP"]
            .as_str()
            .is_some_and(|s| s.contains(':'))));
        assert!(has(&|v| v["auditHttpRequestInfo"]["clientIP"]
            .as_str()
            .is_some_and(|s| s.contains('.') && !s.contains(':'))));
        assert!(has(&|v| v.get("auditHttpRequestInfo").is_none()));
        assert!(has(
            &|v| v["auditEventMetadata"]["change"]["source"].is_object()
        ));
        assert!(has(&|v| v["auditEventMetadata"]["batchId"].is_string()));
        assert!(has(&|v| v["auditEventTime"].is_number()));
        assert!(has(&|v| v["auditEventTime"]
            .as_str()
            .is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit()))));
        assert!(has(&|v| v["auditEventTime"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z'))));
        assert!(has(&|v| v["auditEventTime"]
            .as_str()
            .is_some_and(|s| s.ends_with("+05:30"))));
        assert!(!text.is_ascii(), "non-ASCII text");
        let modules: HashSet<&str> = values
            .iter()
            .filter_map(|v| v["auditModule"].as_str())
            .collect();
        assert!(modules.len() >= 15, "{modules:?}");
    }

    #[test]
    fn accounts_and_range() {
        let o = SampleOptions {
            seed: 5,
            count: 100,
            accounts: vec!["a\"1".into(), "b".into()],
            from_ms: crate::time::parse_date("2025-01-01").unwrap(),
            to_ms: crate::time::parse_date("2025-01-02").unwrap(),
        };
        for v in Sampler::new(o) {
            let a = v["auditResourceScope"]["accountIdentifier"]
                .as_str()
                .unwrap();
            assert!(a == "a\"1" || a == "b");
            let t = crate::time::parse_time_value(&v["auditEventTime"]).unwrap();
            assert!((1_735_689_600_000..=1_735_776_000_000).contains(&t));
        }
    }
}
