//! The Stripe events the webhook understands, read from the JSON Stripe sends (its own field
//! names, in the shapes of both older and newer API versions).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

/// A verified event, parsed.
#[derive(Debug)]
pub struct Event {
    pub id: String,
    pub event_type: String,
    /// When Stripe created the event: orders subscription changes delivered out of order.
    pub created: DateTime<Utc>,
    pub object: EventObject,
}

/// The `data.object` of the event types we apply.
#[derive(Debug)]
pub enum EventObject {
    /// `checkout.session.completed` and `checkout.session.async_payment_succeeded`.
    CheckoutCompleted(CheckoutSession),
    /// `customer.subscription.created` / `.updated` / `.deleted`.
    Subscription {
        deleted: bool,
        subscription: Subscription,
    },
    /// `invoice.paid` and `invoice.payment_failed`.
    Invoice { failed: bool, invoice: Invoice },
    /// An event of a type we apply whose object we cannot read (a field missing, a number out
    /// of range). Stripe signed it, so it will never read differently: recorded as rejected
    /// and acknowledged, rather than refused and retried for days.
    Unreadable(String),
    /// Anything else: acknowledged and ignored.
    Other,
}

#[derive(Debug, Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    created: i64,
    data: EnvelopeData,
}

#[derive(Debug, Deserialize)]
struct EnvelopeData {
    object: Value,
}

/// A Stripe reference that may be a bare id or an expanded object.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Expandable {
    Id(String),
    Object { id: String },
}

impl Expandable {
    pub fn id(&self) -> &str {
        match self {
            Self::Id(id) | Self::Object { id } => id,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    pub mode: Option<String>,
    pub customer: Option<Expandable>,
    pub client_reference_id: Option<String>,
    #[serde(default)]
    pub metadata: Value,
    pub payment_status: Option<String>,
    pub subscription: Option<Expandable>,
}

#[derive(Debug, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub customer: Option<Expandable>,
    pub status: Option<String>,
    pub cancel_at_period_end: Option<bool>,
    /// On the subscription up to API version 2025-03-31; on its items from then on.
    pub current_period_start: Option<i64>,
    pub current_period_end: Option<i64>,
    pub items: Option<List<SubscriptionItem>>,
    #[serde(default)]
    pub metadata: Value,
}

#[derive(Debug, Deserialize)]
pub struct List<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
}

#[derive(Debug, Deserialize)]
pub struct SubscriptionItem {
    pub price: Option<Price>,
    pub current_period_start: Option<i64>,
    pub current_period_end: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct Price {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub customer: Option<Expandable>,
    pub status: Option<String>,
    pub currency: Option<String>,
    pub amount_due: Option<i64>,
    pub amount_paid: Option<i64>,
    pub hosted_invoice_url: Option<String>,
    pub period_start: Option<i64>,
    pub period_end: Option<i64>,
    pub created: Option<i64>,
    #[serde(default)]
    pub metadata: Value,
    /// Older API versions: the subscription's metadata at invoicing time.
    #[serde(default)]
    pub subscription_details: Value,
    /// Newer API versions move it to `parent.subscription_details`.
    #[serde(default)]
    pub parent: Value,
}

impl Event {
    /// Parses a (verified) body. A body that is not an event is an error; an applied event type
    /// whose object we cannot read is [`EventObject::Unreadable`].
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        let envelope: Envelope = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        if envelope.id.is_empty() {
            return Err("the event has no id".into());
        }
        let created = timestamp(Some(envelope.created))
            .ok_or_else(|| "the event's created time is out of range".to_owned())?;
        let object = envelope.data.object;
        let parsed = match envelope.event_type.as_str() {
            "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
                from_object(object).map(EventObject::CheckoutCompleted)
            }
            "customer.subscription.created" | "customer.subscription.updated" => {
                from_object(object).map(|subscription| EventObject::Subscription {
                    deleted: false,
                    subscription,
                })
            }
            "customer.subscription.deleted" => {
                from_object(object).map(|subscription| EventObject::Subscription {
                    deleted: true,
                    subscription,
                })
            }
            "invoice.paid" => from_object(object).map(|invoice| EventObject::Invoice {
                failed: false,
                invoice,
            }),
            "invoice.payment_failed" => from_object(object).map(|invoice| EventObject::Invoice {
                failed: true,
                invoice,
            }),
            _ => Ok(EventObject::Other),
        };
        Ok(Self {
            id: envelope.id,
            event_type: envelope.event_type,
            created,
            object: parsed.unwrap_or_else(EventObject::Unreadable),
        })
    }
}

