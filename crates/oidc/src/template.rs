//! The subset of Go `text/template` that Fulcio's `ci-issuer-metadata` uses
//! (sigstore/fulcio `config/identity/config.yaml`, `pkg/identity/ciprovider/principal.go`).
//!
//! Supported actions: `{{ .name }}`, `{{ index . "name" }}` (also parenthesised), and
//! `{{ if eq A B }}…{{ else }}…{{ end }}` where `A` and `B` are either of those or a `"string"`.
//! As in Fulcio, a template without `{{` is a claim name, and a missing key is an error
//! (`missingkey=error`). Fulcio renders with `html/template`; we do not HTML-escape.

use std::collections::BTreeMap;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Template {
    /// No `{{`: the value of this claim or default.
    Claim(String),
    /// A template proper.
    Nodes(Vec<Node>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Text(String),
    Value(Expr),
    If {
        left: Expr,
        right: Expr,
        then: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    Key(String),
    Literal(String),
}

enum Action {
    Value(Expr),
    IfEq(Expr, Expr),
    Else,
    End,
}

impl Template {
    /// Parses `source`; the error says what is wrong.
    pub(crate) fn parse(source: &str) -> Result<Self, String> {
        if !source.contains("{{") {
            return Ok(Self::Claim(source.trim().to_owned()));
        }
        let mut tokens = tokenize(source)?.into_iter();
        let (nodes, end) = parse_nodes(&mut tokens)?;
        match end {
            None => Ok(Self::Nodes(nodes)),
            Some(_) => Err("unexpected {{ else }} or {{ end }}".to_owned()),
        }
    }

    /// Renders against `data`; `Err(name)` names the missing key.
    pub(crate) fn render(&self, data: &BTreeMap<String, String>) -> Result<String, String> {
        match self {
            Self::Claim(name) => data.get(name).cloned().ok_or_else(|| name.clone()),
            Self::Nodes(nodes) => {
                let mut out = String::new();
                render_nodes(nodes, data, &mut out)?;
                Ok(out)
            }
        }
    }
}

enum Token {
    Text(String),
    Action(Action),
}

fn tokenize(source: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            tokens.push(Token::Text(rest[..start].to_owned()));
        }
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("unclosed {{")?;
        tokens.push(Token::Action(parse_action(after[..end].trim())?));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        tokens.push(Token::Text(rest.to_owned()));
    }
    Ok(tokens)
}

fn parse_action(action: &str) -> Result<Action, String> {
    let words = split_words(action)?;
    match words.first().map(String::as_str) {
        Some("else") if words.len() == 1 => Ok(Action::Else),
        Some("end") if words.len() == 1 => Ok(Action::End),
        Some("if") => match words.get(1).map(String::as_str) {
            Some("eq") if words.len() >= 4 => {
                let (left, used) = parse_expr(&words[2..])?;
                let (right, used2) = parse_expr(&words[2 + used..])?;
                if 2 + used + used2 != words.len() {
                    return Err(format!("trailing words in {{{{{action}}}}}"));
                }
                Ok(Action::IfEq(left, right))
            }
            _ => Err(format!(
                "only `if eq A B` is supported, got {{{{{action}}}}}"
            )),
        },
        Some(_) => {
            let (expr, used) = parse_expr(&words)?;
            if used != words.len() {
                return Err(format!("trailing words in {{{{{action}}}}}"));
            }
            Ok(Action::Value(expr))
        }
        None => Err("empty action {{}}".to_owned()),
    }
}

/// Parses one expression from the front of `words`; returns it and how many words it used.
fn parse_expr(words: &[String]) -> Result<(Expr, usize), String> {
    match words {
        [first, ..] if first.starts_with('"') => Ok((Expr::Literal(unquote(first)?), 1)),
        [first, ..] if first.len() > 1 && first.starts_with('.') => {
            Ok((Expr::Key(first[1..].to_owned()), 1))
        }
        [index, dot, key, ..] if index == "index" && dot == "." && key.starts_with('"') => {
            Ok((Expr::Key(unquote(key)?), 3))
        }
        _ => Err(format!("unsupported expression {words:?}")),
    }
}

fn unquote(word: &str) -> Result<String, String> {
    word.strip_prefix('"')
        .and_then(|w| w.strip_suffix('"'))
        .map(str::to_owned)
        .ok_or_else(|| format!("bad string literal {word}"))
}

