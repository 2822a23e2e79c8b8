//! A URL as it may be written down. Receivers that authenticate with a
//! token in the query (`?token=…`) or in the user info put a credential in
//! the destination URL; wherever we write a URL (dead-letter reasons, logs,
//! the attempt log, notices, the CLI's output) its query values and its
//! password read `***`. Names stay, so an operator still sees which
//! parameter is there.
use reqwest::Url;

/// What replaces a hidden value.
pub const HIDDEN: &str = "***";

/// `url` with every query value and the password hidden, the fragment
/// dropped.
pub fn masked(url: &Url) -> Url {
    let mut out = url.clone();
    if url.password().is_some() {
        // Only a URL that cannot be a base refuses a password; it has none.
        let _ = out.set_password(Some(HIDDEN));
    }
    if let Some(query) = url.query() {
        // By hand: `query_pairs` cannot tell `?token` (a bare value) from
        // `?token=` (a name).
        let hidden: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) => format!("{name}={HIDDEN}"),
                None if pair.is_empty() => String::new(),
                None => HIDDEN.to_owned(),
            })
            .collect();
        out.set_query(Some(&hidden.join("&")));
    }
    out.set_fragment(None);
    out
}

/// `text` as it may be written: masked when it parses; otherwise only
/// what precedes its query and user info (it never reached a receiver).
pub fn masked_text(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) => masked(&url).to_string(),
        Err(_) => {
            let before_query = text.split(['?', '#']).next().unwrap_or_default();
            match before_query.rsplit_once('@') {
                Some((_, host_and_path)) => format!("{HIDDEN}@{host_and_path}"),
                None => before_query.to_owned(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_and_passwords_are_hidden_and_names_kept() {
        let cases = [
            ("https://r.example/hook", "https://r.example/hook"),
            (
                "https://r.example/hook?token=s3cr3t&x=1",
                "https://r.example/hook?token=***&x=***",
            ),
            ("https://r.example/h?s3cr3t", "https://r.example/h?***"),
            ("https://r.example/h?=s3cr3t", "https://r.example/h?=***"),
            ("https://r.example/h?", "https://r.example/h?"),
            (
                "https://r.example/h?a&&b=2",
                "https://r.example/h?***&&b=***",
            ),
            ("https://u:s3cr3t@r.example/h", "https://u:***@r.example/h"),
            ("https://u@r.example/h", "https://u@r.example/h"),
            ("https://r.example/h#s3cr3t", "https://r.example/h"),
            (
                "https://r.example/h?a%3D=%73%33cr3t&a=2",
                "https://r.example/h?a%3D=***&a=***",
            ),
        ];
        for (url, want) in cases {
            assert_eq!(masked_text(url), want, "{url}");
        }
    }

    #[test]
    fn a_url_that_does_not_parse_keeps_nothing_after_its_path() {
        assert_eq!(
            masked_text("http://exa mple/h?token=s3cr3t"),
            "http://exa mple/h"
        );
        assert_eq!(masked_text("http://u:s3cr3t@exa mple/h"), "***@exa mple/h");
    }
}
