//! Where the bytes live: any `object_store` backend (a local directory by default, an
//! S3-compatible bucket by configuration), addressed by tenant and content hash.

use std::ops::Range;
use std::sync::Arc;

use anyhow::Context as _;
use axum::body::Bytes;
use futures_util::stream::BoxStream;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload};
use uuid::Uuid;

/// Bytes as the store hands them out, chunk by chunk.
pub type ByteStream = BoxStream<'static, object_store::Result<Bytes>>;

#[derive(Clone, Debug)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// Whether the store lists objects in order of their names (S3 does; a directory does
    /// not), so a batch of the first names after a point can stop early.
    lists_in_order: bool,
}

/// A stored object, as the retention sweep sees it: whose content it holds, and since when.
#[derive(Clone, Debug)]
pub struct StoredObject {
    /// Its name in the store (an original's or a thumbnail's).
    pub location: String,
    pub tenant_id: Uuid,
    pub sha256: String,
    pub modified: chrono::DateTime<chrono::Utc>,
}

impl BlobStore {
    /// `location` is a directory (created when missing) or an `s3://bucket/prefix` URL whose
    /// credentials, region and endpoint come from the `AWS_*` variables, with `options`
    /// (object_store's S3 setting names, e.g. `aws_endpoint`) applied over them.
    pub fn open(location: &str, options: &[(String, String)]) -> anyhow::Result<Self> {
        let lists_in_order = location.starts_with("s3://");
        let store: Arc<dyn ObjectStore> =
            if let Some(bucket_and_prefix) = location.strip_prefix("s3://") {
                let (bucket, prefix) = bucket_and_prefix
                    .split_once('/')
                    .unwrap_or((bucket_and_prefix, ""));
                let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
                for (key, value) in options {
                    let key: AmazonS3ConfigKey = key
                        .parse()
                        .with_context(|| format!("`{key}` is not an S3 store setting"))?;
                    builder = builder.with_config(key, value);
                }
                let bucket = builder
                    .build()
                    .with_context(|| format!("configuring the asset store {location}"))?;
                // The S3 client addresses the bucket's root; a prefix keeps our objects under it.
                match prefix.trim_matches('/') {
                    "" => Arc::new(bucket),
                    prefix => Arc::new(PrefixStore::new(bucket, prefix)),
                }
            } else {
                std::fs::create_dir_all(location)
                    .with_context(|| format!("creating the asset directory {location}"))?;
                Arc::new(
                    object_store::local::LocalFileSystem::new_with_prefix(location)?
                        // Removing an object also removes the directories it leaves empty.
                        .with_automatic_cleanup(true),
                )
            };
        Ok(Self {
            store,
            lists_in_order,
        })
    }

    fn original(tenant_id: Uuid, sha256: &str) -> Path {
        Path::from(format!("originals/{tenant_id}/{}/{sha256}", &sha256[..2]))
    }

    fn thumbnail(tenant_id: Uuid, sha256: &str) -> Path {
        Path::from(format!(
            "thumbnails/{tenant_id}/{}/{sha256}.png",
            &sha256[..2]
        ))
    }

    /// Stores an original unless the same content is already there (its name is its hash).
    pub async fn put_original(
        &self,
        tenant_id: Uuid,
        sha256: &str,
        bytes: Bytes,
    ) -> anyhow::Result<()> {
        let path = Self::original(tenant_id, sha256);
        match self.store.head(&path).await {
            Ok(meta) if meta.size == bytes.len() as u64 => return Ok(()),
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
            Err(other) => return Err(other.into()),
        }
        self.store.put(&path, PutPayload::from(bytes)).await?;
        Ok(())
    }

    pub async fn put_thumbnail(
        &self,
        tenant_id: Uuid,
        sha256: &str,
        png: Vec<u8>,
    ) -> anyhow::Result<()> {
        let path = Self::thumbnail(tenant_id, sha256);
        self.store.put(&path, PutPayload::from(png)).await?;
        Ok(())
    }

    pub async fn read_original(&self, tenant_id: Uuid, sha256: &str) -> anyhow::Result<Bytes> {
        Ok(self
            .store
            .get(&Self::original(tenant_id, sha256))
            .await?
            .bytes()
            .await?)
    }

    /// A stream of an original's bytes (a part of them when `range` is given), or None when
    /// the bytes are gone.
    pub async fn stream_original(
        &self,
        tenant_id: Uuid,
        sha256: &str,
        range: Option<Range<u64>>,
    ) -> anyhow::Result<Option<ByteStream>> {
        self.stream(&Self::original(tenant_id, sha256), range).await
    }

