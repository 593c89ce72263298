//! Errors the HTTP layer answers itself, before any handler runs: hyper
//! writes `400` (unparseable), `414` (URI too long) and `431` (headers too
//! large or too many) with an empty body. Every error hookline gives is JSON,
//! so the connection's writer swaps such an answer for one with a JSON body
//! in both of hookline's error shapes (`error`, and `code` with `detail`).

/// The answer to write instead of `head`, if `head` is one of hyper's own
/// empty error answers (hookline's handlers never answer these empty).
pub fn rewrite(head: &[u8]) -> Option<Vec<u8>> {
    let (status, code, detail) = match head.get(..13)? {
        b"HTTP/1.1 400 " => (
            400,
            "bad_request",
            "The request could not be parsed as HTTP.",
        ),
        b"HTTP/1.1 414 " => (414, "uri_too_long", "The request's URI is too long."),
        b"HTTP/1.1 431 " => (
            431,
            "headers_too_large",
            "The request's headers are too large or too many.",
        ),
        _ => return None,
    };
    let end = find(head, b"\r\n\r\n")? + 4;
    let empty = b"\r\ncontent-length: 0\r\n";
    let at = find(&head[..end], empty)?;
    let body = serde_json::json!({ "error": detail, "code": code, "detail": detail }).to_string();
    let mut out = Vec::with_capacity(end + body.len() + 64);
    out.extend_from_slice(&head[..at]);
    out.extend_from_slice(
        format!(
            "\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&head[at + empty.len()..end]);
    out.extend_from_slice(body.as_bytes());
    out.extend_from_slice(&head[end..]);
    tracing::debug!(status, "answered an unparseable request");
    Some(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_error_gets_a_json_body_and_the_rest_is_kept() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let out = String::from_utf8(rewrite(head).unwrap()).unwrap();
        let (h, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(
            h.contains("connection: close\r\ncontent-type: application/json\r\ncontent-length: ")
        );
        assert!(h.ends_with("date: x"));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["code"], "headers_too_large");
        assert!(
            rewrite(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n{\"a\":1}").is_none()
        );
        assert!(rewrite(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
    }
}
