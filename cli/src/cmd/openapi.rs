//! `hubhooks openapi`: the management API's OpenAPI 3.1 document, with
//! every webhook (`hubhooks::api::openapi`), as `GET /v1/openapi.json`
//! serves it. Offline. docs/openapi.json is its output.
use anyhow::Result;

pub fn run() -> Result<()> {
    let document = hubhooks::api::openapi::document();
    println!("{}", serde_json::to_string_pretty(&document)?);
    Ok(())
}
