//! The known vocabulary of audit events (seed 000): modules, resource types and the
//! actions of each resource type. Used for warnings only, never errors: Harness adds
//! values over time and the list in the seed says it is not exhaustive.

use std::sync::OnceLock;

/// A module category of seed 000 with its resource types.
#[derive(Debug, Clone, Copy)]
pub struct Category {
    /// The category as seed 000 names it ("Platform Core").
    pub name: &'static str,
    /// The `auditModule` codes Harness uses for it ("CORE"); the name itself, in any
    /// case and with spaces or punctuation as `_`, is accepted too.
    pub codes: &'static [&'static str],
    /// Resource types; a trailing `*` matches any suffix.
    pub resource_types: &'static [&'static str],
}

/// A family of actions of seed 000 and the resource types it applies to.
#[derive(Debug, Clone, Copy)]
pub struct ActionFamily {
    pub name: &'static str,
    pub actions: &'static [&'static str],
    /// `None`: any resource type. `Some`: only these (a trailing `*` matches any suffix).
    pub resource_types: Option<&'static [&'static str]>,
}

/// The actions every resource type has.
pub const GENERIC_ACTIONS: &[&str] = &["CREATE", "UPDATE", "DELETE", "RESTORE", "MOVE"];

/// Access and identity resource types.
pub const IDENTITY_TYPES: &[&str] = &["USER", "ROLE", "SERVICE_ACCOUNT", "TOKEN"];

/// The actions of access and identity resources.
pub const IDENTITY_ACTIONS: &[&str] = &[
    "INVITE",
    "ADD_MEMBERSHIP",
    "REMOVE_MEMBERSHIP",
    "CREATE_TOKEN",
    "REVOKE_TOKEN",
    "DELETE_TOKEN",
];

/// Delegate resource types.
pub const DELEGATE_TYPES: &[&str] = &[
    "DELEGATE",
    "DELEGATE_GROUPS",
    "DELEGATE_CONFIGURATION",
    "DELEGATE_TOKEN",
];

/// Platform settings resource types.
pub const PLATFORM_SETTINGS_TYPES: &[&str] = &[
    "SETTING",
    "NG_LOGIN_SETTINGS",
    "NG_ACCOUNT_DETAILS",
    "SMTP",
    "IP_ALLOWLIST_CONFIG",
    "STREAMING_DESTINATION",
    "BRANDING_SETTINGS",
    "BRANDING_ASSET",
    "BANNER",
];

/// Chaos Engineering resource types.
pub const CHAOS_TYPES: &[&str] = &[
    "CHAOS_HUB",
    "CHAOS_INFRASTRUCTURE",
    "CHAOS_EXPERIMENT",
    "CHAOS_GAMEDAY",
    "CHAOS_PROBE",
    "CHAOS_SECURITY_GOVERNANCE",
    "CHAOS_IMAGE_REGISTRY",
];

/// Service Reliability Management resource types.
pub const SRM_TYPES: &[&str] = &[
    "MONITORED_SERVICE",
    "SERVICE_LEVEL_OBJECTIVE",
    "DOWNTIME",
    "NOTIFICATION_CHANNEL",
    "NOTIFICATION_RULE",
];

/// Security Testing Orchestration resource types.
pub const STO_TYPES: &[&str] = &["STO_TARGET", "STO_EXEMPTION", "STO_OVERRIDE", "TICKET"];

