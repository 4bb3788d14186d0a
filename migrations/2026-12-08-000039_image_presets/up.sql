-- Image presets (seed "Image Presets"): how a studio's images of a type are generated — a
-- style, a negative prompt, a size — one of them the type's default.
CREATE TABLE image_presets (
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               uuid NOT NULL,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- NULL: for every type.
    entity_type      text,
    style            text NOT NULL DEFAULT '' CHECK (length(style) <= 4000),
    negative_prompt  text NOT NULL DEFAULT '' CHECK (length(negative_prompt) <= 4000),
    width            integer NOT NULL CHECK (width BETWEEN 64 AND 4096),
    height           integer NOT NULL CHECK (height BETWEEN 64 AND 4096),
    is_default       boolean NOT NULL DEFAULT false,
    created_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX image_presets_name ON image_presets (tenant_id, lower(name));
-- At most one default per type (and one for every type).
CREATE UNIQUE INDEX image_presets_one_default ON image_presets (tenant_id, coalesce(entity_type, ''))
    WHERE is_default;
CREATE INDEX image_presets_created_by ON image_presets (created_by) WHERE created_by IS NOT NULL;
