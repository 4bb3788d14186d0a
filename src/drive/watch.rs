//! Drive's push channels (`changes.watch`): opened per member with an unguessable id and token,
//! renewed before they end, stopped on request; and Google's notifications to
//! `POST /api/drive/webhook`, believed only for a live channel whose token matches, taken in
//! message order, each handed to the sync worker's queue.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use uuid::Uuid;

use super::connection::{not_connected, with_drive};
use super::store;
use super::sync_store::{self, ChannelRow};
use crate::auth::tokens::{constant_time_eq, random_token};
use crate::auth::viewer::ClientInfo;
use crate::auth::{Role, Viewer};
use crate::context::Platform;
use crate::error::{AppError, AppResult};

/// Opens a channel for the viewer's Drive (the chosen folder's changes reach the sync worker
/// within seconds instead of at its next round); a live one is replaced.
pub async fn register(
    platform: &Platform,
    viewer: &Viewer,
    client: &ClientInfo,
) -> AppResult<ChannelRow> {
    viewer.require_role(Role::Worldbuilder)?;
    let address = format!("{}/api/drive/webhook", platform.public_base(client)?);
    open(platform, viewer.tenant_id, viewer.user_id, &address).await
}

async fn open(
    platform: &Platform,
    tenant_id: Uuid,
    user_id: Uuid,
    address: &str,
) -> AppResult<ChannelRow> {
    let mut conn = platform.pool.get().await?;
    let connection = store::find(&mut conn, tenant_id, user_id)
        .await?
        .ok_or_else(not_connected)?;
    if connection.folder_id.is_none() {
        return Err(AppError::bad_input(
            "choose a Drive folder first (selectDriveFolder)",
        ));
    }
    drop(conn);
    let id = random_token(24);
    let token = random_token(32);
    let expires_at = Utc::now()
        + ChronoDuration::from_std(platform.config.drive.channel_ttl)
            .map_err(AppError::internal)?;
    let channel = with_drive(platform, tenant_id, user_id, async |drive| {
        let page_token = match connection.page_token.clone() {
            Some(token) => token,
            None => drive.start_page_token().await?,
        };
        drive
            .watch(
                &page_token,
                &id,
                address,
                &token,
                expires_at.timestamp_millis(),
            )
            .await
    })
    .await?;
    // Google may grant less time than asked.
    let granted = channel
        .expiration
        .as_deref()
        .and_then(|ms| ms.parse::<i64>().ok())
        .and_then(DateTime::from_timestamp_millis)
        .map_or(expires_at, |at| at.min(expires_at));
    let row = ChannelRow {
        tenant_id,
        id,
        user_id,
        token,
        address: address.to_owned(),
        resource_id: channel.resource_id,
        expires_at: granted,
        stopped_at: None,
        last_message: 0,
        created_at: Utc::now(),
    };
    // The member's open channels end here first (one open channel per member), then at
    // Google.
    let mut conn = platform.pool.get().await?;
    let previous = sync_store::close_open_channels(&mut conn, tenant_id, user_id).await?;
    let inserted = sync_store::insert_channel(&mut conn, &row).await;
    drop(conn);
    for channel in &previous {
        stop_at_google(platform, channel).await;
    }
    if inserted.is_err() {
        // Another registration won the race: this channel ends at Google too.
        stop_at_google(platform, &row).await;
    }
    inserted.map(|()| row)
}

/// Closes a channel at Google (best effort: an unreachable Google only delays its end; it was
/// closed here already, so its notifications are refused from now on).
async fn stop_at_google(platform: &Platform, channel: &ChannelRow) {
    if let Some(resource_id) = &channel.resource_id {
        let stopped = with_drive(
            platform,
            channel.tenant_id,
            channel.user_id,
            async |drive| drive.stop(&channel.id, resource_id).await,
        )
        .await;
        if let Err(error) = stopped {
            tracing::info!(error = %error.message(), "Google could not be told to stop a Drive channel; it ends by itself");
        }
    }
}