    pub async fn stream_thumbnail(
        &self,
        tenant_id: Uuid,
        sha256: &str,
    ) -> anyhow::Result<Option<(u64, ByteStream)>> {
        let path = Self::thumbnail(tenant_id, sha256);
        match self.store.get(&path).await {
            Ok(result) => Ok(Some((result.meta.size, result.into_stream()))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    async fn stream(
        &self,
        path: &Path,
        range: Option<Range<u64>>,
    ) -> anyhow::Result<Option<ByteStream>> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        match self.store.get_opts(path, options).await {
            Ok(result) => Ok(Some(result.into_stream())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    /// The first `limit` objects (by name) named after `after`: originals and thumbnails, read
    /// from their names. Anything else in the store is not ours to judge and is passed over.
    pub async fn list_after(&self, after: &str, limit: usize) -> anyhow::Result<Vec<StoredObject>> {
        use futures_util::StreamExt;
        let mut listing = self.store.list_with_offset(None, &Path::from(after));
        // The `limit` smallest names seen: a directory lists in no particular order.
        let mut smallest = std::collections::BinaryHeap::new();
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            let Some(object) = StoredObject::read(&meta) else {
                continue;
            };
            smallest.push(ByName(object));
            if smallest.len() > limit {
                smallest.pop();
            }
            if self.lists_in_order && smallest.len() == limit {
                break;
            }
        }
        Ok(smallest
            .into_sorted_vec()
            .into_iter()
            .map(|ByName(object)| object)
            .collect())
    }

    fn export(tenant_id: Uuid, id: Uuid) -> Path {
        Path::from(format!("exports/{tenant_id}/{id}.zip"))
    }

    /// Keeps a whole-tenant export archive (the sweep of unused bytes passes over it: it
    /// judges only originals and thumbnails).
    pub async fn put_export(&self, tenant_id: Uuid, id: Uuid, zip: Vec<u8>) -> anyhow::Result<()> {
        self.store
            .put(&Self::export(tenant_id, id), PutPayload::from(zip))
            .await?;
        Ok(())
    }

    /// An export archive's size and bytes, or None when it is gone.
    pub async fn stream_export(
        &self,
        tenant_id: Uuid,
        id: Uuid,
    ) -> anyhow::Result<Option<(u64, ByteStream)>> {
        match self.store.get(&Self::export(tenant_id, id)).await {
            Ok(result) => Ok(Some((result.meta.size, result.into_stream()))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    /// Removes an export archive; one already gone is not an error.
    pub async fn remove_export(&self, tenant_id: Uuid, id: Uuid) -> anyhow::Result<()> {
        match self.store.delete(&Self::export(tenant_id, id)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }

    /// Removes an original and its thumbnail; what is already gone is not an error.
    pub async fn remove(&self, tenant_id: Uuid, sha256: &str) -> anyhow::Result<()> {
        for path in [
            Self::original(tenant_id, sha256),
            Self::thumbnail(tenant_id, sha256),
        ] {
            match self.store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Ok(())
    }
}

impl StoredObject {
    /// `originals/{tenant}/{xx}/{sha256}` or `thumbnails/{tenant}/{xx}/{sha256}.png`.
    fn read(meta: &object_store::ObjectMeta) -> Option<Self> {
        let location = meta.location.to_string();
        let mut parts = location.split('/');
        let kind = parts.next()?;
        let tenant_id = Uuid::parse_str(parts.next()?).ok()?;
        let _fan_out = parts.next()?;
        let name = parts.next()?;
        let sha256 = match kind {
            "originals" => name,
            "thumbnails" => name.strip_suffix(".png")?,
            _ => return None,
        };
        let well_formed = parts.next().is_none()
            && sha256.len() == 64
            && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        let sha256 = sha256.to_owned();
        well_formed.then_some(Self {
            sha256,
            tenant_id,
            modified: meta.last_modified,
            location,
        })
    }
}

/// Orders objects by name, for the heap of the smallest.
struct ByName(StoredObject);

impl PartialEq for ByName {
    fn eq(&self, other: &Self) -> bool {
        self.0.location == other.0.location
    }
}

impl Eq for ByName {}

impl PartialOrd for ByName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ByName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.location.cmp(&other.0.location)
    }
}
