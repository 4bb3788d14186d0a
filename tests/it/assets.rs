//! Assets: image uploads over REST and GraphQL, recognised from their bytes, stored once per
//! content, served with caching and ranges, processed by the queue, kept in a recycle bin,
//! and never visible to another tenant.

use std::io::Cursor;
use std::time::Duration;

use image::{DynamicImage, ImageFormat, RgbImage, RgbaImage};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::entities::create_entity;
use crate::harness::*;

/// A real image of `format`, drawn here, `width` × `height` pixels.
pub(crate) fn image_bytes(format: ImageFormat, width: u32, height: u32) -> Vec<u8> {
    let image = if format == ImageFormat::Jpeg {
        DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 251) as u8, (y % 241) as u8, 90])
        }))
    } else {
        DynamicImage::ImageRgba8(RgbaImage::from_fn(width, height, |x, y| {
            image::Rgba([(x % 251) as u8, (y % 241) as u8, 90, 255])
        }))
    };
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, format)
        .expect("encode the test image");
    out.into_inner()
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    image_bytes(ImageFormat::Png, width, height)
}

/// `POST path` with a multipart form whose `file` part carries `bytes` under `name` and the
/// declared `content_type`, plus any text fields.
pub(crate) async fn upload_to(
    server: &TestServer,
    account: &Account,
    path: &str,
    name: &str,
    content_type: &str,
    bytes: Vec<u8>,
    fields: &[(&str, &str)],
) -> (u16, Value) {
    let part = Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str(content_type)
        .expect("content type");
    let mut form = Form::new().part("file", part);
    for (key, value) in fields {
        form = form.text(key.to_string(), value.to_string());
    }
    let response = server
        .http
        .post(server.url(path))
        .bearer_auth(&account.token)
        .multipart(form)
        .send()
        .await
        .expect("send the upload");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `POST /api/assets/upload` with `bytes` as the file `name`, declared as `content_type`.
pub async fn post_upload(
    server: &TestServer,
    account: &Account,
    name: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    upload_to(
        server,
        account,
        "/api/assets/upload",
        name,
        content_type,
        bytes,
        &[],
    )
    .await
}

pub async fn upload(server: &TestServer, account: &Account, name: &str, bytes: Vec<u8>) -> Value {
    let (status, body) = upload_to(
        server,
        account,
        "/api/assets/upload",
        name,
        "image/png",
        bytes,
        &[],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body
}

/// The stored originals under the server's asset directory.
fn stored_files(server: &TestServer) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&server.assets_dir.join("originals"), &mut found);
    found
}

/// A number the database computes (`sql` selects one bigint named `n`).
async fn db_number(server: &TestServer, sql: &str) -> i64 {
    use diesel::QueryableByName;
    use diesel_async::RunQueryDsl;
    #[derive(QueryableByName)]
    struct Number {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut db = server.db().await;
    diesel::sql_query(sql)
        .get_result::<Number>(&mut db)
        .await
        .expect(sql)
        .n
}

async fn count_assets(server: &TestServer) -> i64 {
    db_number(server, "SELECT count(*) AS n FROM assets").await
}

/// `operation`, which takes the asset's `$id`, as `account`: its data, failing on errors.
async fn ok_on(
    server: &TestServer,
    account: &Account,
    operation: &str,
    id: impl serde::Serialize,
) -> Value {
    server.ok_as(account, operation, json!({ "id": id })).await
}

/// `operation`, which takes the asset's `$id`, as `account`: the whole response body.
async fn gql_on(
    server: &TestServer,
    account: &Account,
    operation: &str,
    id: impl serde::Serialize,
) -> Value {
    server.gql_as(account, operation, json!({ "id": id })).await
}

/// The primary asset and the assets of one entity, as `account` sees them.
async fn entity_assets(server: &TestServer, account: &Account, kind: &str, id: &str) -> Value {
    let query = "query($type: EntityType!, $id: String!) {
        entity(type: $type, entityId: $id) { primaryAsset { id } assets { id } } }";
    server
        .ok_as(account, query, json!({ "type": kind, "id": id }))
        .await["entity"]
        .clone()
}

const ASSET_FIELDS: &str = "id mimeType fileType width height sizeBytes sha256 originalFilename
    publicUrl thumbnailUrl tags status processing processingError deletedAt
    entities { entityType entityId }";

async fn asset(server: &TestServer, account: &Account, id: &str) -> Value {
    let query = format!("query($id: ID!) {{ asset(id: $id) {{ {ASSET_FIELDS} }} }}");
    server.ok_as(account, &query, json!({ "id": id })).await["asset"].clone()
}