/// Stops the viewer's live channel; false when there was none.
pub async fn unregister(platform: &Platform, viewer: &Viewer) -> AppResult<bool> {
    viewer.require_role(Role::Worldbuilder)?;
    let mut conn = platform.pool.get().await?;
    let closed =
        sync_store::close_open_channels(&mut conn, viewer.tenant_id, viewer.user_id).await?;
    drop(conn);
    let live = closed.iter().any(|c| c.expires_at > Utc::now());
    for channel in &closed {
        stop_at_google(platform, channel).await;
    }
    Ok(live)
}

/// Closes every channel of a member (before their Drive is disconnected).
pub async fn close_all(platform: &Platform, tenant_id: Uuid, user_id: Uuid) -> AppResult<()> {
    let mut conn = platform.pool.get().await?;
    let closed = sync_store::close_open_channels(&mut conn, tenant_id, user_id).await?;
    drop(conn);
    for channel in &closed {
        stop_at_google(platform, channel).await;
    }
    Ok(())
}

/// The viewer's live channel.
pub async fn status(platform: &Platform, viewer: &Viewer) -> AppResult<Option<ChannelRow>> {
    viewer.require_role(Role::Worldbuilder)?;
    let mut conn = platform.pool.get().await?;
    sync_store::live_channel(&mut conn, viewer.tenant_id, viewer.user_id).await
}

/// Renews the channels that end within a tenth of their lifetime (at the address they were
/// opened with); how many.
pub async fn renew_ending(platform: &Platform) -> AppResult<usize> {
    let margin = ChronoDuration::from_std(platform.config.drive.channel_ttl / 10)
        .map_err(AppError::internal)?;
    let mut conn = platform.pool.get().await?;
    let ending = sync_store::channels_ending(&mut conn, Utc::now() + margin).await?;
    drop(conn);
    let mut renewed = 0;
    for channel in ending {
        // One node renews it: the one that closes it here first.
        let mut conn = platform.pool.get().await?;
        let claimed = sync_store::close_channel(&mut conn, channel.tenant_id, &channel.id).await?;
        drop(conn);
        if !claimed {
            continue;
        }
        let opened = open(
            platform,
            channel.tenant_id,
            channel.user_id,
            &channel.address,
        )
        .await;
        stop_at_google(platform, &channel).await;
        match opened {
            Ok(_) => renewed += 1,
            Err(error) => {
                tracing::warn!(error = %error.message(), "renewing a Drive channel failed; the next round tries again")
            }
        }
    }
    Ok(renewed)
}

/// Google's notification headers.
pub struct Notification<'a> {
    pub channel_id: &'a str,
    pub token: Option<&'a str>,
    /// `sync` (the channel was opened), `change`, ...
    pub resource_state: &'a str,
    pub message_number: Option<i64>,
}

/// Checks a notification against its channel: NOT_FOUND for an unknown, stopped or expired
/// channel or a wrong token (nothing is processed); the member to sync for a new change, or
/// None for a `sync` message or a delivery already taken (repeated, or older than one taken).
pub async fn notified(
    platform: &Platform,
    notification: Notification<'_>,
) -> AppResult<Option<(Uuid, Uuid)>> {
    let unknown = || AppError::not_found("no such channel");
    if notification.channel_id.is_empty() || notification.channel_id.len() > 128 {
        return Err(unknown());
    }
    let mut conn = platform.pool.get().await?;
    let channel = sync_store::channel_by_id(&mut conn, notification.channel_id)
        .await?
        .ok_or_else(unknown)?;
    let token_matches = notification
        .token
        .is_some_and(|token| constant_time_eq(token, &channel.token));
    if !token_matches || channel.stopped_at.is_some() || channel.expires_at <= Utc::now() {
        return Err(unknown());
    }
    if notification.resource_state == "sync" {
        return Ok(None);
    }
    let number = notification.message_number.unwrap_or(0);
    if number <= 0
        || !sync_store::take_message(&mut conn, channel.tenant_id, &channel.id, number).await?
    {
        return Ok(None);
    }
    Ok(Some((channel.tenant_id, channel.user_id)))
}
