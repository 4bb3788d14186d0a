//! A markdown file with YAML frontmatter: `---`, the YAML, `---`, then the body. Read from
//! whatever editors write (a byte-order mark, CRLF line endings, tab indentation) and written
//! back in one normal form; the body is kept byte for byte apart from its line endings.

use super::yaml::{self, Mapping, YamlError};

/// The largest markdown file read, in bytes.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// A file taken apart.
#[derive(Clone, Debug, PartialEq)]
pub struct MarkdownFile {
    pub frontmatter: Mapping,
    /// Everything after the closing `---` line, with LF line endings.
    pub body: String,
    /// What reading changed on the way in (README "Markdown files": normalisations).
    pub normalised: Vec<&'static str>,
}

/// Why a file could not be read, with where when known (1-based, within the whole file).
#[derive(Clone, Debug, PartialEq)]
pub struct FileError {
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl FileError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            line: None,
            column: None,
        }
    }

    fn at_line(message: impl Into<String>, line: u32) -> Self {
        Self {
            line: Some(line),
            ..Self::new(message)
        }
    }
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => {
                write!(f, "{} (line {line}, column {column})", self.message)
            }
            (Some(line), None) => write!(f, "{} (line {line})", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// The bytes of a file as text: at most [`MAX_FILE_BYTES`], and UTF-8.
pub fn decode(bytes: &[u8]) -> Result<&str, FileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(too_large(bytes.len()));
    }
    std::str::from_utf8(bytes).map_err(|error| {
        FileError::new(format!(
            "the file is not UTF-8 text (invalid bytes at offset {})",
            error.valid_up_to()
        ))
    })
}

fn too_large(size: usize) -> FileError {
    FileError::new(format!(
        "the file has {size} bytes; files may have at most {} KiB",
        MAX_FILE_BYTES / 1024
    ))
}

/// Reads a file's frontmatter and body.
pub fn read(content: &str) -> Result<MarkdownFile, FileError> {
    if content.len() > MAX_FILE_BYTES {
        return Err(too_large(content.len()));
    }
    if content.contains('\0') {
        return Err(FileError::new("the file contains NUL characters"));
    }
    let mut normalised = Vec::new();
    let content = match content.strip_prefix('\u{feff}') {
        Some(rest) => {
            normalised.push("byte-order mark removed");
            rest
        }
        None => content,
    };
    let content = if content.contains('\r') {
        normalised.push("line endings changed to LF");
        content.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        content.to_owned()
    };
    let Some(after_open) = strip_delimiter_line(&content) else {
        return Err(FileError::at_line(
            "the file has no frontmatter: it must begin with a `---` line",
            1,
        ));
    };
    // The closing delimiter: the first line that is `---` (or `...`) after the opening one.
    let mut offset = 0;
    let mut closing = None;
    for line in after_open.split_inclusive('\n') {
        let bare = line.trim_end();
        if bare == "---" || bare == "..." {
            closing = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let Some((yaml_end, body_start)) = closing else {
        return Err(FileError::at_line(
            "the frontmatter is not closed: add a `---` line after it",
            1,
        ));
    };
    let raw_yaml = &after_open[..yaml_end];
    // Tabs are read as indentation only when the YAML does not parse as written: a valid
    // file (a literal block may hold tabs) is never changed.
    let frontmatter = match yaml::parse_mapping(raw_yaml) {
        Ok(mapping) => mapping,
        Err(error)
            if raw_yaml
                .lines()
                .any(|line| line.trim_start_matches(' ').starts_with('\t')) =>
        {
            let mapping = yaml::parse_mapping(&untab(raw_yaml)).map_err(|_| from_yaml(error, 1))?;
            normalised.push("tab indentation changed to spaces");
            mapping
        }
        Err(error) => return Err(from_yaml(error, 1)),
    };
    Ok(MarkdownFile {
        frontmatter,
        body: after_open[body_start..].to_owned(),
        normalised,
    })
}

/// The text after a first line that is `---` (trailing blanks allowed).
fn strip_delimiter_line(content: &str) -> Option<&str> {
    let (first, rest) = match content.find('\n') {
        Some(end) => (&content[..end], &content[end + 1..]),
        None => (content, ""),
    };
    (first.trim_end() == "---").then_some(rest)
}

/// Leading tabs (mixed with spaces) become two spaces each: YAML forbids tabs in indentation,
/// and editors insert them.
fn untab(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len() + 16);
    for line in yaml.split_inclusive('\n') {
        let indent_len = line.len() - line.trim_start_matches([' ', '\t']).len();
        for c in line[..indent_len].chars() {
            out.push_str(if c == '\t' { "  " } else { " " });
        }
        out.push_str(&line[indent_len..]);
    }
    out
}

/// A YAML error placed in the file: the frontmatter begins after `lines_before` lines.
pub fn from_yaml(error: YamlError, lines_before: u32) -> FileError {
    FileError {
        message: error.message,
        line: error.line.map(|line| line + lines_before),
        column: error.column,
    }
}

/// A file from its frontmatter and body: `---`, the YAML, `---`, the body.
pub fn write(frontmatter: &[(String, yaml::Node)], body: &str) -> String {
    let yaml = yaml::emit_mapping(frontmatter);
    let mut out = String::with_capacity(yaml.len() + body.len() + 8);
    out.push_str("---\n");
    out.push_str(&yaml);
    out.push_str("---\n");
    out.push_str(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markdown::yaml::Node;

    #[test]
    fn messy_files_are_read_and_what_changed_is_said() {
        let file = read("\u{feff}---\r\nid: rex\r\nlist:\r\n\t- a\r\n---\r\n\r\n# Rex\r\n")
            .expect("reads");
        assert_eq!(file.body, "\n# Rex\n");
        assert_eq!(
            file.frontmatter[0],
            ("id".into(), Node::String("rex".into()))
        );
        assert_eq!(
            file.frontmatter[1].1,
            Node::List(vec![Node::String("a".into())])
        );
        assert_eq!(file.normalised.len(), 3, "{:?}", file.normalised);
    }

    #[test]
    fn the_body_comes_back_byte_for_byte() {
        let text = "---\nid: rex\n---\n\n# Rex\n\n---\n\nA rule above.  \n\n\n";
        let file = read(text).expect("reads");
        assert_eq!(write(&file.frontmatter, &file.body), text);
        let without_body = read("---\nid: rex\n---").expect("reads");
        assert_eq!(without_body.body, "");
    }

    #[test]
    fn broken_files_say_what_and_where() {
        assert!(
            read("# just markdown\n")
                .unwrap_err()
                .message
                .contains("no frontmatter")
        );
        assert!(
            read("---\nid: rex\n")
                .unwrap_err()
                .message
                .contains("not closed")
        );
        let error = read("---\nid: rex\nlist: [a, b\n---\n").unwrap_err();
        assert!(error.line.is_some_and(|line| line >= 2), "{error:?}");
        assert!(
            read("---\n- a\n---\n")
                .unwrap_err()
                .message
                .contains("mapping")
        );
        assert!(
            decode(&[b'-', 0xff, 0xfe])
                .unwrap_err()
                .message
                .contains("UTF-8")
        );
    }
}