fn from_object<T: serde::de::DeserializeOwned>(object: Value) -> Result<T, String> {
    serde_json::from_value(object).map_err(|e| format!("data.object: {e}"))
}

pub(super) fn timestamp(seconds: Option<i64>) -> Option<DateTime<Utc>> {
    seconds.and_then(|s| DateTime::from_timestamp(s, 0))
}

/// A metadata value as text (Stripe sends strings; numbers are taken too).
pub(super) fn meta<'a>(metadata: &'a Value, key: &str) -> Option<std::borrow::Cow<'a, str>> {
    match metadata.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(std::borrow::Cow::Borrowed(s.trim())),
        Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
        _ => None,
    }
}

pub(super) fn meta_uuid(metadata: &Value, key: &str) -> Option<Uuid> {
    meta(metadata, key).and_then(|s| Uuid::parse_str(&s).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<Event, String> {
        Event::parse(value.to_string().as_bytes())
    }

    #[test]
    fn reads_a_subscription_of_a_newer_api_version() {
        let event = parse(json!({
            "id": "evt_1", "object": "event", "type": "customer.subscription.updated",
            "created": 1_750_000_000, "api_version": "2025-03-31.basil",
            "data": { "object": {
                "id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "active",
                "cancel_at_period_end": true, "metadata": {},
                "items": { "object": "list", "data": [{
                    "id": "si_1", "price": { "id": "price_pro" },
                    "current_period_start": 1_750_000_000, "current_period_end": 1_752_592_000
                }]}
            }}
        }))
        .unwrap();
        let EventObject::Subscription {
            deleted,
            subscription,
        } = event.object
        else {
            panic!("a subscription event");
        };
        assert!(!deleted);
        assert_eq!(
            subscription.customer.as_ref().map(Expandable::id),
            Some("cus_1")
        );
        assert_eq!(subscription.current_period_end, None);
        let item = &subscription.items.as_ref().unwrap().data[0];
        assert_eq!(item.price.as_ref().unwrap().id, "price_pro");
        assert_eq!(item.current_period_end, Some(1_752_592_000));
    }

    #[test]
    fn reads_metadata_strings_and_expanded_customers() {
        let event = parse(json!({
            "id": "evt_2", "type": "checkout.session.completed", "created": 1_750_000_000,
            "data": { "object": {
                "id": "cs_1", "mode": "payment", "payment_status": "paid",
                "customer": { "id": "cus_9", "object": "customer" },
                "client_reference_id": null, "subscription": null,
                "metadata": { "kind": "tokens", "brainbits": "500", "tenant_id": "not-a-uuid" }
            }}
        }))
        .unwrap();
        let EventObject::CheckoutCompleted(session) = event.object else {
            panic!("a checkout event");
        };
        assert_eq!(session.customer.as_ref().map(Expandable::id), Some("cus_9"));
        assert_eq!(meta(&session.metadata, "brainbits").as_deref(), Some("500"));
        assert_eq!(meta_uuid(&session.metadata, "tenant_id"), None);
    }

    #[test]
    fn unknown_types_parse_without_looking_at_the_object() {
        let event = parse(json!({
            "id": "evt_3", "type": "payment_intent.created", "created": 1,
            "data": { "object": { "whatever": [1, 2, 3] } }
        }))
        .unwrap();
        assert!(matches!(event.object, EventObject::Other));
    }

    #[test]
    fn bodies_that_are_not_events_are_refused() {
        assert!(Event::parse(b"not json").is_err());
        assert!(parse(json!({ "id": "evt_4", "type": "invoice.paid" })).is_err());
        assert!(
            parse(json!({
                "id": "", "type": "invoice.paid", "created": 1, "data": { "object": {} }
            }))
            .is_err()
        );
    }

    #[test]
    fn an_applied_type_whose_object_cannot_be_read_is_unreadable_not_refused() {
        // Its id missing; an amount no integer holds.
        for object in [
            json!({ "status": "paid" }),
            json!({ "id": "in_1", "amount_due": 1e30 }),
        ] {
            let event = parse(json!({
                "id": "evt_5", "type": "invoice.paid", "created": 1, "data": { "object": object }
            }))
            .unwrap();
            assert!(
                matches!(event.object, EventObject::Unreadable(_)),
                "{event:?}"
            );
        }
    }
}