/// Polls until the asset's processing is no longer pending (the queue runs in the background;
/// the bound only keeps a broken queue from hanging the test).
pub async fn processed(server: &TestServer, account: &Account, id: &str) -> Value {
    for _ in 0..300 {
        let found = asset(server, account, id).await;
        if found["processing"] != "PENDING" {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("asset {id} was never processed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_image_format_is_accepted_with_its_type_and_dimensions() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    for (format, mime, width, height) in [
        (ImageFormat::Png, "image/png", 40, 30),
        (ImageFormat::Jpeg, "image/jpeg", 64, 48),
        (ImageFormat::Gif, "image/gif", 17, 9),
        (ImageFormat::WebP, "image/webp", 33, 21),
    ] {
        let bytes = image_bytes(format, width, height);
        let body = upload(&server, &owner, "picture", bytes.clone()).await;
        assert_eq!(body["mime_type"], mime, "{body}");
        assert_eq!(body["file_type"], "image");
        assert_eq!(body["width"], width);
        assert_eq!(body["height"], height);
        assert_eq!(body["size_bytes"], bytes.len());
        assert_eq!(body["uploaded_by_id"], owner.user_id.as_str());
        assert!(body["date_created"].is_string() && body["date_modified"].is_string());
        // The bytes come back as they went in, under the sniffed type.
        let served = server
            .http
            .get(server.url(body["public_url"].as_str().unwrap()))
            .send()
            .await
            .expect("fetch");
        assert_eq!(served.status(), 200);
        assert_eq!(served.headers()["content-type"], mime);
        assert_eq!(served.bytes().await.unwrap().as_ref(), bytes.as_slice());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bytes_decide_the_type_never_the_name_or_the_declared_type() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    let (status, body) = upload_to(
        &server,
        &owner,
        "/api/assets/upload",
        "notes.txt",
        "text/plain",
        png(8, 8),
        &[],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["mime_type"], "image/png");
    assert_eq!(body["original_filename"], "notes.txt");

    let text = b"just some words, not a picture".to_vec();
    let (status, body) =
        post_upload(&server, &owner, "portrait.png", "image/png", text.clone()).await;
    assert_eq!(status, 415, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("PNG, JPEG, GIF and WEBP")
    );
    // An SVG is an image to a browser, and a script carrier: refused too.
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    let (status, _) = post_upload(&server, &owner, "logo.svg", "image/svg+xml", svg.to_vec()).await;
    assert_eq!(status, 415);

    // The same refusal over GraphQL, with its code.
    let body = graphql_upload(&server, &owner, "portrait.png", &text, "").await;
    assert_eq!(error_code(&body), "UNSUPPORTED_MEDIA_TYPE", "{body}");
    assert_eq!(count_assets(&server).await, 1);
}

/// A GraphQL multipart request built by hand per the multipart request spec: `operations`,
/// `map`, then the file part.
async fn graphql_upload(
    server: &TestServer,
    account: &Account,
    filename: &str,
    bytes: &[u8],
    arguments: &str,
) -> Value {
    let operations = json!({
        "query": format!("mutation($file: Upload!) {{ uploadAsset(file: $file{arguments}) {{ {ASSET_FIELDS} }} }}"),
        "variables": { "file": null },
    });
    let boundary = "loregraph-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{operations}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{{\"0\": [\"variables.file\"]}}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    send_json(
        server
            .http
            .post(server.url("/graphql"))
            .bearer_auth(&account.token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graphql_multipart_upload_becomes_an_entitys_primary_asset() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    create_entity(&server, &owner, "CHARACTER", "rex", "Rex", json!({})).await;
    let image = png(12, 10);
    let body = graphql_upload(
        &server,
        &owner,
        "портрет 🐉.png",
        &image,
        ", entityType: CHARACTER, entityId: \"rex\", primary: true",
    )
    .await;
    assert!(body["errors"].is_null(), "{body}");
    let uploaded = &body["data"]["uploadAsset"];
    assert_eq!(uploaded["mimeType"], "image/png");
    assert_eq!(uploaded["width"], 12);
    // Unicode names are kept as they were given.
    assert_eq!(uploaded["originalFilename"], "портрет 🐉.png");
    assert_eq!(
        uploaded["entities"],
        json!([{ "entityType": "CHARACTER", "entityId": "rex" }])
    );
    let data = entity_assets(&server, &owner, "CHARACTER", "rex").await;
    assert_eq!(data["primaryAsset"]["id"], uploaded["id"]);
    assert_eq!(data["assets"][0]["id"], uploaded["id"]);

    // Seed 001's per-entity route makes the new upload the primary one.
    let (status, second) = upload_to(
        &server,
        &owner,
        "/api/upload/character/rex/image",
        "second.png",
        "image/png",
        png(5, 5),
        &[],
    )
    .await;
    assert_eq!(status, 201, "{second}");
    let data = entity_assets(&server, &owner, "CHARACTER", "rex").await;
    assert_eq!(data["primaryAsset"]["id"], second["id"]);
    assert_eq!(data["assets"].as_array().unwrap().len(), 2);

    // An upload for an entity that does not exist stores nothing.
    let (status, _) = upload_to(
        &server,
        &owner,
        "/api/upload/location/nowhere",
        "x.png",
        "image/png",
        png(5, 5),
        &[],
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(count_assets(&server).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_uploads_and_decompression_bombs_are_refused_and_leave_nothing() {
    let server = TestServer::start_with(|config| config.assets.max_bytes = 64 * 1024).await;
    let owner = server.register("owner@example.com", "Studio").await;
    // Noise does not compress: well over the limit.
    let big = RgbImage::from_fn(256, 256, |x, y| {
        let n = x
            .wrapping_mul(2_654_435_761)
            .wrapping_add(y.wrapping_mul(40_503));
        image::Rgb([n as u8, (n >> 8) as u8, (n >> 16) as u8])
    });
    let mut big_png = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(big)
        .write_to(&mut big_png, ImageFormat::Png)
        .unwrap();
    let big_png = big_png.into_inner();
    assert!(big_png.len() > 64 * 1024);
    let (status, body) =
        post_upload(&server, &owner, "big.png", "image/png", big_png.clone()).await;
    assert_eq!(status, 413, "{body}");
    let body = graphql_upload(&server, &owner, "big.png", &big_png, "").await;
    assert_eq!(error_code(&body), "PAYLOAD_TOO_LARGE", "{body}");
    // The refusal closes its connection (the body may not have been read to its end), so the
    // client does not send its next request down a connection that is closing.
    let part = Part::bytes(big_png.clone())
        .file_name("big.png")
        .mime_str("image/png")
        .expect("content type");
    let refused = server
        .http
        .post(server.url("/api/assets/upload"))
        .bearer_auth(&owner.token)
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .expect("send the upload");
    assert_eq!(refused.status().as_u16(), 413);
    assert_eq!(
        refused
            .headers()
            .get("connection")
            .and_then(|v| v.to_str().ok()),
        Some("close")
    );

    // A blank picture of 1 × 100000 pixels is a few hundred bytes of PNG.
    let mut bomb = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut bomb,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::NoFilter,
    );
    image::ImageEncoder::write_image(
        encoder,
        &vec![0u8; 100_000],
        1,
        100_000,
        image::ExtendedColorType::L8,
    )
    .unwrap();
    assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());
    let (status, body) = post_upload(&server, &owner, "bomb.png", "image/png", bomb.clone()).await;
    assert_eq!(status, 413, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("1 × 100000"),
        "{body}"
    );
    let body = graphql_upload(&server, &owner, "bomb.png", &bomb, "").await;
    assert_eq!(error_code(&body), "PAYLOAD_TOO_LARGE", "{body}");

    assert_eq!(count_assets(&server).await, 0);
    assert!(stored_files(&server).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_is_refused_while_it_streams_not_after_it_arrives() {
    let server = TestServer::start_with(|config| config.assets.max_bytes = 64 * 1024).await;
    let owner = server.register("owner@example.com", "Studio").await;
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let head = format!(
        "POST /api/assets/upload HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=B\r\nTransfer-Encoding: chunked\r\n\r\n",
        owner.token
    );
    let mut body =
        b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n\r\n"
            .to_vec();
    body.extend(png(4, 4));
    body.extend(std::iter::repeat_n(0u8, 200 * 1024));
    let (mut reader, mut writer) = socket.split();
    // The body is never finished: a server that waited for all of it would never answer.
    let write = async {
        let _ = writer.write_all(head.as_bytes()).await;
        for chunk in body.chunks(16 * 1024) {
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
            if writer.write_all(&framed).await.is_err() {
                break;
            }
        }
        std::future::pending::<()>().await;
    };
    let read = async {
        let mut response = Vec::new();
        let mut buffer = [0u8; 4096];
        while !response.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = reader.read(&mut buffer).await.expect("read the response");
            assert!(n > 0, "the server closed without answering");
            response.extend_from_slice(&buffer[..n]);
        }
        String::from_utf8_lossy(&response).into_owned()
    };
    let response = tokio::time::timeout(Duration::from_secs(60), async {
        tokio::select! {
            response = read => response,
            () = write => unreachable!(),
        }
    })
    .await
    .expect("an answer before the body ends");
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert_eq!(count_assets(&server).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_uploads_share_their_bytes_until_the_last_one_is_purged() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    let image = png(20, 20);
    let first = upload(&server, &owner, "a.png", image.clone()).await;
    let second = upload(&server, &owner, "b.png", image.clone()).await;
    assert_eq!(first["sha256"], second["sha256"]);
    assert_ne!(first["public_url"], second["public_url"]);
    assert_eq!(stored_files(&server).len(), 1);
    let data = server
        .ok_as(
            &owner,
            "{ duplicateAssets { sha256 sizeBytes assets { id } } assetStats { totalAssets totalBytes storedFiles storedBytes byType { mimeType count } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["duplicateAssets"][0]["sha256"], first["sha256"]);
    assert_eq!(
        data["duplicateAssets"][0]["assets"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let stats = &data["assetStats"];
    assert_eq!(stats["totalAssets"], 2);
    assert_eq!(stats["totalBytes"], 2 * image.len());
    assert_eq!(stats["storedFiles"], 1);
    assert_eq!(stats["storedBytes"], image.len());
    assert_eq!(
        stats["byType"],
        json!([{ "mimeType": "image/png", "count": 2 }])
    );

    let purge = |id: &Value| {
        let id = id.as_str().unwrap().to_owned();
        let server = &server;
        let owner = &owner;
        async move {
            server
                .ok_as(
                    owner,
                    "mutation($id: ID!) { deleteAsset(id: $id) }",
                    json!({ "id": id }),
                )
                .await;
            server
                .ok_as(
                    owner,
                    "mutation($id: ID!) { purgeAsset(id: $id) }",
                    json!({ "id": id }),
                )
                .await;
        }
    };
    purge(&first["id"]).await;
    // The other asset still uses the bytes.
    assert_eq!(stored_files(&server).len(), 1);
    let url = |body: &Value| server.url(body["public_url"].as_str().unwrap());
    let gone = server.http.get(url(&first)).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    let kept = server.http.get(url(&second)).send().await.unwrap();
    assert_eq!(kept.status(), 200);
    purge(&second["id"]).await;
    assert!(stored_files(&server).is_empty());
    assert_eq!(
        server.http.get(url(&second)).send().await.unwrap().status(),
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_served_with_caching_ranges_and_safe_headers() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    let image = png(30, 30);
    let body = upload(&server, &owner, "../../etc/evil\"name.png", image.clone()).await;
    // A path is data: only its last part is kept as the name.
    assert_eq!(body["original_filename"], "evil\"name.png");
    let url = server.url(body["public_url"].as_str().unwrap());
    let response = server.http.get(&url).send().await.unwrap();
    let headers = response.headers().clone();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["accept-ranges"], "bytes");
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("inline; filename=\"evil_name.png\""),
        "{disposition}"
    );
    assert!(
        disposition.contains("filename*=UTF-8''evil%22name.png"),
        "{disposition}"
    );
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", body["sha256"].as_str().unwrap()));

    let cached = server
        .http
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    assert!(cached.bytes().await.unwrap().is_empty());

    let part = server
        .http
        .get(&url)
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 10-19/{}", image.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &image[10..20]);
    let tail = server
        .http
        .get(&url)
        .header("range", "bytes=-5")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tail.bytes().await.unwrap().as_ref(),
        &image[image.len() - 5..]
    );
    let beyond = server
        .http
        .get(&url)
        .header("range", format!("bytes={}-", image.len() + 10))
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), 416);

    // Keys are unguessable: a made-up one finds nothing.
    let made_up = server
        .http
        .get(server.url("/files/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(made_up.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asset_urls_are_absolute_under_the_configured_public_address() {
    let server = TestServer::start_with(|config| {
        config.assets.public_base_url = Some("https://media.example.com/lore/".into());
    })
    .await;
    let owner = server.register("owner@example.com", "Studio").await;
    let body = upload(&server, &owner, "map.png", png(4, 4)).await;
    let url = body["public_url"].as_str().unwrap();
    let path = url
        .strip_prefix("https://media.example.com/lore")
        .expect("an absolute URL under the public address");
    assert!(path.starts_with("/files/"), "{url}");
    let found = processed(&server, &owner, body["id"].as_str().unwrap()).await;
    assert_eq!(found["publicUrl"], url);
    assert_eq!(found["thumbnailUrl"], format!("{url}/thumbnail"));
    // Behind the proxy that address stands for, the path is what this server serves.
    let served = server.http.get(server.url(path)).send().await.unwrap();
    assert_eq!(served.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processing_makes_a_thumbnail_and_tells_subscribers() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    let outsider = server.register("outsider@example.com", "Other").await;
    const PROCESSED: &str = "subscription { assetProcessed { assetId asset { processing width height thumbnailUrl } } }";
    let mut socket = subscribe_as(&server, &owner, PROCESSED, json!({})).await;
    let mut outsiders = subscribe_as(&server, &outsider, PROCESSED, json!({})).await;
    let body = upload(&server, &owner, "wide.png", png(1000, 500)).await;
    let event = next_data(&mut socket, "assetProcessed").await;
    assert_eq!(event["assetId"], body["id"]);
    assert_eq!(event["asset"]["processing"], "DONE");
    assert_eq!(event["asset"]["width"], 1000);
    let thumbnail_url = event["asset"]["thumbnailUrl"]
        .as_str()
        .expect("a thumbnail")
        .to_owned();
    let thumbnail = server
        .http
        .get(server.url(&thumbnail_url))
        .send()
        .await
        .unwrap();
    assert_eq!(thumbnail.status(), 200);
    assert_eq!(thumbnail.headers()["content-type"], "image/png");
    let thumbnail = image::load_from_memory(&thumbnail.bytes().await.unwrap()).expect("a PNG");
    assert_eq!((thumbnail.width(), thumbnail.height()), (256, 128));

    // The other tenant's subscriber hears only its own tenant's uploads.
    let theirs = upload(&server, &outsider, "theirs.png", png(3, 3)).await;
    let event = next_data(&mut outsiders, "assetProcessed").await;
    assert_eq!(event["assetId"], theirs["id"]);
    let status = server
        .ok_as(
            &owner,
            "{ assetQueueStatus { paused pending running failed done } }",
            json!({}),
        )
        .await;
    assert_eq!(
        status["assetQueueStatus"],
        json!({ "paused": false, "pending": 0, "running": 0, "failed": 0, "done": 1 })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_processing_is_recorded_retried_and_can_be_queued_again() {
    let server = TestServer::start_with(|config| {
        config.assets.max_attempts = 2;
        config.assets.first_retry = Duration::from_millis(50);
        config.assets.poll_interval = Duration::from_millis(50);
    })
    .await;
    let owner = server.register("owner@example.com", "Studio").await;
    // A PNG whose header is intact but whose pixels are cut off: it uploads, it cannot decode.
    let mut broken = png(64, 64);
    broken.truncate(broken.len() / 2);
    let body = upload(&server, &owner, "broken.png", broken).await;
    let id = body["id"].as_str().unwrap();
    let found = processed(&server, &owner, id).await;
    assert_eq!(found["processing"], "FAILED", "{found}");
    // Said in words for people: no paths or store details from the cause.
    assert_eq!(found["processingError"], "the image could not be decoded");
    assert!(found["thumbnailUrl"].is_null());
    let status = server
        .ok_as(&owner, "{ assetQueueStatus { failed pending } }", json!({}))
        .await;
    assert_eq!(
        status["assetQueueStatus"],
        json!({ "failed": 1, "pending": 0 })
    );
    let attempts = db_number(&server, "SELECT attempts::bigint AS n FROM asset_jobs").await;
    assert_eq!(attempts, 2, "retried once before giving up");

    // A WORLDBUILDER may not re-queue; an ADMIN may.
    let builder = server
        .invite_member(&owner, "builder@example.com", "WORLDBUILDER")
        .await;
    let requeue = "mutation($id: ID!) { requeueAsset(id: $id) { processing processingError } }";
    let refused = server.gql_as(&builder, requeue, json!({ "id": id })).await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let refused = server
        .gql_as(
            &builder,
            "mutation { pauseAssetQueue { paused } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let data = server.ok_as(&owner, requeue, json!({ "id": id })).await;
    assert_eq!(data["requeueAsset"]["processing"], "PENDING");
    assert_eq!(processed(&server, &owner, id).await["processing"], "FAILED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_queued_before_a_restart_is_processed_after_it() {
    let database_url = fresh_database().await;
    let store = tempfile::tempdir().unwrap();
    let dir = store.path().to_string_lossy().into_owned();
    let first = TestServer::start_on(database_url.clone(), |c| c.assets.store = dir.clone()).await;
    let owner = first.register("owner@example.com", "Studio").await;
    let paused = first
        .ok_as(&owner, "mutation { pauseAssetQueue { paused } }", json!({}))
        .await;
    assert_eq!(paused["pauseAssetQueue"]["paused"], true);
    let body = upload(&first, &owner, "later.png", png(300, 300)).await;
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(asset(&first, &owner, &id).await["processing"], "PENDING");
    first.shutdown().await;

    let second = TestServer::start_on(database_url, |c| c.assets.store = dir.clone()).await;
    let status = second
        .ok_as(&owner, "{ assetQueueStatus { paused pending } }", json!({}))
        .await;
    assert_eq!(
        status["assetQueueStatus"],
        json!({ "paused": true, "pending": 1 })
    );
    second
        .ok_as(
            &owner,
            "mutation { resumeAssetQueue { paused } }",
            json!({}),
        )
        .await;
    let found = processed(&second, &owner, &id).await;
    assert_eq!(found["processing"], "DONE");
    assert!(found["thumbnailUrl"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_worker_died_is_taken_over_until_its_attempts_run_out() {
    let server = TestServer::start_with(|config| config.assets.max_attempts = 3).await;
    let owner = server.register("owner@example.com", "Studio").await;
    server
        .ok_as(&owner, "mutation { pauseAssetQueue { paused } }", json!({}))
        .await;
    let survivor = upload(&server, &owner, "survivor.png", png(9, 9)).await;
    let doomed = upload(&server, &owner, "doomed.png", png(8, 8)).await;
    // As a worker that died mid-job leaves them: running, their leases run out, one of them
    // on its last attempt.
    {
        use diesel_async::RunQueryDsl;
        let mut db = server.db().await;
        for (asset, attempts) in [(&survivor, 1), (&doomed, 3)] {
            diesel::sql_query(
                "UPDATE asset_jobs SET state = 'running', attempts = $1,
                        lease_until = now() - interval '1 minute'
                 WHERE asset_id = $2::uuid",
            )
            .bind::<diesel::sql_types::Integer, _>(attempts)
            .bind::<diesel::sql_types::Text, _>(asset["id"].as_str().unwrap())
            .execute(&mut db)
            .await
            .unwrap();
        }
    }
    server
        .ok_as(
            &owner,
            "mutation { resumeAssetQueue { paused } }",
            json!({}),
        )
        .await;
    let taken_over = processed(&server, &owner, survivor["id"].as_str().unwrap()).await;
    assert_eq!(taken_over["processing"], "DONE", "{taken_over}");
    let given_up = processed(&server, &owner, doomed["id"].as_str().unwrap()).await;
    assert_eq!(given_up["processing"], "FAILED", "{given_up}");
    assert!(given_up["thumbnailUrl"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_are_tagged_linked_filtered_and_kept_in_a_recycle_bin() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    create_entity(&server, &owner, "LOCATION", "harbor", "Harbor", json!({})).await;
    let map = upload(&server, &owner, "harbor map.png", png(10, 10)).await;
    let sketch = upload(
        &server,
        &owner,
        "sketch.png",
        image_bytes(ImageFormat::Jpeg, 10, 10),
    )
    .await;
    let (map_id, sketch_id) = (map["id"].as_str().unwrap(), sketch["id"].as_str().unwrap());
    let data = ok_on(&server, &owner, "mutation($id: ID!) { updateAsset(id: $id, input: { tags: [\"map\", \" coast \", \"map\"], status: APPROVED }) { tags status }
               linkAsset(id: $id, entity: { type: LOCATION, entityId: \"harbor\" }) { entities { entityId } } }", map_id).await;
    assert_eq!(
        data["updateAsset"],
        json!({ "tags": ["map", "coast"], "status": "APPROVED" })
    );
    assert_eq!(
        data["linkAsset"]["entities"],
        json!([{ "entityId": "harbor" }])
    );
    let bad = gql_on(
        &server,
        &owner,
        "mutation($id: ID!) { updateAsset(id: $id, input: { tags: [\"\"] }) { tags } }",
        map_id,
    )
    .await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT");

    let list =
        "query($filter: AssetFilterInput) { assets(filter: $filter) { total assets { id } } }";
    let ids = |data: &Value| -> Vec<String> {
        data["assets"]["assets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect()
    };
    for (filter, expected) in [
        (json!({}), vec![sketch_id, map_id]),
        (json!({ "tag": "coast" }), vec![map_id]),
        (json!({ "fileType": "IMAGE" }), vec![sketch_id, map_id]),
        (json!({ "mimeType": "image/jpeg" }), vec![sketch_id]),
        (json!({ "search": "harb" }), vec![map_id]),
        (json!({ "status": "APPROVED" }), vec![map_id]),
        (
            json!({ "uploadedBy": owner.user_id }),
            vec![sketch_id, map_id],
        ),
        (
            json!({ "entity": { "type": "LOCATION", "entityId": "harbor" } }),
            vec![map_id],
        ),
    ] {
        let data = server
            .ok_as(&owner, list, json!({ "filter": filter }))
            .await;
        assert_eq!(ids(&data), expected, "filter {filter}");
    }

    // Into the recycle bin: out of lists and off the entity; back out with its link.
    ok_on(
        &server,
        &owner,
        "mutation($id: ID!) { deleteAsset(id: $id) }",
        map_id,
    )
    .await;
    let data = server.ok_as(&owner, list, json!({ "filter": {} })).await;
    assert_eq!(ids(&data), vec![sketch_id]);
    let data = server
        .ok_as(
            &owner,
            "{ recycledAssets { total assets { id deletedAt } } entity(type: LOCATION, entityId: \"harbor\") { assets { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["recycledAssets"]["total"], 1);
    assert!(data["recycledAssets"]["assets"][0]["deletedAt"].is_string());
    assert_eq!(data["entity"]["assets"], json!([]));
    ok_on(
        &server,
        &owner,
        "mutation($id: ID!) { restoreAsset(id: $id) { deletedAt } }",
        map_id,
    )
    .await;
    let data = entity_assets(&server, &owner, "LOCATION", "harbor").await;
    assert_eq!(data["assets"], json!([{ "id": map_id }]));
    let unlinked = ok_on(&server, &owner, "mutation($id: ID!) { unlinkAsset(id: $id, entity: { type: LOCATION, entityId: \"harbor\" }) }", map_id).await;
    assert_eq!(unlinked["unlinkAsset"], true);

    // Purging is for ADMINs; a WORLDBUILDER may recycle but not purge or empty the bin.
    let builder = server
        .invite_member(&owner, "builder@example.com", "WORLDBUILDER")
        .await;
    ok_on(
        &server,
        &builder,
        "mutation($id: ID!) { deleteAsset(id: $id) }",
        sketch_id,
    )
    .await;
    let refused = gql_on(
        &server,
        &builder,
        "mutation($id: ID!) { purgeAsset(id: $id) }",
        sketch_id,
    )
    .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let refused = server
        .gql_as(&builder, "mutation { emptyAssetRecycleBin }", json!({}))
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let emptied = server
        .ok_as(&owner, "mutation { emptyAssetRecycleBin }", json!({}))
        .await;
    assert_eq!(emptied["emptyAssetRecycleBin"], 1);
    assert!(asset(&server, &owner, sketch_id).await.is_null());

    // A PLAYER reads but does not upload.
    let player = server
        .invite_member(&owner, "player@example.com", "PLAYER")
        .await;
    let (status, _) = upload_to(
        &server,
        &player,
        "/api/assets/upload",
        "p.png",
        "image/png",
        png(2, 2),
        &[],
    )
    .await;
    assert_eq!(status, 403);
    let data = server.ok_as(&player, list, json!({ "filter": {} })).await;
    assert_eq!(data["assets"]["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenant_can_neither_see_nor_touch_our_assets() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    let outsider = server.register("outsider@example.com", "Rival").await;
    create_entity(&server, &owner, "CHARACTER", "rex", "Rex", json!({})).await;
    create_entity(&server, &outsider, "CHARACTER", "spy", "Spy", json!({})).await;
    let (status, ours) = upload_to(
        &server,
        &owner,
        "/api/upload/character/rex",
        "ours.png",
        "image/png",
        png(6, 6),
        &[],
    )
    .await;
    assert_eq!(status, 201);
    let id = ours["id"].as_str().unwrap();
    let theirs = upload(&server, &outsider, "theirs.png", png(7, 7)).await;

    // Nothing of ours shows in their reads.
    assert!(asset(&server, &outsider, id).await.is_null());
    let data = server
        .ok_as(
            &outsider,
            "{ assets { total assets { id } } duplicateAssets { sha256 } assetStats { totalAssets } }",
            json!({}),
        )
        .await;
    assert_eq!(data["assets"]["assets"], json!([{ "id": theirs["id"] }]));
    assert_eq!(data["assetStats"]["totalAssets"], 1);
    let live_changes = [
        "mutation($id: ID!) { updateAsset(id: $id, input: { tags: [\"stolen\"] }) { id } }",
        "mutation($id: ID!) { linkAsset(id: $id, entity: { type: CHARACTER, entityId: \"spy\" }) { id } }",
        "mutation($id: ID!) { unlinkAsset(id: $id, entity: { type: CHARACTER, entityId: \"spy\" }) }",
        "mutation($id: ID!) { deleteAsset(id: $id) }",
        "mutation($id: ID!) { requeueAsset(id: $id) { id } }",
    ];
    for mutation in live_changes {
        let body = gql_on(&server, &outsider, mutation, id).await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{mutation}: {body}");
    }
    // Their asset cannot be hung on our entity, nor can they upload onto it.
    let body = gql_on(
        &server,
        &outsider,
        "mutation($id: ID!) { linkAsset(id: $id, entity: { type: CHARACTER, entityId: \"rex\" }) { id } }",
        &theirs["id"],
    )
    .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let (status, _) = upload_to(
        &server,
        &outsider,
        "/api/upload/character/rex",
        "x.png",
        "image/png",
        png(2, 2),
        &[],
    )
    .await;
    assert_eq!(status, 404);

    // In our recycle bin it is still out of their reach: no restore, no purge, and emptying
    // their own bin leaves it be.
    ok_on(
        &server,
        &owner,
        "mutation($id: ID!) { deleteAsset(id: $id) }",
        id,
    )
    .await;
    for mutation in [
        "mutation($id: ID!) { restoreAsset(id: $id) { id } }",
        "mutation($id: ID!) { purgeAsset(id: $id) }",
    ] {
        let body = gql_on(&server, &outsider, mutation, id).await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{mutation}: {body}");
    }
    let emptied = server
        .ok_as(&outsider, "mutation { emptyAssetRecycleBin }", json!({}))
        .await;
    assert_eq!(emptied["emptyAssetRecycleBin"], 0);
    let data = server
        .ok_as(&outsider, "{ recycledAssets { total } }", json!({}))
        .await;
    assert_eq!(data["recycledAssets"]["total"], 0);

    // Restored by us, it comes back untouched, still on Rex.
    let restored = ok_on(
        &server,
        &owner,
        "mutation($id: ID!) { restoreAsset(id: $id) { tags entities { entityId } } }",
        id,
    )
    .await;
    assert_eq!(
        restored["restoreAsset"],
        json!({ "tags": [], "entities": [{ "entityId": "rex" }] })
    );
    let data = entity_assets(&server, &owner, "CHARACTER", "rex").await;
    assert_eq!(data["primaryAsset"]["id"], id);

    // Pausing our queue holds our jobs only: theirs run on.
    server
        .ok_as(&owner, "mutation { pauseAssetQueue { paused } }", json!({}))
        .await;
    let later = upload(&server, &outsider, "later.png", png(5, 5)).await;
    let found = processed(&server, &outsider, later["id"].as_str().unwrap()).await;
    assert_eq!(found["processing"], "DONE");
    let status = server
        .ok_as(&outsider, "{ assetQueueStatus { paused } }", json!({}))
        .await;
    assert_eq!(status["assetQueueStatus"]["paused"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_upload_requests_get_clear_errors_and_store_nothing() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    create_entity(&server, &owner, "CHARACTER", "rex", "Rex", json!({})).await;
    // No credentials.
    let form = Form::new().part("file", Part::bytes(png(2, 2)).file_name("a.png"));
    let response = server
        .http
        .post(server.url("/api/assets/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // A form without its `file`.
    let response = server
        .http
        .post(server.url("/api/assets/upload"))
        .bearer_auth(&owner.token)
        .multipart(Form::new().text("entity_type", "character"))
        .send()
        .await
        .unwrap();
    // A request that does not fit the upload's shape: 422, as seed 001 answers it.
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("`file`"),
        "{body}"
    );
    // Half a target, or a type that does not exist.
    for fields in [
        vec![("entity_type", "character")],
        vec![("entity_type", "spaceship"), ("entity_id", "rex")],
    ] {
        let (status, body) = upload_to(
            &server,
            &owner,
            "/api/assets/upload",
            "a.png",
            "image/png",
            png(2, 2),
            &fields,
        )
        .await;
        assert_eq!(status, 422, "{fields:?}: {body}");
    }
    let (status, _) = upload_to(
        &server,
        &owner,
        "/api/upload/spaceship/rex",
        "a.png",
        "image/png",
        png(2, 2),
        &[],
    )
    .await;
    assert_eq!(status, 422);
    let body = graphql_upload(
        &server,
        &owner,
        "a.png",
        &png(2, 2),
        ", entityType: CHARACTER",
    )
    .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    // With both, the form's target is honoured.
    let (status, body) = upload_to(
        &server,
        &owner,
        "/api/assets/upload",
        "a.png",
        "image/png",
        png(2, 2),
        &[("entity_type", "CHARACTER"), ("entity_id", "rex")],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(count_assets(&server).await, 1);
    let data = entity_assets(&server, &owner, "CHARACTER", "rex").await;
    assert_eq!(data["assets"], json!([{ "id": body["id"] }]));
    // Linked, not made primary: only the per-entity routes and `primary` do that.
    assert!(data["primaryAsset"].is_null());
}

/// A bucket speaking the S3 REST API's path-style object calls (PUT, GET with ranges, HEAD,
/// DELETE), enough for the production object_store client to run against it.
mod fake_s3 {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use axum::body::Bytes;
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, Method, StatusCode, header};
    use axum::response::{IntoResponse, Response};

    pub type Objects = Arc<Mutex<BTreeMap<String, Vec<u8>>>>;

    async fn object(
        State(objects): State<Objects>,
        method: Method,
        Path(path): Path<String>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let mut objects = objects.lock().unwrap();
        if method == Method::POST {
            // DeleteObjects (`POST /bucket?delete`): the keys to remove are in the XML body.
            let body = String::from_utf8_lossy(&body);
            let mut deleted = String::new();
            for key in body
                .split("<Key>")
                .skip(1)
                .filter_map(|k| k.split_once("</Key>"))
            {
                objects.remove(&format!("{path}/{}", key.0));
                deleted += &format!("<Deleted><Key>{}</Key></Deleted>", key.0);
            }
            let result = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DeleteResult>{deleted}</DeleteResult>"
            );
            return (StatusCode::OK, result).into_response();
        }
        if method == Method::PUT {
            objects.insert(path, body.to_vec());
            return (StatusCode::OK, [(header::ETAG, "\"v1\"")]).into_response();
        }
        if method == Method::DELETE {
            objects.remove(&path);
            return StatusCode::NO_CONTENT.into_response();
        }
        let Some(bytes) = objects.get(&path) else {
            let missing = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>none</Message></Error>";
            return (StatusCode::NOT_FOUND, missing).into_response();
        };
        let total = bytes.len();
        let (status, start, end) = match headers
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("bytes="))
            .and_then(|v| v.split_once('-'))
        {
            Some((start, end)) => {
                let start: usize = start.parse().unwrap();
                let end: usize = end.parse::<usize>().map_or(total - 1, |e| e.min(total - 1));
                (StatusCode::PARTIAL_CONTENT, start, end)
            }
            None => (StatusCode::OK, 0, total - 1),
        };
        let mut response = if method == Method::HEAD {
            status.into_response()
        } else {
            (status, bytes[start..=end].to_vec()).into_response()
        };
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_LENGTH, (end + 1 - start).into());
        headers.insert(header::ETAG, "\"v1\"".parse().unwrap());
        headers.insert(
            header::LAST_MODIFIED,
            "Mon, 30 Nov 2026 10:00:00 GMT".parse().unwrap(),
        );
        if status == StatusCode::PARTIAL_CONTENT {
            headers.insert(
                header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{total}").parse().unwrap(),
            );
        }
        response
    }

    /// Serves a bucket on an ephemeral port; returns its endpoint and its objects by path.
    pub async fn start() -> (String, Objects) {
        let objects = Objects::default();
        let app = axum::Router::new()
            .route("/{*path}", axum::routing::any(object))
            .with_state(objects.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (endpoint, objects)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_can_live_in_an_s3_compatible_bucket() {
    let (endpoint, objects) = fake_s3::start().await;
    let server = TestServer::start_with(|config| {
        config.assets.store = "s3://pictures/studio-one".into();
        config.assets.store_options = [
            ("aws_endpoint", endpoint.as_str()),
            ("aws_allow_http", "true"),
            ("aws_region", "us-east-1"),
            ("aws_access_key_id", "test"),
            ("aws_secret_access_key", "test"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec();
    })
    .await;
    let owner = server.register("owner@example.com", "Studio").await;
    let image = png(400, 200);
    let body = upload(&server, &owner, "banner.png", image.clone()).await;
    let sha = body["sha256"].as_str().unwrap();
    let original = format!(
        "pictures/studio-one/originals/{}/{}/{sha}",
        owner.tenant_id,
        &sha[..2]
    );
    assert_eq!(
        objects.lock().unwrap().get(&original),
        Some(&image),
        "{:?}",
        objects.lock().unwrap().keys().collect::<Vec<_>>()
    );
    // Served from the bucket, ranges included.
    let url = server.url(body["public_url"].as_str().unwrap());
    let part = server
        .http
        .get(&url)
        .header("range", "bytes=0-7")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap().as_ref(), &image[..8]);
    // Processing reads it back and writes the thumbnail beside it.
    let found = processed(&server, &owner, body["id"].as_str().unwrap()).await;
    assert_eq!(found["processing"], "DONE", "{found}");
    let thumbnail = format!(
        "pictures/studio-one/thumbnails/{}/{}/{sha}.png",
        owner.tenant_id,
        &sha[..2]
    );
    assert!(objects.lock().unwrap().contains_key(&thumbnail));
    // Purging the only asset removes both objects.
    ok_on(
        &server,
        &owner,
        "mutation($id: ID!) { deleteAsset(id: $id) }",
        &body["id"],
    )
    .await;
    ok_on(
        &server,
        &owner,
        "mutation($id: ID!) { purgeAsset(id: $id) }",
        &body["id"],
    )
    .await;
    assert!(objects.lock().unwrap().is_empty());
}
