//! UEFN Verse item definitions, the subset loregraph writes and reads back: a module holding an
//! `item_rarity` enum, an `item_definition` class, and one `item_definition{...}` instance per
//! item whose fields are string, float, int, logic, `item_rarity.X` and `array{"..."}` values.
//! Reading is bounded (text, items, strings, tags) and says where it stopped understanding.

use serde_json::{Map, Value, json};

/// Most bytes of Verse read at once.
pub const MAX_TEXT_BYTES: usize = 4 * 1024 * 1024;
/// Most items one text holds.
pub const MAX_ITEMS: usize = 10_000;
const MAX_STRING_BYTES: usize = 64 * 1024;
const MAX_TAGS: usize = 100;
/// Most problems listed.
const MAX_PROBLEMS: usize = 50;

/// The kind of a field's value in Verse.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Text,
    Float,
    Int,
    Logic,
    Rarity,
    Texts,
}

/// The fields carried: (Verse name, frontmatter key, kind). `Id` and `Name` are the entity's
/// own.
const FIELDS: [(&str, &str, Kind); 12] = [
    ("ItemType", "item_type", Kind::Text),
    ("Category", "category", Kind::Text),
    ("Rarity", "rarity", Kind::Rarity),
    ("Description", "description", Kind::Text),
    ("Value", "value", Kind::Float),
    ("BasePrice", "base_price", Kind::Float),
    ("Weight", "weight", Kind::Float),
    ("StackSize", "stack_size", Kind::Int),
    ("MaxStackSize", "max_stack_size", Kind::Int),
    ("GameId", "game_id", Kind::Int),
    ("Tradeable", "tradeable", Kind::Logic),
    ("Tags", "tags", Kind::Texts),
];
const RARITIES: [&str; 6] = ["common", "uncommon", "rare", "epic", "legendary", "unique"];

/// An item as Verse carries it.
#[derive(Clone, Debug, PartialEq)]
pub struct VerseItem {
    pub id: String,
    pub name: String,
    /// The carried fields, by frontmatter key.
    pub fields: Map<String, Value>,
}

/// The frontmatter keys Verse carries (an import changes only these).
pub fn carried_keys() -> impl Iterator<Item = &'static str> {
    FIELDS.iter().map(|(_, key, _)| *key)
}

/// Whether Verse carries this value of this key (an export writes it, so an import that
/// leaves it out means it gone; a value it cannot carry is kept by an import).
pub fn carries(key: &str, value: &Value) -> bool {
    FIELDS
        .iter()
        .find(|(_, k, _)| *k == key)
        .is_some_and(|(_, _, kind)| verse_value(*kind, value).is_some())
}

fn pascal(id: &str) -> String {
    let mut out = String::new();
    for part in id.split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert_str(0, "Item");
    }
    out
}

fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' | '{' | '}' | '<' | '>' | '&' | '~' | '#' | '\'' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn float(n: f64) -> String {
    let text = format!("{n}");
    if text.contains(['.', 'e', 'E']) {
        text
    } else {
        format!("{text}.0")
    }
}

fn verse_value(kind: Kind, value: &Value) -> Option<String> {
    match (kind, value) {
        (Kind::Text, Value::String(s)) if s.len() <= MAX_STRING_BYTES => Some(quoted(s)),
        (Kind::Float, Value::Number(n)) => n.as_f64().map(float),
        (Kind::Int, Value::Number(n)) => n.as_i64().map(|n| n.to_string()),
        (Kind::Logic, Value::Bool(b)) => Some(b.to_string()),
        (Kind::Rarity, Value::String(s)) if RARITIES.contains(&s.as_str()) => {
            Some(format!("item_rarity.{}", pascal(s)))
        }
        // Only what reads back: texts, at most as many and as long as a read takes.
        (Kind::Texts, Value::Array(items))
            if items.len() <= MAX_TAGS
                && items
                    .iter()
                    .all(|i| i.as_str().is_some_and(|s| s.len() <= MAX_STRING_BYTES)) =>
        {
            let texts: Vec<String> = items.iter().filter_map(Value::as_str).map(quoted).collect();
            Some(format!("array{{{}}}", texts.join(", ")))
        }
        _ => None,
    }
}

