//! Pushes resource changes to connected clients: `notifications/resources/list_changed` to
//! every session and `notifications/resources/updated` for the URIs a session subscribed to.
//! One process-wide broadcast feeds every session (the HTTP hub serves many).

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

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

/// Forwards events to a session that completed `initialize`, until the session ends.
pub fn forward_to_session(peer: Peer<RoleServer>, events: &EventSender, subs: Subscriptions) {
    let mut rx = events.subscribe();
    tokio::spawn(async move {
        loop {
            let event = match rx.recv().await {
                Ok(event) => event,
                Err(broadcast::error::RecvError::Lagged(_)) => Arc::new(ResourceEvent::default()),
                Err(broadcast::error::RecvError::Closed) => return,
            };
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

/// What a `subscriptions/listen` request may receive from these servers.
pub fn accepted_filter(requested: &SubscriptionFilter) -> SubscriptionFilter {
    let mut filter = SubscriptionFilter::default();
    filter.resources_list_changed = requested.resources_list_changed;
    filter.resource_subscriptions = requested.resource_subscriptions.clone();
    filter
}

/// Serves one `subscriptions/listen` stream (protocol 2026-07-28 and later).
pub async fn listen(context: SubscriptionContext, events: &EventSender) -> Result<(), ErrorData> {
    let mut rx = events.subscribe();
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
            event = rx.recv() => {
                let event = match event {
                    Ok(event) => event,
                    Err(broadcast::error::RecvError::Lagged(_)) => Arc::new(ResourceEvent::default()),
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                };
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
