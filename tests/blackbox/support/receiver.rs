//! A recording HTTP server on loopback, standing in for what hooks call
//! (webhook receivers, Airflow).

#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
    /// The body as sent.
    pub raw: Vec<u8>,
}

/// How a receiver answers a request (method, target): status line and
/// body.
pub type Responder = fn(&str, &str) -> (&'static str, String);

/// A real HTTP server on loopback that records what hooks send and answers
/// as its [`Responder`] says.
pub struct Receiver {
    pub url: String,
    got: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
}

/// `/fail` answers 500, `/slow` answers after 3 s, anything else 200.
fn plain(_method: &str, target: &str) -> (&'static str, String) {
    if target.starts_with("/fail") {
        ("500 Internal Server Error", "handled".into())
    } else {
        ("200 OK", "handled".into())
    }
}

impl Receiver {
    /// A receiver answering 500 on `/fail`, after 3 s on `/slow`, 200
    /// otherwise.
    pub async fn start() -> Self {
        Self::start_with(plain).await
    }

    /// A receiver answering with `respond`.
    pub async fn start_with(respond: Responder) -> Self {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = got.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut reader = BufReader::new(stream);
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut words = line.split_whitespace();
                    let method = words.next().unwrap_or("").to_owned();
                    let target = words.next().unwrap_or("").to_owned();
                    let mut headers = Vec::new();
                    let mut length = 0usize;
                    loop {
                        let mut h = String::new();
                        reader.read_line(&mut h).await.unwrap();
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_owned());
                            if k == "content-length" {
                                length = v.parse().unwrap();
                            }
                            headers.push((k, v));
                        }
                    }
                    let mut body = vec![0u8; length];
                    reader.read_exact(&mut body).await.unwrap();
                    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                    seen.lock().unwrap().push(Received {
                        method: method.clone(),
                        target: target.clone(),
                        headers,
                        body: json,
                        raw: body,
                    });
                    if target.starts_with("/slow") {
                        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
                    }
                    let (status, text) = respond(&method, &target);
                    let answer = format!(
                        "HTTP/1.1 {status}\r\ncontent-length: {}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n{text}",
                        text.len()
                    );
                    let _ = reader.get_mut().write_all(answer.as_bytes()).await;
                });
            }
        });
        Self { url, got }
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}