/// The module categories and resource types of seed 000.
pub const CATEGORIES: &[Category] = &[
    Category {
        name: "Platform Core",
        codes: &["CORE", "PLATFORM"],
        resource_types: &[
            "ORGANIZATION",
            "PROJECT",
            "USER",
            "USER_GROUP",
            "ROLE",
            "ROLE_ASSIGNMENT",
            "PERMISSION",
            "RESOURCE_GROUP",
            "SERVICE_ACCOUNT",
            "API_KEY",
            "TOKEN",
        ],
    },
    Category {
        name: "Secrets Management",
        codes: &[],
        resource_types: &["SECRET", "CERTIFICATE"],
    },
    Category {
        name: "Continuous Deployment",
        codes: &["CD", "CI", "PMS", "TEMPLATESERVICE", "DBOPS"],
        resource_types: &[
            "SERVICE",
            "ENVIRONMENT",
            "ENVIRONMENT_GROUP",
            "PIPELINE",
            "TRIGGER",
            "TEMPLATE",
            "INPUT_SET",
            "DEPLOYMENT_FREEZE",
            "DB_SCHEMA",
            "DB_INSTANCE",
        ],
    },
    Category {
        name: "Delegates",
        codes: &[],
        resource_types: DELEGATE_TYPES,
    },
    Category {
        name: "Connectors",
        codes: &[],
        resource_types: &["CONNECTOR"],
    },
    Category {
        name: "Dashboards",
        codes: &["DASHBOARDS"],
        resource_types: &["DASHBOARD", "DASHBOARD_FOLDER"],
    },
    Category {
        name: "Governance",
        codes: &["GOVERNANCE"],
        resource_types: &["GOVERNANCE_POLICY", "GOVERNANCE_POLICY_SET"],
    },
    Category {
        name: "File Store",
        codes: &[],
        resource_types: &["FILE", "VARIABLE"],
    },
    Category {
        name: "Platform Settings",
        codes: &[],
        resource_types: PLATFORM_SETTINGS_TYPES,
    },
    Category {
        name: "Chaos Engineering",
        codes: &["CHAOS"],
        resource_types: CHAOS_TYPES,
    },
    Category {
        name: "Service Reliability Management",
        codes: &["SRM", "CV"],
        resource_types: SRM_TYPES,
    },
    Category {
        name: "Security Testing Orchestration",
        codes: &["STO"],
        resource_types: STO_TYPES,
    },
    Category {
        name: "Cloud Cost Management",
        codes: &["CE", "CCM"],
        resource_types: &[
            "PERSPECTIVE",
            "PERSPECTIVE_BUDGET",
            "PERSPECTIVE_REPORT",
            "PERSPECTIVE_FOLDER",
            "COST_CATEGORY",
            "BUDGET_GROUP",
            "AUTOSTOPPING_RULE",
            "AUTOSTOPPING_LB",
            "AUTOSTOPPING_STARTSTOP",
            "COMMITMENT_ORCHESTRATOR_SETUP",
            "COMMITMENT_ACTIONS",
            "CLUSTER_ORCHESTRATOR_SETUP",
            "CLUSTER_ORCHESTRATOR_VPA_RULE",
            "CLUSTER_ACTIONS",
            "CCM_ANOMALY",
            "CCM_ANOMALY_ALERT",
            "CCM_RECOMMENDATION",
            "CCM_RECOMMENDATION_IGNORE_LIST",
            "CCM_RECOMMENDATION_SETTINGS",
            "CCM_RECOMMENDATION_TICKET_SYSTEM",
            "CLOUD_ASSET_GOVERNANCE_*",
        ],
    },
    Category {
        name: "Feature Management & Experimentation",
        codes: &["CF", "FME"],
        resource_types: &["FEATURE_FLAG", "FEATURE_FLAG_STALE_CONFIG", "TARGET_GROUP"],
    },
    Category {
        name: "GitOps",
        codes: &["GITOPS"],
        resource_types: &[
            "GITOPS_REPOSITORY",
            "GITOPS_CLUSTER",
            "GITOPS_CREDENTIAL_TEMPLATE",
            "GITOPS_REPOSITORY_CERTIFICATE",
            "GITOPS_GNUPG_KEY",
            "GITOPS_AGENT",
            "GITOPS_PROJECT_MAPPING",
            "GITOPS_APPLICATION",
            "GITOPS_APPLICATION_SET",
        ],
    },
    Category {
        name: "Code Repository",
        codes: &["CODE"],
        resource_types: &[
            "CODE_REPOSITORY",
            "CODE_BRANCH_RULE",
            "CODE_PUSH_RULE",
            "CODE_TAG_RULE",
            "CODE_BRANCH",
            "CODE_TAG",
            "CODE_REPOSITORY_SETTINGS",
            "CODE_WEBHOOK",
        ],
    },
    Category {
        name: "Internal Developer Portal",
        codes: &["IDP"],
        resource_types: &[
            "IDP_APP_CONFIGS",
            "IDP_CONFIG_ENV_VARIABLES",
            "IDP_PROXY_HOST",
            "IDP_SCORECARDS",
            "IDP_CHECKS",
            "IDP_ALLOW_LIST",
            "IDP_OAUTH_CONFIG",
            "IDP_CATALOG_CONNECTOR",
            "IDP_BACKSTAGE_CATALOG_ENTITY",
            "IDP_BACKSTAGE_SCAFFOLDER_TASK",
            "IDP_LAYOUT",
            "IDP_HOMEPAGE_LAYOUT",
            "IDP_PERMISSIONS",
            "IDP_PLUGINS",
            "IDP_CATALOG_*",
            "IDP_GIT_INTEGRATIONS",
            "IDP_GROUPS",
            "IDP_WORKFLOW",
            "IDP_ENVIRONMENT",
            "IDP_ENVIRONMENT_BLUEPRINT",
            "IDP_AGGREGATION_RULE",
        ],
    },
    Category {
        name: "Software Engineering Insights",
        codes: &["SEI"],
        resource_types: &[
            "SEI_CONFIGURATION_SETTINGS",
            "SEI_COLLECTIONS",
            "SEI_INSIGHTS",
            "SEI_PANORAMA",
        ],
    },
    Category {
        name: "Software Supply Chain Assurance",
        codes: &["SSCA"],
        resource_types: &["SSCA_ARTIFACT", "SSCA_COMPLIANCE", "SSCA_COMPONENTS"],
    },
    Category {
        name: "Infrastructure as Code Manager",
        codes: &["IACM"],
        resource_types: &["WORKSPACE", "IAC_MODULE"],
    },
    Category {
        name: "Continuous Error Tracking",
        codes: &["CET"],
        resource_types: &["CET_AGENT_TOKEN", "CET_CRITICAL_EVENT", "CET_SAVED_FILTER"],
    },
    Category {
        name: "Harness Artifact Registry",
        codes: &["HAR"],
        resource_types: &["ARTIFACT_REGISTRY", "ARTIFACT_REGISTRY_UPSTREAM_PROXY"],
    },
    Category {
        name: "Gitspaces",
        codes: &["CDE"],
        resource_types: &["CDE_GITSPACE", "CDE_INFRAPROVIDER"],
    },
    Category {
        name: "Other / System",
        codes: &[],
        resource_types: &[
            "MODULE_LICENSE",
            "EULA",
            "NETWORK_MAP",
            "SERVICE_DISCOVERY_AGENT",
            "APPLICATION_MAP",
            "DAEMON_SET",
            "RUNNER",
            "GITX_WEBHOOK",
            "RMG",
        ],
    },
];

