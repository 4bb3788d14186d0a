//! Streams as providers frame them: lines of newline-delimited JSON (Ollama) and server-sent
//! events (OpenAI, Anthropic), cut from the body's chunks wherever those chunks happen to end.
//! Both are bounded: a line or an event longer than the limit is an error, not a buffer that
//! grows with whatever a server sends.

use super::model::LlmError;

/// The longest line or event accepted from a provider (a streamed chunk is a few hundred
/// bytes; a whole non-streamed answer fits too).
pub const MAX_FRAME_BYTES: usize = 1024 * 1024;

/// Cuts a byte stream into lines (`\n`, with a `\r` before it dropped).
#[derive(Default)]
pub struct Lines {
    pending: Vec<u8>,
}

impl Lines {
    /// Every line `chunk` completes, in order.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<String>, LlmError> {
        let mut lines = Vec::new();
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.push(&rest[..end])?;
            lines.push(self.take()?);
            rest = &rest[end + 1..];
        }
        self.push(rest)?;
        Ok(lines)
    }

    /// What is left when the stream ends: a last line without its newline, if any.
    pub fn finish(&mut self) -> Result<Option<String>, LlmError> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        self.take().map(Some)
    }

    fn push(&mut self, bytes: &[u8]) -> Result<(), LlmError> {
        if self.pending.len() + bytes.len() > MAX_FRAME_BYTES {
            return Err(LlmError::Malformed(format!(
                "a line of the stream is longer than {} KiB",
                MAX_FRAME_BYTES / 1024
            )));
        }
        self.pending.extend_from_slice(bytes);
        Ok(())
    }

    fn take(&mut self) -> Result<String, LlmError> {
        let mut line = std::mem::take(&mut self.pending);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        String::from_utf8(line)
            .map_err(|_| LlmError::Malformed("the stream is not UTF-8 text".into()))
    }
}

/// One server-sent event: its `event:` name (None for the default, `message`) and its data
/// lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub name: Option<String>,
    pub data: String,
}

/// Assembles server-sent events from a byte stream (the WHATWG rules: `field: value` lines,
/// `:` comments, a blank line dispatches; `id` and `retry` are read and ignored).
#[derive(Default)]
pub struct SseDecoder {
    lines: Lines,
    name: Option<String>,
    data: Option<String>,
}

impl SseDecoder {
    /// Every event `chunk` completes, in order.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Event>, LlmError> {
        let mut events = Vec::new();
        for line in self.lines.feed(chunk)? {
            if let Some(event) = self.line(&line)? {
                events.push(event);
            }
        }
        Ok(events)
    }

    /// The stream ended: an event its last blank line never completed is dropped, as the
    /// WHATWG rules say (a connection cut mid-event must not pass for a whole one).
    pub fn finish(&mut self) {
        self.lines = Lines::default();
        self.name = None;
        self.data = None;
    }

    fn line(&mut self, line: &str) -> Result<Option<Event>, LlmError> {
        if line.is_empty() {
            return Ok(self.dispatch());
        }
        if line.starts_with(':') {
            return Ok(None);
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.name = Some(value.to_owned()),
            "data" => {
                let data = self.data.get_or_insert_with(String::new);
                if data.len() + value.len() + 1 > MAX_FRAME_BYTES {
                    return Err(LlmError::Malformed(format!(
                        "an event of the stream is longer than {} KiB",
                        MAX_FRAME_BYTES / 1024
                    )));
                }
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(value);
            }
            _ => {}
        }
        Ok(None)
    }

    /// An event with no data, or only empty data, is not dispatched (WHATWG).
    fn dispatch(&mut self) -> Option<Event> {
        let name = self.name.take();
        self.data
            .take()
            .filter(|data| !data.is_empty())
            .map(|data| Event { name, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_cut_anywhere_come_out_whole() {
        let stream = b": keep-alive\r\nevent: message_start\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\ndata: [DONE]\n\n";
        for cut in 0..stream.len() {
            let mut decoder = SseDecoder::default();
            let mut events = decoder.feed(&stream[..cut]).unwrap();
            events.extend(decoder.feed(&stream[cut..]).unwrap());
            assert_eq!(
                events,
                vec![
                    Event {
                        name: Some("message_start".into()),
                        data: "{\"a\":\n1}".into()
                    },
                    Event {
                        name: None,
                        data: "[DONE]".into()
                    },
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn an_event_cut_off_by_the_end_of_the_stream_is_dropped() {
        let mut decoder = SseDecoder::default();
        assert_eq!(
            decoder
                .feed(b"data: {\"a\":1}\n\ndata: {\"b\"")
                .unwrap()
                .len(),
            1
        );
        decoder.finish();
        assert!(decoder.feed(b"\n\n").unwrap().is_empty());
    }

    #[test]
    fn an_endless_line_is_refused() {
        let mut lines = Lines::default();
        let chunk = vec![b'x'; 64 * 1024];
        let mut failed = false;
        for _ in 0..(MAX_FRAME_BYTES / chunk.len() + 1) {
            if lines.feed(&chunk).is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed);
    }

    #[test]
    fn a_last_line_without_newline_is_kept() {
        let mut lines = Lines::default();
        assert_eq!(lines.feed(b"{\"done\":false}\n{\"done\"").unwrap().len(), 1);
        assert_eq!(lines.feed(b":true}").unwrap().len(), 0);
        assert_eq!(lines.finish().unwrap().as_deref(), Some("{\"done\":true}"));
    }
}