/// The items as a Verse module; what does not fit the subset (a text weight, an unknown
/// rarity) is left out and named in the second part.
pub fn write(items: &[VerseItem]) -> (String, Vec<String>) {
    let mut out = String::from(
        "# loregraph items: the studio's ITEM entities as UEFN Verse item definitions.\n\
         # Read back by importItems(format: VERSE); fields outside this subset are not carried.\n\n\
         using { /Verse.org/Simulation }\n\n\
         loregraph_items<public> := module:\n\n    item_rarity<public> := enum:\n        Unset\n",
    );
    for rarity in RARITIES {
        out.push_str(&format!("        {}\n", pascal(rarity)));
    }
    out.push_str("\n    item_definition<public> := class<concrete>:\n");
    out.push_str("        Id<public> : string = \"\"\n        Name<public> : string = \"\"\n");
    for (name, _, kind) in FIELDS {
        let (ty, default) = match kind {
            Kind::Text => ("string", "\"\""),
            Kind::Float => ("float", "0.0"),
            Kind::Int => ("int", "0"),
            Kind::Logic => ("logic", "false"),
            Kind::Rarity => ("item_rarity", "item_rarity.Unset"),
            Kind::Texts => ("[]string", "array{}"),
        };
        out.push_str(&format!("        {name}<public> : {ty} = {default}\n"));
    }
    let mut left_out = Vec::new();
    let mut taken: std::collections::HashSet<String> = std::collections::HashSet::new();
    for item in items {
        let mut ident = pascal(&item.id);
        if taken.contains(&ident) {
            let base = ident.clone();
            let mut n = 2;
            while taken.contains(&ident) {
                ident = format!("{base}_{n}");
                n += 1;
            }
        }
        taken.insert(ident.clone());
        let mut lines = vec![
            format!("Id := {}", quoted(&item.id)),
            format!("Name := {}", quoted(&item.name)),
        ];
        for (name, key, kind) in FIELDS {
            let Some(value) = item.fields.get(key).filter(|v| !v.is_null()) else {
                continue;
            };
            match verse_value(kind, value) {
                Some(text) => lines.push(format!("{name} := {text}")),
                None => left_out.push(format!(
                    "{}: {key} {value} is not carried in Verse",
                    item.id
                )),
            }
        }
        out.push_str(&format!(
            "\n    {ident}<public> : item_definition = item_definition{{\n        {}\n    }}\n",
            lines.join(",\n        ")
        ));
    }
    (out, left_out)
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Ident(String),
    Text(String),
    Number(String),
    Punct(&'static str),
}

/// The text's tokens with their lines; comments dropped.
fn tokens(text: &str) -> Result<Vec<(Token, usize)>, String> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut line = 1;
    while let Some((_, c)) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '#' => {
                while chars.peek().is_some_and(|(_, c)| *c != '\n') {
                    chars.next();
                }
            }
            '"' => {
                let mut s = String::new();
                loop {
                    let Some((_, c)) = chars.next() else {
                        return Err(format!("line {line}: a text that never ends"));
                    };
                    match c {
                        '"' => break,
                        '\\' => match chars.next().map(|(_, c)| c) {
                            Some('n') => s.push('\n'),
                            Some('r') => s.push('\r'),
                            Some('t') => s.push('\t'),
                            Some(c) => s.push(c),
                            None => return Err(format!("line {line}: a text that never ends")),
                        },
                        '\n' => {
                            line += 1;
                            s.push('\n');
                        }
                        c => s.push(c),
                    }
                    if s.len() > MAX_STRING_BYTES {
                        return Err(format!("line {line}: a text longer than 64 KiB"));
                    }
                }
                out.push((Token::Text(s), line));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let mut s = String::from(c);
                while let Some((_, d)) = chars.peek().copied() {
                    if d.is_ascii_alphanumeric()
                        || d == '.'
                        || d == '+'
                        || (d == '-' && s.ends_with(['e', 'E']))
                    {
                        s.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push((Token::Number(s), line));
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut s = String::from(c);
                while let Some((_, d)) = chars.peek().copied() {
                    if d.is_alphanumeric() || d == '_' {
                        s.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push((Token::Ident(s), line));
            }
            ':' if chars.peek().is_some_and(|(_, c)| *c == '=') => {
                chars.next();
                out.push((Token::Punct(":="), line));
            }
            ':' => out.push((Token::Punct(":"), line)),
            '=' => out.push((Token::Punct("="), line)),
            '{' => out.push((Token::Punct("{"), line)),
            '}' => out.push((Token::Punct("}"), line)),
            ',' => out.push((Token::Punct(","), line)),
            '.' => out.push((Token::Punct("."), line)),
            '<' => out.push((Token::Punct("<"), line)),
            '>' => out.push((Token::Punct(">"), line)),
            '[' => out.push((Token::Punct("["), line)),
            ']' => out.push((Token::Punct("]"), line)),
            '(' => out.push((Token::Punct("("), line)),
            ')' => out.push((Token::Punct(")"), line)),
            '/' => out.push((Token::Punct("/"), line)),
            c => return Err(format!("line {line}: {c:?} is not read here")),
        }
    }
    Ok(out)
}

/// Reads the items of a Verse text (every `= item_definition{...}` instance); the problems say
/// where, and nothing is read when there is one.
pub fn read(text: &str) -> Result<Vec<VerseItem>, Vec<String>> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(vec![format!(
            "the text is larger than {} MiB",
            MAX_TEXT_BYTES >> 20
        )]);
    }
    let tokens = tokens(text).map_err(|problem| vec![problem])?;
    let mut items = Vec::new();
    let mut problems = Vec::new();
    let mut at = 0;
    while at + 2 < tokens.len() {
        let starts = matches!(tokens[at].0, Token::Punct("=" | ":="))
            && tokens[at + 1].0 == Token::Ident("item_definition".to_owned())
            && tokens[at + 2].0 == Token::Punct("{");
        if !starts {
            at += 1;
            continue;
        }
        let line = tokens[at].1;
        at += 3;
        match instance(&tokens, &mut at) {
            Ok(item) => items.push(item),
            Err(problem) => {
                problems.push(format!("the item at line {line}: {problem}"));
                // Skip to the end of the instance and go on, so every problem is listed.
                while at < tokens.len() && tokens[at].0 != Token::Punct("}") {
                    at += 1;
                }
            }
        }
        if items.len() > MAX_ITEMS {
            return Err(vec![format!("more than {MAX_ITEMS} items")]);
        }
    }
    if problems.is_empty() {
        Ok(items)
    } else {
        if problems.len() > MAX_PROBLEMS {
            let more = problems.len() - MAX_PROBLEMS;
            problems.truncate(MAX_PROBLEMS);
            problems.push(format!("... and {more} more"));
        }
        Err(problems)
    }
}

