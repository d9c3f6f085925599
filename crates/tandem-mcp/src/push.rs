//! Pushes resource changes to connected clients: `notifications/resources/list_changed` to
//! every session and `notifications/resources/updated` for the URIs a session subscribed to.
//! One process-wide broadcast feeds every session (the HTTP hub serves many).

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use futures::{Stream, StreamExt};
use rmcp::{
    ErrorData, Peer, RoleServer,
    model::{ResourceUpdatedNotificationParam, SubscriptionFilter},
    service::SubscriptionContext,
};
use tokio::sync::broadcast;

/// What changed: the URIs of resources that were written or removed.
#[derive(Debug, Clone, Default)]
pub struct ResourceEvent {
    pub uris: Vec<String>,
}

pub type EventSender = broadcast::Sender<Arc<ResourceEvent>>;

pub fn channel() -> EventSender {
    broadcast::channel(256).0
}

/// The URIs one session asked to hear about (`resources/subscribe`).
#[derive(Debug, Clone, Default)]
pub struct Subscriptions(Arc<Mutex<HashSet<String>>>);

impl Subscriptions {
    pub fn add(&self, uri: String) {
        self.lock().insert(uri);
    }

    pub fn remove(&self, uri: &str) {
        self.lock().remove(uri);
    }

    fn matching(&self, event: &ResourceEvent) -> Vec<String> {
        let subs = self.lock();
        if subs.is_empty() {
            return Vec::new();
        }
        event
            .uris
            .iter()
            .filter(|u| subs.contains(*u))
            .cloned()
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Forwards events from every source to a session that completed `initialize`, until the
/// session ends.
pub fn forward_to_session(peer: Peer<RoleServer>, events: &[&EventSender], subs: Subscriptions) {
    let mut events = merged(events);
    tokio::spawn(async move {
        while let Some(event) = events.next().await {
            if peer.is_transport_closed() {
                return;
            }
            if peer.notify_resource_list_changed().await.is_err() {
                return;
            }
            for uri in subs.matching(&event) {
                let param = ResourceUpdatedNotificationParam::new(uri);
                if peer.notify_resource_updated(param).await.is_err() {
                    return;
                }
            }
        }
    });
}

/// The events of every source as one stream. A receiver that fell behind yields an empty
/// event (the list changed, which URIs is unknown); the stream ends when every source closed.
fn merged(
    events: &[&EventSender],
) -> impl Stream<Item = Arc<ResourceEvent>> + Send + Unpin + use<> {
    futures::stream::select_all(events.iter().map(|sender| {
        Box::pin(futures::stream::unfold(
            sender.subscribe(),
            |mut rx| async move {
                match rx.recv().await {
                    Ok(event) => Some((event, rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        Some((Arc::new(ResourceEvent::default()), rx))
                    }
                    Err(broadcast::error::RecvError::Closed) => None,
                }
            },
        ))
    }))
}

/// What a `subscriptions/listen` request may receive from these servers.
pub fn accepted_filter(requested: &SubscriptionFilter) -> SubscriptionFilter {
    let mut filter = SubscriptionFilter::default();
    filter.resources_list_changed = requested.resources_list_changed;
    filter.resource_subscriptions = requested.resource_subscriptions.clone();
    filter
}

/// Serves one `subscriptions/listen` stream (protocol 2026-07-28 and later) from every source.
pub async fn listen(
    context: SubscriptionContext,
    events: &[&EventSender],
) -> Result<(), ErrorData> {
    let mut events = merged(events);
    let list_changed = context.accepted().resources_list_changed == Some(true);
    let uris: HashSet<String> = context
        .accepted()
        .resource_subscriptions
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    loop {
        tokio::select! {
            () = context.cancelled() => return Ok(()),
            event = events.next() => {
                let Some(event) = event else { return Ok(()) };
                let sink = context.sink();
                if list_changed && sink.notify_resource_list_changed().await.is_err() {
                    return Ok(());
                }
                for uri in event.uris.iter().filter(|u| uris.contains(*u)) {
                    if sink.notify_resource_updated(uri.clone()).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
}