/// Resource types seed 000 names outside the category table (pipeline stages).
const EXTRA_RESOURCE_TYPES: &[&str] = &["STAGE"];

const GIT_BACKED: &[&str] = &["GITOPS_*", "CODE_*", "WORKSPACE", "IAC_MODULE"];

/// The action families of seed 000 ("Resource type and supported actions").
pub const ACTION_FAMILIES: &[ActionFamily] = &[
    ActionFamily {
        name: "All Resources (Generic)",
        actions: GENERIC_ACTIONS,
        resource_types: None,
    },
    ActionFamily {
        name: "Access & Identity Resources",
        actions: IDENTITY_ACTIONS,
        resource_types: Some(IDENTITY_TYPES),
    },
    ActionFamily {
        name: "Platform Authentication",
        actions: &["LOGIN", "LOGIN2FA", "UNSUCCESSFUL_LOGIN"],
        resource_types: Some(&["USER", "SERVICE_ACCOUNT"]),
    },
    ActionFamily {
        name: "Pipeline Resources",
        actions: &[
            "START",
            "END",
            "STAGE_START",
            "STAGE_END",
            "PAUSE",
            "RESUME",
            "ABORT",
            "TIMEOUT",
            "RERUN",
        ],
        resource_types: Some(&["PIPELINE", "STAGE", "INPUT_SET"]),
    },
    ActionFamily {
        name: "Governance & Policy Resources",
        actions: &["ENABLED", "DISABLED", "BYPASS", "FREEZE_BYPASS"],
        resource_types: None,
    },
    ActionFamily {
        name: "Git-Backed Resources",
        actions: &[
            "SYNC_START",
            "SYNC_SUCCEEDED",
            "SYNC_FAILED",
            "MOVE_TO_GIT",
            "FORCE_PUSH",
        ],
        resource_types: Some(GIT_BACKED),
    },
    ActionFamily {
        name: "SLO & Reliability Resources",
        actions: &["ERROR_BUDGET_RESET"],
        resource_types: None,
    },
    ActionFamily {
        name: "Feature Management Resources",
        actions: &["ENABLED", "DISABLED"],
        resource_types: None,
    },
    ActionFamily {
        name: "Impersonation",
        actions: &["START_IMPERSONATION", "END_IMPERSONATION"],
        resource_types: None,
    },
    ActionFamily {
        name: "Tickets & Exceptions",
        actions: &["TICKET_CREATED", "TICKET_CREATE_FAILED", "DISMISS_ANOMALY"],
        resource_types: None,
    },
    ActionFamily {
        name: "System & Compliance Events",
        actions: &["SIGNED_EULA", "STABLE_VERSION_CHANGED", "EXPIRED"],
        resource_types: None,
    },
];

