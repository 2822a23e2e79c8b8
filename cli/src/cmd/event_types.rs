//! `hubhooks event-types`: the catalogue of webhook types, their versions,
//! each version's JSON Schema and sample body (`hubhooks::payload::catalogue`).
//! Offline: it needs no AWS.
use super::Ctx;
use crate::output::{self, Output};
use anyhow::Result;
use clap::Args;
use hubhooks::event::EventType;
use hubhooks::payload::catalogue;

#[derive(Args)]
pub struct EventTypesArgs {
    /// Only this type, e.g. newStatus; with a table, its schema and sample
    /// in each version are printed too.
    #[arg(long = "type")]
    event_type: Option<EventType>,
}

pub fn run(args: EventTypesArgs, ctx: &Ctx) -> Result<()> {
    let entries = match args.event_type {
        Some(t) => vec![catalogue::entry(t)?],
        None => catalogue::all()?,
    };
    if ctx.output == Output::Json || args.event_type.is_none() {
        output::emit(
            ctx.output,
            &entries,
            |e| serde_json::to_value(e).unwrap_or_default(),
            |rows| {
                output::table(
                    &["TYPE", "VERSIONS"],
                    rows.iter().map(|e| {
                        let versions: Vec<String> = e
                            .versions
                            .iter()
                            .map(|v| {
                                if v.deprecated {
                                    format!("{} (deprecated)", v.version)
                                } else {
                                    v.version.to_owned()
                                }
                            })
                            .collect();
                        vec![e.name.to_owned(), versions.join(", ")]
                    }),
                )
            },
            "event type",
        );
        return Ok(());
    }
    for e in &entries {
        for v in &e.versions {
            let deprecated = if v.deprecated { " (deprecated)" } else { "" };
            println!("── {} {}{deprecated}", e.name, v.version);
            println!("schema:\n{}", serde_json::to_string_pretty(&v.schema)?);
            println!("sample:\n{}", serde_json::to_string_pretty(&v.sample)?);
        }
    }
    Ok(())
}
