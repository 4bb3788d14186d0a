//! The `brainbitsDeducted` stream.

use async_graphql::{Context, ID, Subscription};
use futures_util::Stream;

use super::types::BrainbitsDeducted;
use crate::context::subscriptions::tenant_events;
use crate::events::{EventPayload, kinds};

#[derive(Default)]
pub struct BillingSubscriptionRoot;

#[Subscription]
impl BillingSubscriptionRoot {
    /// Every BrainBits debit in the tenant, as it happens.
    async fn brainbits_deducted(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Resume after this `sequence` (the last one seen): what happened since \
                          is replayed first."
        )]
        since: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = BrainbitsDeducted> + use<>> {
        Ok(tenant_events(
            ctx,
            since,
            kinds::BRAINBITS_DEDUCTED,
            |event| match &event.payload {
                EventPayload::BrainbitsDeducted(debit) => Some(BrainbitsDeducted {
                    entry_id: ID(debit.entry_id.to_string()),
                    user_id: ID(debit.user_id.to_string()),
                    amount: debit.amount,
                    balance: debit.balance,
                    operation: debit.operation.clone(),
                    provider: debit.provider.clone(),
                    at: event.at,
                    sequence: ID(event.seq.to_string()),
                }),
                _ => None,
            },
        )
        .await?)
    }
}