/// Whether `name` matches `pattern` (exact, or prefix when the pattern ends in `*`).
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

struct Index {
    /// Exact module codes and normalised category names, sorted.
    modules: Vec<String>,
    /// Exact resource types, sorted.
    types: Vec<&'static str>,
    /// Prefixes of wildcard resource types.
    type_prefixes: Vec<&'static str>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        // Kept sorted as they are built (a sort call would add two sort routines to
        // the WebAssembly package for a few hundred names read once).
        let mut modules: Vec<String> = Vec::new();
        let mut types: Vec<&str> = Vec::new();
        let mut type_prefixes = Vec::new();
        for c in CATEGORIES {
            for m in c
                .codes
                .iter()
                .map(|s| s.to_string())
                .chain([normalize(c.name)])
            {
                if let Err(i) = modules.binary_search(&m) {
                    modules.insert(i, m);
                }
            }
            for t in c.resource_types.iter().chain(EXTRA_RESOURCE_TYPES) {
                match t.strip_suffix('*') {
                    Some(p) => type_prefixes.push(p),
                    None => {
                        if let Err(i) = types.binary_search(t) {
                            types.insert(i, t);
                        }
                    }
                }
            }
        }
        Index {
            modules,
            types,
            type_prefixes,
        }
    })
}

/// Upper case, every run of other characters than letters and digits as one `_`.
fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_uppercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// Whether `auditModule` names a known module: a Harness module code (`CORE`, `CD`, `CI`,
/// `CE`, `CF`, `STO`, ...) or a category name of seed 000 in any case and spacing
/// (`Platform Core`, `PLATFORM_CORE`).
pub fn is_known_module(module: &str) -> bool {
    let idx = index();
    if idx
        .modules
        .binary_search_by(|m| m.as_str().cmp(module))
        .is_ok()
    {
        return true;
    }
    // Only long, non-canonical spellings pay for normalising.
    if module.len() > 64 {
        return false;
    }
    let n = normalize(module);
    idx.modules.binary_search(&n).is_ok()
}

/// Whether `auditResource.type` is a resource type of seed 000.
pub fn is_known_resource_type(resource_type: &str) -> bool {
    let idx = index();
    idx.types.binary_search(&resource_type).is_ok()
        || idx
            .type_prefixes
            .iter()
            .any(|p| resource_type.starts_with(p))
}

/// Whether `action` is an action of any family.
pub fn is_known_action(action: &str) -> bool {
    ACTION_FAMILIES.iter().any(|f| f.actions.contains(&action))
}

/// Whether `action` applies to `resource_type`. For an unknown resource type any known
/// action is accepted (the resource type gets its own warning).
pub fn is_action_of(action: &str, resource_type: &str) -> bool {
    action_applies(action, resource_type, is_known_resource_type(resource_type))
}

