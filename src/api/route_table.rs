//! Which methods each served path answers: read from the OpenAPI
//! document (every operation it lists is served) plus the few routes it
//! does not list. The default service ([`super::methods`]) answers 405 with
//! it; it lives apart so that the shared state can hold it without
//! reaching the handlers.

use actix_web::dev::ResourceDef;
use serde_json::Value;

/// HTTP methods an OpenAPI path item may hold, in the document's spelling.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Served routes outside the OpenAPI document, with their methods.
const UNLISTED: &[(&str, &str)] = &[
    ("/api/v1/openapi.json", "GET"),
    ("/metrics", "GET"),
    ("/shop/{id}", "GET"),
    ("/board/{id}", "GET"),
    ("/assets/{name}", "GET"),
];

/// Which methods each served path pattern answers.
#[derive(Debug, Default)]
pub struct MethodTable {
    routes: Vec<(ResourceDef, Vec<String>)>,
}

impl MethodTable {
    /// The table of an OpenAPI document's paths (plus [`UNLISTED`]).
    pub fn from_document(doc: &Value) -> Self {
        let mut routes: Vec<(ResourceDef, Vec<String>)> = Vec::new();
        if let Some(paths) = doc["paths"].as_object() {
            for (path, item) in paths {
                let methods = METHODS
                    .iter()
                    .filter(|m| item.get(**m).is_some())
                    .map(|m| m.to_ascii_uppercase())
                    .collect();
                routes.push((ResourceDef::new(path.as_str()), methods));
            }
        }
        for (path, method) in UNLISTED {
            routes.push((ResourceDef::new(*path), vec![(*method).to_owned()]));
        }
        Self { routes }
    }

    /// The methods served at `path` (every route matching it), sorted.
    pub fn allowed(&self, path: &str) -> Vec<String> {
        let mut methods: Vec<String> = self
            .routes
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        methods.sort();
        methods.dedup();
        methods
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_path_answers_the_union_of_its_operations() {
        let doc = json!({"paths": {
            "/api/v1/vat-rates/{id}": {"get": {}, "put": {}, "delete": {}},
            "/api/v1/producers": {"post": {}}
        }});
        let table = MethodTable::from_document(&doc);
        let id = "5b0f3c1e-8a6b-4c52-9d1e-3a2b1c0d9e8f";
        assert_eq!(
            table.allowed(&format!("/api/v1/vat-rates/{id}")),
            ["DELETE", "GET", "PUT"]
        );
        assert_eq!(table.allowed("/api/v1/producers"), ["POST"]);
        assert!(table.allowed("/api/v1/nothing").is_empty());
        assert_eq!(table.allowed("/metrics"), ["GET"]);
    }
}
