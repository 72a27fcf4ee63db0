//! The error every handler returns: an HTTP status and a message, sent as
//! `{"error": "..."}`.

use crate::error::Error;

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeError {
    /// The HTTP status code.
    pub status: u16,
    /// What was wrong, for the client.
    pub message: String,
    /// Seconds after which the client may retry (sent as `Retry-After`).
    pub retry_after: Option<u32>,
}

impl ServeError {
    /// An error with `status`.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400: the request is malformed or does not fit the model.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// 404: no such model or route.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, message)
    }

    /// 500: a fault of the server.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, message)
    }

    /// 503 with `Retry-After`: the server is at its bound of concurrent requests.
    pub fn overloaded(retry_after: u32) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                503,
                "the server is at its bound of concurrent requests; retry later",
            )
        }
    }

    /// The JSON body `{"error": message}`.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({ "error": self.message }))
            .unwrap_or_else(|_| b"{\"error\":\"error\"}".to_vec())
    }
}

impl From<Error> for ServeError {
    /// A library error from a prediction: the input did not fit the model (400).
    fn from(e: Error) -> Self {
        Self::bad_request(e.to_string())
    }
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}
