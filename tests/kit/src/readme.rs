//! The shell commands a Markdown file shows, so tests can hold the README
//! to what the command accepts and does.

/// One invocation of a program in a `sh` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The arguments after the program's name, placeholders (`<…>`) filled
    /// with `placeholder`.
    pub args: Vec<String>,
    /// Whether the line pipes into it (it reads standard input).
    pub piped: bool,
    /// Whether the line runs it in the background (`&`).
    pub background: bool,
    /// What `export NAME=VALUE` lines earlier in the same block set.
    pub env: Vec<(String, String)>,
}

/// Words of a shell command line (double and single quotes group).
pub fn words(line: &str) -> Vec<String> {
    let (mut out, mut word, mut quote) = (Vec::new(), String::new(), None);
    for c in line.chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            (_, c) => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

fn fill_placeholders(args: &str) -> String {
    let mut out = String::new();
    let mut rest = args;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        match rest[i..].find('>') {
            Some(j) => {
                out.push_str("placeholder");
                rest = &rest[i + j + 1..];
            }
            None => {
                rest = &rest[i..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every invocation of `program` in the `sh` blocks of `markdown`, in
/// order (also through `cargo run -p <program>-cli --`).
pub fn invocations(markdown: &str, program: &str) -> Vec<Invocation> {
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut env: Vec<(String, String)> = Vec::new();
    let direct = format!("{program} ");
    let via_cargo = format!("cargo run -p {program}-cli -- ");
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            env.clear();
            continue;
        }
        if !in_sh {
            continue;
        }
        let line = line.split(" # ").next().unwrap_or("").trim();
        if let Some(assignments) = line.strip_prefix("export ") {
            for word in words(assignments) {
                if let Some((name, value)) = word.split_once('=') {
                    env.push((name.to_owned(), value.to_owned()));
                }
            }
            continue;
        }
        for command in line.split(';').flat_map(|p| p.split("&&")) {
            let stages: Vec<&str> = command.split('|').collect();
            for (n, stage) in stages.iter().enumerate() {
                let stage = stage.trim();
                let background = stage.ends_with('&');
                let stage = stage.trim_end_matches('&').trim();
                // `cmd < file`: the file is its standard input, as a pipe's.
                let (stage, redirected) = match stage.split_once(" < ") {
                    Some((command, _file)) => (command.trim(), true),
                    None => (stage, false),
                };
                let args = if let Some(rest) = stage.strip_prefix(&direct) {
                    rest
                } else if let Some((_, rest)) = stage.split_once(&via_cargo) {
                    rest
                } else {
                    continue;
                };
                out.push(Invocation {
                    args: words(&fill_placeholders(args)),
                    piped: n > 0 || redirected,
                    background,
                    env: env.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_pipes_sequences_placeholders_and_quotes() {
        let md = "text\n```sh\nprintf x | tool a --b \"c d\"; tool e <F G> # note\nexport K=v L=\"w x\"\ntool run &\n```\n```json\ntool no\n```\n```sh\ntool x\ntool put k < key.pem\n```\n";
        let found = invocations(md, "tool");
        assert_eq!(
            found,
            [
                Invocation {
                    args: vec!["a".into(), "--b".into(), "c d".into()],
                    piped: true,
                    background: false,
                    env: vec![]
                },
                Invocation {
                    args: vec!["e".into(), "placeholder".into()],
                    piped: false,
                    background: false,
                    env: vec![]
                },
                Invocation {
                    args: vec!["run".into()],
                    piped: false,
                    background: true,
                    env: vec![("K".into(), "v".into()), ("L".into(), "w x".into())]
                },
                Invocation {
                    args: vec!["x".into()],
                    piped: false,
                    background: false,
                    env: vec![]
                },
                Invocation {
                    args: vec!["put".into(), "k".into()],
                    piped: true,
                    background: false,
                    env: vec![]
                },
            ]
        );
    }
}
