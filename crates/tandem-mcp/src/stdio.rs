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

pub struct StdioLines {
    incoming: mpsc::UnboundedReceiver<RxJsonRpcMessage<RoleServer>>,
    outgoing: std_mpsc::Sender<Vec<u8>>,
}

impl StdioLines {
    /// Serves the process's own stdin and stdout.
    pub fn process() -> Self {
        Self::new(std::io::stdin(), std::io::stdout())
    }

    pub fn new(
        input: impl std::io::Read + Send + 'static,
        output: impl Write + Send + 'static,
    ) -> Self {
        let (out_tx, out_rx) = std_mpsc::channel::<Vec<u8>>();
        let (in_tx, in_rx) = mpsc::unbounded_channel();
        let replies = out_tx.clone();
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
            outgoing: out_tx,
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
    messages: mpsc::UnboundedSender<RxJsonRpcMessage<RoleServer>>,
    replies: std_mpsc::Sender<Vec<u8>>,
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
            let _ = replies.send(error_line(
                Value::Null,
                -32600,
                &format!("Invalid Request: message longer than {MAX_LINE_BYTES} bytes"),
            ));
            continue;
        }
        let text = trim_line(&line);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse(text) {
            Ok(message) => {
                if messages.send(message).is_err() {
                    return;
                }
            }
            Err(reply) => {
                if replies.send(reply).is_err() {
                    return;
                }
            }
        }
    }
}

fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
}

/// A message, or the error reply to send for this line.
fn parse(text: &[u8]) -> Result<RxJsonRpcMessage<RoleServer>, Vec<u8>> {
    let value: Value = serde_json::from_slice(text)
        .map_err(|e| error_line(Value::Null, -32700, &format!("Parse error: {e}")))?;
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

fn error_line(id: Value, code: i64, message: &str) -> Vec<u8> {
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
                self.outgoing.send(line).map_err(|_| Closed)
            }
            Err(e) => {
                tracing::error!("serializing an outgoing message: {e}");
                Ok(())
            }
        };
        std::future::ready(result)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        self.incoming.recv().await
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.incoming.close();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_gets_a_parse_error_with_null_id() {
        let reply = parse(b"{not json").unwrap_err();
        let v: Value = serde_json::from_slice(&reply).unwrap();
        assert_eq!(v["error"]["code"], -32700);
        assert_eq!(v["id"], Value::Null);
    }

    #[test]
    fn json_that_is_not_a_message_is_an_invalid_request() {
        let reply = parse(br#"{"jsonrpc":"2.0","id":7,"method":42}"#).unwrap_err();
        let v: Value = serde_json::from_slice(&reply).unwrap();
        assert_eq!(v["error"]["code"], -32600);
        assert_eq!(v["id"], 7);
    }

    #[test]
    fn a_ping_parses() {
        parse(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap();
    }
}