/// Splits on whitespace and parentheses, keeping `"..."` literals whole.
fn split_words(action: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = action.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() || c == '(' || c == ')' {
            chars.next();
        } else if c == '"' {
            let mut word = String::from('"');
            chars.next();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some(c) => word.push(c),
                    None => return Err(format!("unterminated string in {{{{{action}}}}}")),
                }
            }
            word.push('"');
            words.push(word);
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '(' || c == ')' || c == '"' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            words.push(word);
        }
    }
    Ok(words)
}

/// Parses until end of input or an `else`/`end`, which is returned.
fn parse_nodes(
    tokens: &mut impl Iterator<Item = Token>,
) -> Result<(Vec<Node>, Option<Action>), String> {
    let mut nodes = Vec::new();
    while let Some(token) = tokens.next() {
        match token {
            Token::Text(text) => nodes.push(Node::Text(text)),
            Token::Action(Action::Value(expr)) => nodes.push(Node::Value(expr)),
            Token::Action(Action::IfEq(left, right)) => {
                let (then, end) = parse_nodes(tokens)?;
                let otherwise = match end {
                    Some(Action::End) => Vec::new(),
                    Some(Action::Else) => match parse_nodes(tokens)? {
                        (otherwise, Some(Action::End)) => otherwise,
                        _ => return Err("{{ if }} without {{ end }}".to_owned()),
                    },
                    _ => return Err("{{ if }} without {{ end }}".to_owned()),
                };
                nodes.push(Node::If {
                    left,
                    right,
                    then,
                    otherwise,
                });
            }
            Token::Action(end @ (Action::Else | Action::End)) => return Ok((nodes, Some(end))),
        }
    }
    Ok((nodes, None))
}

fn eval(expr: &Expr, data: &BTreeMap<String, String>) -> Result<String, String> {
    match expr {
        Expr::Key(key) => data.get(key).cloned().ok_or_else(|| key.clone()),
        Expr::Literal(text) => Ok(text.clone()),
    }
}

fn render_nodes(
    nodes: &[Node],
    data: &BTreeMap<String, String>,
    out: &mut String,
) -> Result<(), String> {
    for node in nodes {
        match node {
            Node::Text(text) => out.push_str(text),
            Node::Value(expr) => out.push_str(&eval(expr, data)?),
            Node::If {
                left,
                right,
                then,
                otherwise,
            } => {
                let branch = if eval(left, data)? == eval(right, data)? {
                    then
                } else {
                    otherwise
                };
                render_nodes(branch, data, out)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        name: &'static str,
        template: &'static str,
        want: Result<&'static str, &'static str>,
    }

    const CASES: &[Case] = &[
        Case {
            name: "claim name",
            template: "sha",
            want: Ok("abc"),
        },
        Case {
            name: "dot keys",
            template: "{{ .url }}/{{ .repository }}",
            want: Ok("https://github.com/acme/app"),
        },
        Case {
            name: "index",
            template: r#"{{.url}}/{{(index . "oidc.example/id")}}"#,
            want: Ok("https://github.com/7"),
        },
        Case {
            name: "if eq branch",
            template: r#"refs/{{if eq .ref_type "branch"}}heads/{{ else }}tags/{{end}}{{ .ref }}"#,
            want: Ok("refs/heads/main"),
        },
        Case {
            name: "missing key",
            template: "{{ .nope }}",
            want: Err("nope"),
        },
        Case {
            name: "missing claim",
            template: "nope",
            want: Err("nope"),
        },
    ];

    #[test]
    fn renders_fulcio_templates() {
        let data: BTreeMap<String, String> = [
            ("sha", "abc"),
            ("url", "https://github.com"),
            ("repository", "acme/app"),
            ("oidc.example/id", "7"),
            ("ref_type", "branch"),
            ("ref", "main"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        for case in CASES {
            let template = Template::parse(case.template).unwrap();
            let got = template.render(&data);
            let want = case.want.map(str::to_owned).map_err(str::to_owned);
            assert_eq!(got, want, "{}", case.name);
        }
    }

    #[test]
    fn rejects_unbalanced_if() {
        assert!(Template::parse("{{ if eq .a \"b\" }}x").is_err());
        assert!(Template::parse("x{{ end }}").is_err());
        assert!(Template::parse("{{ .a ").is_err());
    }
}
