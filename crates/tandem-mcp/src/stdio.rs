//! MCP over stdio, one JSON-RPC message per line. Unlike rmcp's own stdio transport, a line
//! that is not JSON gets a JSON-RPC parse error (`id: null`, -32700) and one that is JSON but
//! not a message gets -32600; either way the server goes on serving.
//!
//! Reading and writing run on two plain threads: a blocked pipe never stalls the runtime, and
//! replies leave in the order they were produced.

use std::{
    borrow::Cow,
    io::{BufRead, Read, Write},
    sync::mpsc as std_mpsc,
};

use rmcp::{
    RoleServer,
    service::{RxJsonRpcMessage, TxJsonRpcMessage},
    transport::Transport,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// Longest line accepted (a 1 MiB value can grow several-fold once escaped).
pub const MAX_LINE_BYTES: usize = 32 * 1024 * 1024;

/// JSON values read from one line each, and a writer for replies: the raw layer under
/// [`StdioLines`], also used as-is by the stdio ↔ HTTP bridge.
pub struct RawLines {
    pub incoming: mpsc::UnboundedReceiver<Value>,
    pub out: LineWriter,
}

/// Queues whole lines for stdout; cheap to clone.
#[derive(Clone)]
pub struct LineWriter(std_mpsc::Sender<Vec<u8>>);

impl LineWriter {
    /// Queues one message; false when stdout is gone.
    pub fn send(&self, message: &Value) -> bool {
        match serde_json::to_vec(message) {
            Ok(mut line) => {
                line.push(b'\n');
                self.0.send(line).is_ok()
            }
            Err(_) => true,
        }
    }

    fn send_line(&self, line: Vec<u8>) -> bool {
        self.0.send(line).is_ok()
    }
}

impl RawLines {
    /// The process's own stdin and stdout.
    pub fn process() -> Self {
        Self::new(std::io::stdin(), std::io::stdout())
    }

    pub fn new(
        input: impl std::io::Read + Send + 'static,
        output: impl Write + Send + 'static,
    ) -> Self {
        let (out_tx, out_rx) = std_mpsc::channel::<Vec<u8>>();
        let (in_tx, in_rx) = mpsc::unbounded_channel();
        let out = LineWriter(out_tx);
        let replies = out.clone();
        std::thread::Builder::new()
            .name("mcp-stdout".into())
            .spawn(move || write_lines(output, out_rx))
            .ok();
        std::thread::Builder::new()
            .name("mcp-stdin".into())
            .spawn(move || read_lines(input, in_tx, replies))
            .ok();
        Self {
            incoming: in_rx,
            out,
        }
    }
}

/// The rmcp transport: [`RawLines`] plus typed messages; JSON that is not a JSON-RPC message
/// gets -32600 and is skipped.
pub struct StdioLines {
    raw: RawLines,
}

impl StdioLines {
    /// Serves the process's own stdin and stdout.
    pub fn process() -> Self {
        Self {
            raw: RawLines::process(),
        }
    }

    pub fn new(
        input: impl std::io::Read + Send + 'static,
        output: impl Write + Send + 'static,
    ) -> Self {
        Self {
            raw: RawLines::new(input, output),
        }
    }
}

fn write_lines(output: impl Write, lines: std_mpsc::Receiver<Vec<u8>>) {
    let mut out = std::io::BufWriter::new(output);
    while let Ok(line) = lines.recv() {
        if out.write_all(&line).is_err() {
            return;
        }
        // Write whatever else is already queued before paying for a flush.
        while let Ok(more) = lines.try_recv() {
            if out.write_all(&more).is_err() {
                return;
            }
        }
        if out.flush().is_err() {
            return;
        }
    }
}

fn read_lines(
    input: impl std::io::Read,
    messages: mpsc::UnboundedSender<Value>,
    replies: LineWriter,
) {
    let mut input = std::io::BufReader::with_capacity(64 * 1024, input);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut input)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line);
        match read {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if line.len() > MAX_LINE_BYTES && !line.ends_with(b"\n") {
            // Skip the rest of the oversized line.
            let mut sink = Vec::new();
            if input.read_until(b'\n', &mut sink).is_err() {
                return;
            }
            let reply = error_line(
                Value::Null,
                -32600,
                &format!("Invalid Request: message longer than {MAX_LINE_BYTES} bytes"),
            );
            if !replies.send_line(reply) {
                return;
            }
            continue;
        }
        let text = trim_line(&line);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let delivered = match serde_json::from_slice::<Value>(text) {
            Ok(value) => messages.send(value).is_ok(),
            Err(e) => replies.send_line(error_line(
                Value::Null,
                -32700,
                &format!("Parse error: {e}"),
            )),
        };
        if !delivered {
            return;
        }
    }
}

fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
}

/// The typed message, or the -32600 reply for JSON that is not one.
fn parse(value: Value) -> Result<RxJsonRpcMessage<RoleServer>, Vec<u8>> {
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    let is_request = value.get("method").is_some() && value.get("id").is_some();
    serde_json::from_value::<RxJsonRpcMessage<RoleServer>>(value).map_err(|e| {
        let id = if is_request || id.is_string() || id.is_number() {
            id
        } else {
            Value::Null
        };
        error_line(id, -32600, &format!("Invalid Request: {e}"))
    })
}

pub(crate) fn error_line(id: Value, code: i64, message: &str) -> Vec<u8> {
    let mut line = serde_json::to_vec(&json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": code, "message": message},
    }))
    .unwrap_or_default();
    line.push(b'\n');
    line
}

#[derive(Debug, thiserror::Error)]
#[error("stdout is closed")]
pub struct Closed;

impl Transport<RoleServer> for StdioLines {
    type Error = Closed;

    fn name() -> Cow<'static, str> {
        "stdio".into()
    }

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let result = match serde_json::to_vec(&item) {
            Ok(mut line) => {
                line.push(b'\n');
                if self.raw.out.send_line(line) {
                    Ok(())
                } else {
                    Err(Closed)
                }
            }
            Err(e) => {
                tracing::error!("serializing an outgoing message: {e}");
                Ok(())
            }
        };
        std::future::ready(result)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        loop {
            let value = self.raw.incoming.recv().await?;
            match parse(value) {
                Ok(message) => return Some(message),
                Err(reply) => {
                    self.raw.out.send_line(reply);
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.raw.incoming.close();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_gets_a_parse_error_with_null_id() {
        let (out, lines) = std_mpsc::channel();
        let (tx, _rx) = mpsc::unbounded_channel();
        read_lines(&b"{not json\n"[..], tx, LineWriter(out));
        let v: Value = serde_json::from_slice(&lines.recv().unwrap()).unwrap();
        assert_eq!(v["error"]["code"], -32700);
        assert_eq!(v["id"], Value::Null);
    }

    #[test]
    fn json_that_is_not_a_message_is_an_invalid_request() {
        let reply = parse(json!({"jsonrpc":"2.0","id":7,"method":42})).unwrap_err();
        let v: Value = serde_json::from_slice(&reply).unwrap();
        assert_eq!(v["error"]["code"], -32600);
        assert_eq!(v["id"], 7);
    }

    #[test]
    fn a_ping_parses() {
        parse(json!({"jsonrpc":"2.0","id":1,"method":"ping"})).unwrap();
    }
}
