//! Bounds that keep bad or heavy traffic from taking the server down: the request body
//! size, header and body read timeouts, and a bound on concurrent requests with a waiting
//! queue beyond which requests are refused with 503 and `Retry-After`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::ServeError;

/// The server's limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest request body, in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// How long a client may take to send its request headers (the connection is closed
    /// beyond).
    pub header_timeout: Duration,
    /// How long a client may take to send its request body (408 beyond).
    pub body_timeout: Duration,
    /// Requests handled at once.
    pub max_concurrency: usize,
    /// Requests that may wait for a slot; more are refused at once with 503.
    pub queue: usize,
    /// How long a request may wait for a slot before a 503.
    pub queue_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 16 << 20,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_concurrency: 256,
            queue: 1024,
            queue_timeout: Duration::from_secs(5),
        }
    }
}

/// The bound on concurrent requests.
#[derive(Debug)]
pub struct Gate {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    queue_timeout: Duration,
}

impl Gate {
    /// A gate of `limits.max_concurrency` slots and `limits.queue` places to wait.
    pub fn new(limits: &Limits) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(limits.max_concurrency.max(1))),
            waiting: AtomicUsize::new(0),
            queue: limits.queue,
            queue_timeout: limits.queue_timeout,
        }
    }

    /// A slot, held until the permit drops; 503 with `Retry-After` when every slot is taken
    /// and the queue is full, or the wait is too long.
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit, ServeError> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(ServeError::overloaded(1));
        }
        let permit =
            tokio::time::timeout(self.queue_timeout, self.slots.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        match permit {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ServeError::overloaded(1)),
        }
    }
}