fn instance(tokens: &[(Token, usize)], at: &mut usize) -> Result<VerseItem, String> {
    let mut id = None;
    let mut name = None;
    let mut fields = Map::new();
    loop {
        let Some((token, line)) = tokens.get(*at) else {
            return Err("it never ends".to_owned());
        };
        *at += 1;
        let field = match token {
            Token::Punct("}") => break,
            Token::Punct(",") => continue,
            Token::Ident(field) => field.clone(),
            other => return Err(format!("line {line}: {other:?} where a field was expected")),
        };
        if tokens.get(*at).map(|t| &t.0) != Some(&Token::Punct(":=")) {
            return Err(format!("line {line}: {field} is not followed by :="));
        }
        *at += 1;
        let value = value(tokens, at).map_err(|p| format!("line {line}: {field}: {p}"))?;
        match field.as_str() {
            "Id" => id = value.as_str().map(str::to_owned),
            "Name" => name = value.as_str().map(str::to_owned),
            _ => {
                let Some((_, key, kind)) = FIELDS.iter().find(|(n, _, _)| *n == field) else {
                    return Err(format!(
                        "line {line}: {field} is not a field of item_definition"
                    ));
                };
                let fits = match (kind, &value) {
                    (Kind::Text | Kind::Rarity, Value::String(_)) => true,
                    (Kind::Float, Value::Number(_)) => true,
                    (Kind::Int, Value::Number(n)) => n.is_i64(),
                    (Kind::Logic, Value::Bool(_)) | (Kind::Texts, Value::Array(_)) => true,
                    _ => false,
                };
                if !fits {
                    return Err(format!("line {line}: {field} {value} is not a {kind:?}"));
                }
                if *kind == Kind::Rarity && value.as_str().is_some_and(|r| !RARITIES.contains(&r)) {
                    continue; // item_rarity.Unset
                }
                // A whole float is kept as the whole number it was written from (`5` goes out
                // as `5.0`), so a round trip changes nothing.
                let value = match value.as_f64() {
                    Some(f) if *kind == Kind::Float && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                        json!(f as i64)
                    }
                    _ => value,
                };
                fields.insert((*key).to_owned(), value);
            }
        }
    }
    Ok(VerseItem {
        id: id.ok_or("it has no Id")?,
        name: name.ok_or("it has no Name")?,
        fields,
    })
}

