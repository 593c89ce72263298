//! The OpenAPI document: its frame (info, auth, shared schemas), and the
//! answers every operation can give whatever its handler says, so a client
//! generator or a fuzzer is told every status the API really answers.

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, Response, ResponseBuilder, Schema};
use utoipa::{Modify, OpenApi};

use crate::error::ErrorBody;

/// The frame; the paths come from the handlers' `#[utoipa::path]` as the
/// router is built.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "hookline API",
        description = "Receive, send and inspect webhooks. Wire-compatible with Svix's v1 API \
                       for applications, endpoints, event types, messages and attempts; \
                       sources, the inbox and routes are hookline's own."
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// Every operation takes `Authorization: Bearer <token>`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "HTTPBearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        doc.security = Some(vec![SecurityRequirement::new(
            "HTTPBearer",
            Vec::<String>::new(),
        )]);
    }
}

/// Adds to every operation the answers any request can get: a malformed
/// query or body (400), a missing or wrong token (401), a store that cannot
/// write (503); with a body also a stalled one (408), a taken uid, name or
/// path (409), one over the limit (413) and one that is not JSON (415). And gives each `PATCH` its body's
/// schema with nothing required.
pub fn complete(doc: &mut utoipa::openapi::OpenApi) {
    let mut patches = Vec::new();
    for item in doc.paths.paths.values_mut() {
        if let Some(name) = item.patch.as_mut().and_then(patch_body) {
            patches.push(name);
        }
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            add_common(op);
        }
    }
    // A `PATCH` takes the same body as its `PUT` with nothing required.
    let components = doc.components.get_or_insert_with(Default::default);
    for name in patches {
        if let Some(RefOr::T(Schema::Object(full))) = components.schemas.get(&name) {
            let mut patch = full.clone();
            patch.required.clear();
            components
                .schemas
                .insert(format!("{name}Patch"), RefOr::T(Schema::Object(patch)));
        }
    }
}

/// Points a `PATCH`'s JSON body at `{Schema}Patch`; the schema's name.
fn patch_body(op: &mut Operation) -> Option<String> {
    let RefOr::T(body) = op.request_body.as_mut()? else {
        return None;
    };
    let RefOr::T(content) = body.content.get_mut("application/json")? else {
        return None;
    };
    let Some(RefOr::Ref(r)) = &content.schema else {
        return None;
    };
    let name = r.ref_location.rsplit('/').next()?.to_string();
    content.schema = Some(RefOr::Ref(Ref::from_schema_name(format!("{name}Patch"))));
    Some(name)
}

fn add_common(op: &mut Operation) {
    let mut common = vec![
        ("400", "The query or body could not be read"),
        ("401", "Missing or wrong token"),
        ("503", "Nothing can be stored right now; retry later"),
    ];
    if op.request_body.is_some() {
        common.extend([
            ("408", "The body was not received in time"),
            ("409", "A uid, name or path it sets is taken"),
            ("413", "The body is too large"),
            (
                "415",
                "The body is not JSON (send Content-Type: application/json)",
            ),
        ]);
    }
    for (status, description) in common {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| error(description));
    }
}

fn error(description: &str) -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorBody")))
        .build();
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content("application/json", content)
            .build(),
    )
}