/// [`is_action_of`] when whether the resource type is known was found already.
pub(crate) fn action_applies(action: &str, resource_type: &str, known_type: bool) -> bool {
    ACTION_FAMILIES.iter().any(|f| {
        f.actions.contains(&action)
            && match f.resource_types {
                None => true,
                Some(types) => !known_type || types.iter().any(|p| matches(p, resource_type)),
            }
    })
}

/// The principal types formats.md names (`auditEventAuthor.principal.type`).
pub const PRINCIPAL_TYPES: &[&str] = &["USER", "SYSTEM", "SERVICE_ACCOUNT", "API_KEY"];

/// The vocabulary as plain lists (for completion in a query bar or a form): module codes,
/// resource types (prefix patterns left out), actions and principal types, each sorted
/// and without repeats.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Lists {
    pub modules: Vec<&'static str>,
    pub resource_types: Vec<&'static str>,
    pub actions: Vec<&'static str>,
    pub principal_types: Vec<&'static str>,
}

pub fn lists() -> Lists {
    fn sorted(mut v: Vec<&'static str>) -> Vec<&'static str> {
        v.sort_unstable();
        v.dedup();
        v
    }
    Lists {
        modules: sorted(
            CATEGORIES
                .iter()
                .flat_map(|c| c.codes.iter().copied())
                .collect(),
        ),
        resource_types: sorted(
            CATEGORIES
                .iter()
                .flat_map(|c| c.resource_types.iter().copied())
                .filter(|t| !t.ends_with('*'))
                .collect(),
        ),
        actions: sorted(
            ACTION_FAMILIES
                .iter()
                .flat_map(|f| f.actions.iter().copied())
                .collect(),
        ),
        principal_types: PRINCIPAL_TYPES.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules() {
        for m in ["CORE", "CD", "CI", "CE", "CF", "STO", "CHAOS", "PMS", "IDP"] {
            assert!(is_known_module(m), "{m}");
        }
        assert!(is_known_module("Platform Core"));
        assert!(is_known_module("PLATFORM_CORE"));
        assert!(is_known_module("platform-core"));
        assert!(is_known_module("Feature Management & Experimentation"));
        assert!(is_known_module("Other / System"));
        assert!(!is_known_module("NOPE"));
        assert!(!is_known_module(""));
        assert!(!is_known_module("string"));
    }

    #[test]
    fn resource_types() {
        assert!(is_known_resource_type("SECRET"));
        assert!(is_known_resource_type("IDP_CATALOG_ANYTHING"));
        assert!(is_known_resource_type("CLOUD_ASSET_GOVERNANCE_RULE"));
        assert!(is_known_resource_type("STAGE"));
        assert!(is_known_resource_type("RMG"));
        assert!(!is_known_resource_type("secret"));
        assert!(!is_known_resource_type("WIDGET"));
        // Every listed type is known.
        for c in CATEGORIES {
            for t in c.resource_types {
                assert!(is_known_resource_type(&t.replace('*', "X")), "{t}");
            }
        }
    }

    #[test]
    fn actions_per_resource_type() {
        assert!(is_action_of("CREATE", "SECRET"));
        assert!(is_action_of("LOGIN", "USER"));
        assert!(is_action_of("LOGIN2FA", "SERVICE_ACCOUNT"));
        assert!(!is_action_of("LOGIN", "SECRET"));
        assert!(is_action_of("START", "PIPELINE"));
        assert!(is_action_of("STAGE_END", "STAGE"));
        assert!(!is_action_of("START", "SECRET"));
        assert!(is_action_of("INVITE", "USER"));
        assert!(!is_action_of("INVITE", "PIPELINE"));
        assert!(is_action_of("SYNC_FAILED", "GITOPS_APPLICATION"));
        assert!(is_action_of("FORCE_PUSH", "CODE_BRANCH"));
        assert!(!is_action_of("FORCE_PUSH", "SECRET"));
        assert!(is_action_of("ENABLED", "FEATURE_FLAG"));
        assert!(is_action_of("SIGNED_EULA", "EULA"));
        // Unknown type: any known action.
        assert!(is_action_of("START", "WIDGET"));
        assert!(!is_action_of("FROBNICATE", "SECRET"));
        assert!(!is_known_action("FROBNICATE"));
    }
}