fn value(tokens: &[(Token, usize)], at: &mut usize) -> Result<Value, String> {
    let Some((token, _)) = tokens.get(*at) else {
        return Err("no value".to_owned());
    };
    *at += 1;
    match token {
        Token::Text(s) => Ok(Value::String(s.clone())),
        Token::Number(n) => {
            if let Ok(i) = n.parse::<i64>() {
                Ok(json!(i))
            } else {
                n.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| json!(f))
                    .ok_or_else(|| format!("{n} is not a number"))
            }
        }
        Token::Ident(word) if word == "true" || word == "false" => Ok(Value::Bool(word == "true")),
        Token::Ident(word) if word == "item_rarity" => {
            match (
                tokens.get(*at).map(|t| &t.0),
                tokens.get(*at + 1).map(|t| &t.0),
            ) {
                (Some(Token::Punct(".")), Some(Token::Ident(rarity))) => {
                    *at += 2;
                    Ok(Value::String(rarity.to_ascii_lowercase()))
                }
                _ => Err("item_rarity is not followed by .Rarity".to_owned()),
            }
        }
        Token::Ident(word) if word == "array" => {
            if tokens.get(*at).map(|t| &t.0) != Some(&Token::Punct("{")) {
                return Err("array is not followed by {".to_owned());
            }
            *at += 1;
            let mut items = Vec::new();
            loop {
                match tokens.get(*at).map(|t| &t.0) {
                    Some(Token::Punct("}")) => {
                        *at += 1;
                        break;
                    }
                    Some(Token::Punct(",")) => *at += 1,
                    Some(Token::Text(s)) if items.len() < MAX_TAGS => {
                        items.push(Value::String(s.clone()));
                        *at += 1;
                    }
                    Some(Token::Text(_)) => return Err(format!("more than {MAX_TAGS} texts")),
                    _ => return Err("an array holds texts only".to_owned()),
                }
            }
            Ok(Value::Array(items))
        }
        other => Err(format!("{other:?} is not a value read here")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, fields: Value) -> VerseItem {
        VerseItem {
            id: id.to_owned(),
            name: format!("The \"{id}\" {{#1}}"),
            fields: fields.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn what_is_written_reads_back_the_same() {
        let items = vec![
            item(
                "iron_sword",
                json!({"item_type": "weapon", "category": "blades", "rarity": "rare",
                       "value": 120.5, "base_price": 100, "stack_size": 1, "tradeable": true,
                       "tags": ["steel", "a \"b\""], "description": "Line one\nline <two> & ~"}),
            ),
            item(
                "2nd_potion",
                json!({"item_type": "consumable", "value": -3.5, "game_id": 7}),
            ),
        ];
        let (text, left_out) = write(&items);
        assert!(left_out.is_empty(), "{left_out:?}");
        assert!(text.contains("IronSword<public> : item_definition = item_definition{"));
        assert!(text.contains("Item2ndPotion<public>"));
        let read = read(&text).expect("it reads back");
        assert_eq!(read, items);
    }

    #[test]
    fn what_does_not_fit_is_named() {
        let (_, left_out) = write(&[item(
            "a",
            json!({"weight": "heavy", "rarity": "mythic", "tags": ["ok", 3]}),
        )]);
        assert_eq!(left_out.len(), 3, "{left_out:?}");
        assert!(!carries("weight", &json!("heavy")) && carries("weight", &json!(2.5)));
        let problems = read(
            "X := item_definition{Id := \"a\", Name := \"A\", Colour := \"red\"}\n\
                             Y := item_definition{Id := \"b\", StackSize := 1.5, Name := \"B\"}",
        )
        .expect_err("refused");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("Colour"), "{problems:?}");
        assert!(read("X := item_definition{Id := \"a").is_err());
        assert!(
            read("X := item_definition{Name := \"A\"}").is_err(),
            "an Id is needed"
        );
    }
}
