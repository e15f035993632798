//! The OCSF writer: one API Activity (class_uid 6003) object per line, the original event
//! kept under `unmapped`.

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::{json_to, not_an_object};
use crate::event::field;
use crate::event::get_path;
use crate::time::parse_time_value;

/// The OCSF schema version the objects follow.
pub const OCSF_VERSION: &str = "1.1.0";

/// `activity_id` and `activity_name` of an action: CREATE 1, read-like 2, UPDATE 3,
/// DELETE 4, anything else 99 (Other).
pub fn activity(action: &str) -> (u8, &'static str) {
    match action.to_ascii_uppercase().as_str() {
        "CREATE" => (1, "Create"),
        "READ" | "VIEW" | "GET" | "LIST" | "DESCRIBE" | "SEARCH" | "ACCESS" | "DOWNLOAD"
        | "EXPORT" => (2, "Read"),
        "UPDATE" => (3, "Update"),
        "DELETE" => (4, "Delete"),
        _ => (99, "Other"),
    }
}

/// The OCSF object of one event.
pub fn to_ocsf(event: &Map<String, Value>) -> Value {
    let s = |path: &str| get_path(event, path).cloned();
    let action = get_path(event, field::ACTION)
        .and_then(Value::as_str)
        .unwrap_or("");
    let (activity_id, activity_name) = activity(action);
    let class_uid = 6003u32;
    let mut o = Map::new();
    o.insert("class_uid".into(), json!(class_uid));
    o.insert("class_name".into(), json!("API Activity"));
    o.insert("category_uid".into(), json!(6));
    o.insert("category_name".into(), json!("Application Activity"));
    o.insert("activity_id".into(), json!(activity_id));
    o.insert("activity_name".into(), json!(activity_name));
    o.insert(
        "type_uid".into(),
        json!(class_uid * 100 + u32::from(activity_id)),
    );
    o.insert(
        "type_name".into(),
        json!(format!("API Activity: {activity_name}")),
    );
    o.insert("severity_id".into(), json!(1));
    o.insert("severity".into(), json!("Informational"));
    if let Some(ms) = get_path(event, field::TIME).and_then(|t| parse_time_value(t).ok()) {
        o.insert("time".into(), json!(ms));
    }
    let mut user = Map::new();
    put(&mut user, "uid", s(field::PRINCIPAL_ID));
    put(&mut user, "email_addr", s(field::PRINCIPAL_EMAIL));
    put(&mut user, "type", s(field::PRINCIPAL_TYPE));
    o.insert("actor".into(), json!({ "user": user }));
    let mut api = Map::new();
    put(&mut api, "operation", s(field::ACTION));
    if let Some(module) = s(field::MODULE) {
        api.insert("service".into(), json!({ "name": module }));
    }
    o.insert("api".into(), Value::Object(api));
    let mut resource = Map::new();
    put(&mut resource, "type", s(field::RESOURCE_TYPE));
    put(&mut resource, "uid", s(field::RESOURCE_ID));
    o.insert("resources".into(), json!([resource]));
    if let Some(ip) = s(field::CLIENT_IP) {
        o.insert("src_endpoint".into(), json!({ "ip": ip }));
    }
    if let Some(method) = s(field::METHOD) {
        o.insert("http_request".into(), json!({ "http_method": method }));
    }
    let mut metadata = Map::new();
    put(&mut metadata, "uid", s(field::ID));
    metadata.insert(
        "product".into(),
        json!({"name": "Harness", "vendor_name": "Harness"}),
    );
    metadata.insert("version".into(), json!(OCSF_VERSION));
    o.insert("metadata".into(), Value::Object(metadata));
    if let Some(account) = s(field::ACCOUNT) {
        o.insert(
            "cloud".into(),
            json!({"provider": "Harness", "account": {"uid": account}}),
        );
    }
    o.insert("unmapped".into(), Value::Object(event.clone()));
    Value::Object(o)
}

fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        map.insert(key.into(), v);
    }
}

pub fn write(out: &mut dyn Write, event: &Value) -> io::Result<()> {
    let Value::Object(map) = event else {
        return Err(not_an_object());
    };
    json_to(out, &to_ocsf(map))?;
    out.write_all(b"\n")
}
