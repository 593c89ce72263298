//! The OpenAPI document is generated from the routes, and covers every Svix
//! v1 path hookline claims (`svix_paths.txt`, taken from Svix's own document):
//! each is documented with its method, and each answers on the wire.

#![allow(clippy::unwrap_used)]

use hookline_server::testkit::TestApp;
use hookline_server::Config;
use reqwest::Method;
use serde_json::Value;

fn svix_paths() -> Vec<(Method, String)> {
    include_str!("svix_paths.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (m, p) = l.split_once(' ').unwrap();
            (m.parse().unwrap(), p.to_string())
        })
        .collect()
}

async fn every_svix_path_is_documented_and_answers() {
    let app = TestApp::spawn(Config::default()).await;
    // Open to all: the document holds no data.
    let resp = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let doc: Value = resp.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"],
        "bearer"
    );
    let paths = doc["paths"].as_object().unwrap();

    let expected = svix_paths();
    assert!(expected.len() >= 30, "the fixture lists the Svix surface");
    let mut missing = Vec::new();
    for (method, path) in &expected {
        let op = &paths.get(path).unwrap_or(&Value::Null)[method.as_str().to_lowercase()];
        if !op.is_object() {
            missing.push(format!("{method} {path}"));
            continue;
        }
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path} documents its answers"
        );
        // On the wire: with ids that do not exist, the route answers with the
        // resource missing (or a validation error), never "no such route".
        let concrete = path
            .replace("{app_id}", "app_missing")
            .replace("{endpoint_id}", "ep_missing")
            .replace("{msg_id}", "msg_missing")
            .replace("{attempt_id}", "atmpt_missing")
            .replace("{event_type_name}", "missing.type");
        let resp = app
            .client
            .request(method.clone(), app.url(&concrete))
            .bearer_auth(&app.admin_token)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let no_route = body["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("Not found:"));
        assert!(
            status != 405 && !no_route,
            "{method} {concrete} is routed: {status} {body}"
        );
    }
    assert!(missing.is_empty(), "not in openapi.json: {missing:#?}");

    // hookline's own additions are documented too.
    for path in [
        "/api/v1/source",
        "/api/v1/source/{source}/event/{event_id}/replay",
    ] {
        assert!(paths.contains_key(path), "{path}");
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for s in [
        "EndpointIn",
        "EndpointOut",
        "MessageIn",
        "ErrorBody",
        "EndpointStatsOut",
    ] {
        assert!(schemas.contains_key(s), "schema {s}");
    }
    let ep_in = &schemas["EndpointIn"]["properties"];
    for field in [
        "url",
        "eventTypes",
        "throttleRate",
        "retrySchedule",
        "maxConcurrency",
    ] {
        assert!(ep_in[field].is_object(), "EndpointIn.{field}: {ep_in}");
    }
    let _ = app.call(Method::GET, "/health", None).await;
}

/// What generators trip over: every parameter where it really is, required
/// fields marked, every status the layers answer documented.
async fn parameters_bodies_and_statuses_are_where_they_are() {
    let app = TestApp::spawn(Config::default()).await;
    let doc = app.get_json("/openapi.json").await;
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            for p in op["parameters"].as_array().into_iter().flatten() {
                let (name, place) = (p["name"].as_str().unwrap(), p["in"].as_str().unwrap());
                let templated = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    place == "path",
                    templated,
                    "{method} {path}: `{name}` is in {place}"
                );
            }
            let answers = op["responses"].as_object().unwrap();
            for status in ["400", "401", "503"] {
                assert!(
                    answers.contains_key(status),
                    "{method} {path} documents {status}"
                );
            }
            if op.get("requestBody").is_some() {
                for status in ["408", "409", "413", "415"] {
                    assert!(
                        answers.contains_key(status),
                        "{method} {path} documents {status}"
                    );
                }
            }
        }
    }
    assert!(operations > 50, "{operations}");
    let schemas = &doc["components"]["schemas"];
    let required = |s: &str| {
        schemas[s]["required"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    assert!(
        required("AppIn").contains(&"name".into()),
        "{}",
        schemas["AppIn"]
    );
    assert!(required("EndpointIn").contains(&"url".into()));
    assert!(
        required("AppInPatch").is_empty(),
        "a PATCH requires nothing"
    );
    let patch = &doc["paths"]["/api/v1/app/{app_id}"]["patch"]["requestBody"]["content"]
        ["application/json"]["schema"]["$ref"];
    assert_eq!(patch, "#/components/schemas/AppInPatch");
    for s in ["RouteSpec", "SourceSpec"] {
        assert!(required(s).contains(&"name".into()), "{s}: {}", schemas[s]);
    }
}

// Every test above runs twice: on SQLite and on PostgreSQL.
hookline_server::testkit::on_both_backends!(
    every_svix_path_is_documented_and_answers,
    parameters_bodies_and_statuses_are_where_they_are,
);
