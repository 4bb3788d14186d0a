// @generated automatically by Diesel CLI.

diesel::table! {
    api_keys (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        user_id -> Uuid,
        name -> Text,
        prefix -> Text,
        key_hash -> Bytea,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        expires_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        parent_key_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    asset_blobs (tenant_id, sha256) {
        tenant_id -> Uuid,
        sha256 -> Text,
        size_bytes -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    asset_jobs (tenant_id, id) {
        id -> Uuid,
        tenant_id -> Uuid,
        asset_id -> Uuid,
        state -> Text,
        attempts -> Int4,
        run_after -> Timestamptz,
        lease_until -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    asset_links (tenant_id, asset_id, entity_row_id) {
        tenant_id -> Uuid,
        asset_id -> Uuid,
        entity_row_id -> Uuid,
        is_primary -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    asset_queue_pauses (tenant_id) {
        tenant_id -> Uuid,
        paused_by -> Nullable<Uuid>,
        paused_at -> Timestamptz,
    }
}

diesel::table! {
    assembly_slot_assets (tenant_id, assembly_row_id, slot_group, slot_name, variant_key) {
        tenant_id -> Uuid,
        assembly_row_id -> Uuid,
        slot_group -> Text,
        slot_name -> Text,
        variant_key -> Text,
        asset_id -> Uuid,
    }
}

diesel::table! {
    assembly_slots (tenant_id, assembly_row_id, slot_group, slot_name) {
        tenant_id -> Uuid,
        assembly_row_id -> Uuid,
        slot_group -> Text,
        slot_name -> Text,
        position -> Int4,
        offset_x -> Float8,
        offset_y -> Float8,
        scale -> Float8,
        rotation -> Float8,
        z_index -> Nullable<Int4>,
        overlay_mode -> Nullable<Text>,
        updated_by -> Nullable<Uuid>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    assets (tenant_id, id) {
        id -> Uuid,
        tenant_id -> Uuid,
        sha256 -> Text,
        file_type -> Text,
        mime_type -> Text,
        size_bytes -> Int8,
        width -> Nullable<Int4>,
        height -> Nullable<Int4>,
        original_filename -> Text,
        access_key -> Text,
        tags -> Array<Text>,
        status -> Text,
        processing -> Text,
        processing_error -> Nullable<Text>,
        has_thumbnail -> Bool,
        uploaded_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        deleted_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    axes (tenant_id, id) {
        id -> Uuid,
        tenant_id -> Uuid,
        world_id -> Uuid,
        name -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    axis_event_characters (tenant_id, event_id, character_id) {
        tenant_id -> Uuid,
        event_id -> Uuid,
        character_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    axis_event_deltas (tenant_id, event_id, character_id, axis_id) {
        tenant_id -> Uuid,
        event_id -> Uuid,
        character_id -> Uuid,
        axis_id -> Uuid,
        old_score -> Float8,
        new_score -> Float8,
        delta -> Float8,
    }
}

diesel::table! {
    axis_events (tenant_id, id) {
        id -> Uuid,
        tenant_id -> Uuid,
        world_id -> Uuid,
        event_type -> Text,
        event_type_description -> Nullable<Text>,
        metadata -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    billing_accounts (tenant_id) {
        tenant_id -> Uuid,
        tier -> Text,
        stripe_customer_id -> Nullable<Text>,
        stripe_subscription_id -> Nullable<Text>,
        subscription_status -> Nullable<Text>,
        current_period_start -> Nullable<Timestamptz>,
        current_period_end -> Nullable<Timestamptz>,
        cancel_at_period_end -> Bool,
        subscription_event_at -> Nullable<Timestamptz>,
        subscription_event_rank -> Int2,
        team_quota -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    billing_checkouts (tenant_id, purpose) {
        tenant_id -> Uuid,
        purpose -> Text,
        price_id -> Text,
        stripe_session_id -> Text,
        url -> Text,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    billing_invoices (tenant_id, id) {
        id -> Text,
        tenant_id -> Uuid,
        status -> Text,
        currency -> Text,
        amount_due -> Int8,
        amount_paid -> Int8,
        hosted_invoice_url -> Nullable<Text>,
        period_start -> Nullable<Timestamptz>,
        period_end -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    brainbits_ledger (tenant_id, id) {
        id -> Int8,
        tenant_id -> Uuid,
        amount -> Int8,
        kind -> Text,
        reason -> Text,
        user_id -> Nullable<Uuid>,
        actor_id -> Nullable<Uuid>,
        operation -> Nullable<Text>,
        provider -> Nullable<Text>,
        period_key -> Nullable<Text>,
        stripe_ref -> Nullable<Text>,
        balance_after -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    brainbits_user_quotas (tenant_id, user_id) {
        tenant_id -> Uuid,
        user_id -> Uuid,
        period_limit -> Int8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    character_axis_scores (tenant_id, character_id, axis_id) {
        tenant_id -> Uuid,
        character_id -> Uuid,
        axis_id -> Uuid,
        score -> Float8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    chat_messages (tenant_id, id) {
        id -> Uuid,
        tenant_id -> Uuid,
        world_id -> Uuid,
        room_id -> Uuid,
        user_id -> Nullable<Uuid>,
        character_id -> Nullable<Uuid>,
        character_name -> Text,
        channel -> Text,
        recipient_character_id -> Nullable<Uuid>,
        recipient_name -> Nullable<Text>,
        text -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    ollama_conversations (tenant_id, owner_key) {
        owner_key -> Uuid,
        tenant_id -> Uuid,
        user_id -> Uuid,
        server_url -> Text,
        model -> Text,
        messages -> Jsonb,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    characters (tenant_id, id) {
        id -> Uuid,
        tenant_id -> Uuid,
        world_id -> Uuid,
        user_id -> Nullable<Uuid>,
        name -> Text,
        inventory -> Jsonb,
        base_state -> Jsonb,
        current_state -> Jsonb,
        state_seed -> Int8,
        state_version -> Nullable<Text>,
        state_updated_at -> Nullable<Timestamptz>,
        room_id -> Nullable<Uuid>,
        moved_at -> Nullable<Timestamptz>,
        tombstoned_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    dice_roll_traits (tenant_id, roll_id, position) {
        roll_id -> Uuid,
        tenant_id -> Uuid,
        position -> Int4,
        name -> Text,
        trait_id -> Nullable<Text>,
    }
}

diesel::table! {
    dice_rolls (tenant_id, id) {
        id -> Uuid,
        tenant_id -> Uuid,
        user_id -> Nullable<Uuid>,
        character_row_id -> Nullable<Uuid>,
        campaign_row_id -> Nullable<Uuid>,
        die_size -> Int4,
        pool -> Int4,
        difficulty -> Nullable<Int4>,
        dice -> Array<Int4>,
        physical -> Bool,
        successes -> Int4,
        failures -> Int4,
        botches -> Int4,
        criticals -> Int4,
        total -> Int4,
        result -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    entities (tenant_id, id) {
        id -> Uuid,
        tenant_id -> Uuid,
        entity_type -> Text,
        entity_id -> Text,
        name -> Text,
        status -> Text,
        fields -> Jsonb,
        markdown_body -> Text,
        schema_errors -> Array<Text>,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        updated_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        deleted_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    entity_references (tenant_id, source_id, kind, target_entity_id) {
        tenant_id -> Uuid,
        source_id -> Uuid,
        kind -> Text,
        target_types -> Array<Text>,
        target_entity_id -> Text,
        position -> Int4,
    }
}

diesel::table! {
    entity_relationships (tenant_id, id) {
        id -> Uuid,
        tenant_id -> Uuid,
        source_id -> Uuid,
        target_id -> Uuid,
        kind -> Text,
        attributes -> Jsonb,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    entity_revisions (tenant_id, id) {
        id -> Uuid,
        tenant_id -> Uuid,
        entity_row_id -> Uuid,
        version -> Int4,
        action -> Text,
        actor_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        entity_id -> Text,
        name -> Text,
        status -> Text,
        fields -> Jsonb,
        markdown_body -> Text,
    }
}

diesel::table! {
    event_log (seq) {
        seq -> Int8,
        event_id -> Uuid,
        tenant_id -> Uuid,
        kind -> Text,
        node_id -> Uuid,
        logged_at -> Timestamptz,
        event -> Jsonb,
    }
}

diesel::table! {
    image_presets (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        name -> Text,
        entity_type -> Nullable<Text>,
        style -> Text,
        negative_prompt -> Text,
        width -> Int4,
        height -> Int4,
        is_default -> Bool,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    invites (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        email -> Text,
        role -> Text,
        token_hash -> Bytea,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        accepted_at -> Nullable<Timestamptz>,
        accepted_by -> Nullable<Uuid>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        window_started -> Timestamptz,
        attempts -> Int4,
    }
}

diesel::table! {
    maintenance_cursors (name) {
        name -> Text,
        position -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    memberships (tenant_id, user_id) {
        tenant_id -> Uuid,
        user_id -> Uuid,
        role -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    notes (tenant_id, id) {
        id -> Uuid,
        tenant_id -> Uuid,
        author_id -> Nullable<Uuid>,
        entity_row_id -> Nullable<Uuid>,
        title -> Text,
        content -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    persisted_queries (sha256) {
        sha256 -> Text,
        query -> Text,
        created_at -> Timestamptz,
        last_used_at -> Timestamptz,
    }
}

diesel::table! {
    presence (tenant_id, user_id, node_id) {
        tenant_id -> Uuid,
        user_id -> Uuid,
        node_id -> Uuid,
        since -> Timestamptz,
    }
}

diesel::table! {
    presence_editing (tenant_id, user_id, entity_row_id) {
        tenant_id -> Uuid,
        user_id -> Uuid,
        entity_row_id -> Uuid,
        since -> Timestamptz,
        renewed_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        session_id -> Uuid,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    rooms (tenant_id, id) {
        id -> Uuid,
        tenant_id -> Uuid,
        world_id -> Uuid,
        room_key -> Text,
        zone_key -> Nullable<Text>,
        name -> Text,
        description -> Text,
        exits -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    server_nodes (id) {
        id -> Uuid,
        started_at -> Timestamptz,
        seen_at -> Timestamptz,
    }
}

diesel::table! {
    server_secrets (name) {
        name -> Text,
        secret -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        tenant_id -> Nullable<Uuid>,
        client_type -> Text,
        created_at -> Timestamptz,
        last_activity -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        user_agent -> Nullable<Text>,
        ip_address -> Nullable<Text>,
        character_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    story_connection_checks (tenant_id, document_id) {
        tenant_id -> Uuid,
        document_id -> Uuid,
        ok -> Bool,
        message -> Nullable<Text>,
        checked_at -> Timestamptz,
    }
}

diesel::table! {
    story_documents (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        kind -> Text,
        display_name -> Text,
        body -> Jsonb,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    story_graph_versions (tenant_id, story_id, version) {
        tenant_id -> Uuid,
        story_id -> Uuid,
        version -> Int4,
        graph -> Jsonb,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    story_links (tenant_id, from_id, slot, position) {
        tenant_id -> Uuid,
        from_id -> Uuid,
        slot -> Text,
        position -> Int4,
        to_id -> Uuid,
    }
}

diesel::table! {
    story_package_slots (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        direction -> Text,
        created_by -> Nullable<Uuid>,
        archive -> Nullable<Bytea>,
        committed_at -> Nullable<Timestamptz>,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    story_secrets (tenant_id, document_id) {
        tenant_id -> Uuid,
        document_id -> Uuid,
        sealed -> Bytea,
        masked -> Text,
    }
}

diesel::table! {
    story_session_messages (tenant_id, session_id, sequence) {
        tenant_id -> Uuid,
        session_id -> Uuid,
        sequence -> Int4,
        turn_index -> Int4,
        kind -> Text,
        speaker_id -> Nullable<Text>,
        speaker_name -> Nullable<Text>,
        text -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    story_session_turns (tenant_id, session_id) {
        tenant_id -> Uuid,
        session_id -> Uuid,
        turn_id -> Uuid,
        user_id -> Uuid,
        started_at -> Timestamptz,
        beat_at -> Timestamptz,
        cancel_requested -> Bool,
    }
}

diesel::table! {
    story_settings (tenant_id) {
        tenant_id -> Uuid,
        default_api_group_id -> Nullable<Uuid>,
        default_preset_id -> Nullable<Uuid>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    stripe_events (id) {
        id -> Text,
        event_type -> Text,
        tenant_id -> Nullable<Uuid>,
        received_at -> Timestamptz,
        rejection -> Nullable<Text>,
    }
}

diesel::table! {
    tenants (id) {
        id -> Uuid,
        name -> Text,
        slug -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        recycle_retention_days -> Nullable<Int4>,
    }
}

diesel::table! {
    worlds (tenant_id, id) {
        id -> Uuid,
        tenant_id -> Uuid,
        world_key -> Text,
        name -> Text,
        description -> Text,
        config -> Jsonb,
        is_active -> Bool,
        universe_row_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        axis_policy -> Nullable<Jsonb>,
        axis_policy_hash -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        display_name -> Text,
        password_hash -> Text,
        is_superuser -> Bool,
        is_active -> Bool,
        last_tenant_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        last_login_at -> Nullable<Timestamptz>,
        username -> Text,
        account_origin -> Text,
    }
}

diesel::table! {
    drive_connections (tenant_id, user_id) {
        tenant_id -> Uuid,
        user_id -> Uuid,
        google_email -> Nullable<Text>,
        scopes -> Text,
        sealed_tokens -> Bytea,
        access_expires_at -> Timestamptz,
        folder_id -> Nullable<Text>,
        folder_name -> Nullable<Text>,
        page_token -> Nullable<Text>,
        last_synced_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        round_until -> Nullable<Timestamptz>,
        connected_at -> Timestamptz,
        refreshed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    drive_channels (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Text,
        user_id -> Uuid,
        token -> Text,
        address -> Text,
        resource_id -> Nullable<Text>,
        expires_at -> Timestamptz,
        stopped_at -> Nullable<Timestamptz>,
        last_message -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    drive_files (tenant_id, user_id, file_id) {
        tenant_id -> Uuid,
        user_id -> Uuid,
        file_id -> Text,
        entity_row -> Nullable<Uuid>,
        version -> Int8,
        md5 -> Nullable<Text>,
        entity_updated_at -> Nullable<Timestamptz>,
        synced_at -> Timestamptz,
        entity_version -> Nullable<Int4>,
    }
}

diesel::table! {
    user_identities (id) {
        id -> Uuid,
        user_id -> Uuid,
        provider -> Text,
        subject -> Text,
        email -> Nullable<Text>,
        email_verified -> Bool,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    oauth_flows (state_hash) {
        state_hash -> Bytea,
        provider -> Text,
        purpose -> Text,
        pkce_verifier -> Text,
        nonce -> Text,
        browser_hash -> Nullable<Bytea>,
        user_id -> Nullable<Uuid>,
        tenant_id -> Nullable<Uuid>,
        redirect_uri -> Text,
        return_to -> Text,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    id_token_uses (token_hash) {
        token_hash -> Bytea,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    password_resets (token_hash) {
        token_hash -> Bytea,
        user_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    rate_windows (key) {
        key -> Text,
        window_ends -> Timestamptz,
        hits -> Int4,
    }
}

diesel::joinable!(characters -> users (user_id));
diesel::joinable!(api_keys -> tenants (tenant_id));
diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(entities -> tenants (tenant_id));
diesel::joinable!(invites -> tenants (tenant_id));
diesel::joinable!(memberships -> tenants (tenant_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(presence -> server_nodes (node_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(sessions -> tenants (tenant_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(user_identities -> users (user_id));
diesel::joinable!(password_resets -> users (user_id));
// Tables keyed by (tenant_id, id) are joined with an explicit `.on(...)` that matches the
// tenant too: a join through the id alone would not be one Citus can keep on one node.

diesel::table! {
    entity_tombstones (tenant_id, id) {
        id -> Uuid,
        tenant_id -> Uuid,
        row_id -> Uuid,
        entity_type -> Text,
        entity_id -> Text,
        purged_at -> Timestamptz,
    }
}

diesel::table! {
    sync_push_receipts (tenant_id, user_id, change_id) {
        tenant_id -> Uuid,
        user_id -> Uuid,
        change_id -> Text,
        result -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    sync_conflicts (tenant_id, id) {
        id -> Uuid,
        tenant_id -> Uuid,
        entity_type -> Text,
        entity_id -> Text,
        base_version -> Nullable<Int4>,
        base_content -> Nullable<Text>,
        theirs_version -> Nullable<Int4>,
        theirs_content -> Nullable<Text>,
        ours_content -> Nullable<Text>,
        pushed_by -> Nullable<Uuid>,
        client_id -> Text,
        created_at -> Timestamptz,
        resolved_at -> Nullable<Timestamptz>,
        resolved_by -> Nullable<Uuid>,
        resolution -> Nullable<Text>,
    }
}

diesel::table! {
    project_folders (tenant_id) {
        tenant_id -> Uuid,
        path -> Text,
        bound_by -> Uuid,
        bound_at -> Timestamptz,
    }
}

diesel::table! {
    project_files (tenant_id, row_id) {
        tenant_id -> Uuid,
        row_id -> Uuid,
        path -> Text,
    }
}

diesel::table! {
    member_groups (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        kind -> Text,
        name -> Text,
        description -> Text,
        preset -> Nullable<Text>,
        permissions -> Jsonb,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    member_group_members (tenant_id, group_id, user_id) {
        tenant_id -> Uuid,
        group_id -> Uuid,
        user_id -> Uuid,
        added_at -> Timestamptz,
    }
}

diesel::table! {
    permission_templates (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        name -> Text,
        description -> Text,
        permissions -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    member_permissions (tenant_id, user_id) {
        tenant_id -> Uuid,
        user_id -> Uuid,
        permissions -> Jsonb,
        template_id -> Nullable<Uuid>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    brainbits_group_quotas (tenant_id, group_id) {
        tenant_id -> Uuid,
        group_id -> Uuid,
        period_limit -> Int8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    brainbits_group_usage (tenant_id, group_id, period_key) {
        tenant_id -> Uuid,
        group_id -> Uuid,
        period_key -> Text,
        used -> Int8,
        reset_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    shares (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        kind -> Text,
        entity_type -> Nullable<Text>,
        entity_row_ids -> Array<Uuid>,
        title -> Text,
        password_hash -> Nullable<Text>,
        team_id -> Nullable<Uuid>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        revoked_by -> Nullable<Uuid>,
        last_accessed_at -> Nullable<Timestamptz>,
        access_count -> Int8,
    }
}

diesel::table! {
    user_settings (user_id) {
        user_id -> Uuid,
        settings -> Jsonb,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    user_provider_keys (user_id, provider) {
        user_id -> Uuid,
        provider -> Text,
        sealed_key -> Bytea,
        last_four -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        origin -> Text,
    }
}

diesel::table! {
    beta_codes (id) {
        id -> Uuid,
        code_hash -> Bytea,
        code_hint -> Text,
        label -> Text,
        tier -> Text,
        beta_days -> Int4,
        max_uses -> Int4,
        uses -> Int4,
        expires_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    beta_enrollments (tenant_id) {
        tenant_id -> Uuid,
        code_id -> Nullable<Uuid>,
        redeemed_by -> Nullable<Uuid>,
        tier -> Text,
        started_at -> Timestamptz,
        ends_at -> Timestamptz,
    }
}

diesel::table! {
    beta_feedback (id) {
        id -> Uuid,
        user_id -> Nullable<Uuid>,
        tenant_id -> Nullable<Uuid>,
        kind -> Text,
        message -> Text,
        page -> Text,
        status -> Text,
        admin_note -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    beta_waitlist (id) {
        id -> Uuid,
        email -> Text,
        name -> Text,
        note -> Text,
        created_at -> Timestamptz,
        promoted_at -> Nullable<Timestamptz>,
        code_id -> Nullable<Uuid>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    api_keys,
    image_presets,
    assembly_slot_assets,
    assembly_slots,
    asset_blobs,
    asset_jobs,
    asset_links,
    asset_queue_pauses,
    assets,
    axes,
    axis_event_characters,
    axis_event_deltas,
    axis_events,
    billing_accounts,
    billing_checkouts,
    billing_invoices,
    brainbits_ledger,
    brainbits_user_quotas,
    character_axis_scores,
    characters,
    chat_messages,
    dice_roll_traits,
    dice_rolls,
    entities,
    entity_references,
    entity_relationships,
    entity_revisions,
    event_log,
    invites,
    login_throttle,
    maintenance_cursors,
    memberships,
    notes,
    ollama_conversations,
    persisted_queries,
    presence,
    presence_editing,
    refresh_tokens,
    rooms,
    server_nodes,
    server_secrets,
    sessions,
    story_connection_checks,
    story_documents,
    story_graph_versions,
    story_links,
    story_package_slots,
    story_secrets,
    story_session_messages,
    story_session_turns,
    story_settings,
    stripe_events,
    tenants,
    users,
    worlds,
    entity_tombstones,
    sync_conflicts,
    sync_push_receipts,
    project_files,
    project_folders,
    user_identities,
    drive_connections,
    drive_channels,
    drive_files,
    oauth_flows,
    id_token_uses,
    password_resets,
    rate_windows,
    member_groups,
    member_group_members,
    permission_templates,
    member_permissions,
    brainbits_group_quotas,
    brainbits_group_usage,
    shares,
    user_settings,
    user_provider_keys,
    beta_codes,
    beta_enrollments,
    beta_feedback,
    beta_waitlist,
);

diesel::table! {
    tenant_exports (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        requested_by -> Nullable<Uuid>,
        state -> Text,
        done -> Int4,
        total -> Int4,
        error -> Nullable<Text>,
        bytes -> Nullable<Int8>,
        sha256 -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    tenant_rule_sets (tenant_id, rule_set_id) {
        tenant_id -> Uuid,
        rule_set_id -> Text,
        source -> Text,
        parsed -> Jsonb,
        revision -> Int4,
        active -> Bool,
        updated_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    tenant_rule_settings (tenant_id) {
        tenant_id -> Uuid,
        disabled_rules -> Array<Text>,
        system_prompts -> Jsonb,
        updated_by -> Nullable<Uuid>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    tenant_templates (tenant_id, entity_type, version) {
        tenant_id -> Uuid,
        entity_type -> Text,
        version -> Int4,
        content -> Nullable<Text>,
        json_schema -> Nullable<Jsonb>,
        change -> Text,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        revalidation -> Text,
        checked -> Int4,
        valid -> Int4,
        invalid -> Int4,
        revalidation_error -> Nullable<Text>,
        revalidated_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    timeline_events (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        source_entity_id -> Uuid,
        source_type -> Text,
        source_path -> Text,
        kind -> Text,
        title -> Text,
        date_text -> Text,
        end_text -> Nullable<Text>,
        sort_key -> Int8,
        end_key -> Int8,
        precision -> Nullable<Text>,
        approximate -> Bool,
        subject -> Text,
        participants -> Array<Text>,
        location -> Nullable<Text>,
        tags -> Array<Text>,
        exclusive -> Bool,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    timeline_settings (tenant_id) {
        tenant_id -> Uuid,
        eras -> Jsonb,
        populated_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    tenant_layouts (tenant_id, entity_type, version) {
        tenant_id -> Uuid,
        entity_type -> Text,
        version -> Int4,
        layout -> Nullable<Jsonb>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}
