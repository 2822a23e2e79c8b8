//! One output layer for every command: a text table for people (stdout,
//! with a count on stderr), or JSON lines for scripts (`--output json`).
use clap::ValueEnum;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Output {
    /// Aligned columns for people.
    #[default]
    Table,
    /// One JSON object per line.
    Json,
}

impl Output {
    /// A command's own `--json` flag still asks for JSON.
    pub fn or_json(self, json: bool) -> Output {
        if json { Output::Json } else { self }
    }
}

/// `1 attempt`, `2 attempts`: counts read as English.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Asks `question` on a terminal and goes on only on `y`/`yes`; where
/// stdin is no terminal (a script, CI) it refuses: `--yes` says it there.
pub fn confirm(question: &str) -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "not confirmed: {question} Add --yes where no one can answer (stdin is no terminal)"
        );
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    match answer.trim().to_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => anyhow::bail!("not confirmed: nothing changed"),
    }
}

/// Rows as JSON lines or a table; with a table, `N <what>s` on stderr
/// (`what` is singular).
pub fn emit<T>(
    output: Output,
    rows: &[T],
    json: impl Fn(&T) -> Value,
    table: impl FnOnce(&[T]) -> String,
    what: &str,
) {
    match output {
        Output::Json => {
            for row in rows {
                println!("{}", json(row));
            }
        }
        Output::Table => {
            print!("{}", table(rows));
            eprintln!("{}", plural(rows.len(), what));
        }
    }
}

/// Aligned columns without borders (one line per row, so `grep` and `wc -l`
/// work), under a header line.
pub fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .set_header(header.iter().copied());
    for row in rows {
        t.add_row(row);
    }
    let mut out: String = t
        .lines()
        // Every line starts with the first cell's padding: drop it.
        .map(|l| l.strip_prefix(' ').unwrap_or(&l).trim_end().to_owned() + "\n")
        .collect();
    if out.is_empty() {
        out.push('\n');
    }
    out
}

/// One line of a table printed as its rows come (no width is known ahead):
/// each cell padded to its column's width, the last one as it is.
pub fn line(columns: &[(&str, usize)], cells: &[String]) -> String {
    let mut out = String::new();
    for (i, ((_, width), cell)) in columns.iter().zip(cells).enumerate() {
        if i + 1 == columns.len() {
            out.push_str(cell);
        } else {
            out.push_str(&format!("{cell:<width$}  "));
        }
    }
    out.trim_end().to_owned()
}

/// The header line of such a table.
pub fn header(columns: &[(&str, usize)]) -> String {
    let names: Vec<String> = columns.iter().map(|(n, _)| (*n).to_owned()).collect();
    line(columns, &names)
}
