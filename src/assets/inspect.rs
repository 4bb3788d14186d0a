//! What an upload is, read from its bytes alone: only PNG, JPEG, GIF and WEBP images are taken,
//! and only at dimensions that are safe to decode.

use std::io::Cursor;

use image::{ImageFormat, ImageReader};

use crate::config::AssetSettings;
use crate::error::{AppError, AppResult};

/// The image formats uploads may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl ImageKind {
    /// Recognises the format by its magic bytes; the declared type and name play no part.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        match infer::get(bytes)?.mime_type() {
            "image/png" => Some(Self::Png),
            "image/jpeg" => Some(Self::Jpeg),
            "image/gif" => Some(Self::Gif),
            "image/webp" => Some(Self::Webp),
            _ => None,
        }
    }

    pub fn mime_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
        }
    }

    pub fn from_mime_type(mime_type: &str) -> Option<Self> {
        [Self::Png, Self::Jpeg, Self::Gif, Self::Webp]
            .into_iter()
            .find(|kind| kind.mime_type() == mime_type)
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Gif => "gif",
            Self::Webp => "webp",
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            Self::Png => ImageFormat::Png,
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Gif => ImageFormat::Gif,
            Self::Webp => ImageFormat::WebP,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct ImageInfo {
    pub kind: ImageKind,
    pub width: u32,
    pub height: u32,
}

/// The format and dimensions of an upload, read from its header without decoding the pixels.
/// Not an image of an accepted format → UNSUPPORTED_MEDIA_TYPE; dimensions beyond the limits
/// (a decompression bomb: a few kilobytes that would decode to gigabytes) → PAYLOAD_TOO_LARGE.
pub fn inspect(bytes: &[u8], settings: &AssetSettings) -> AppResult<ImageInfo> {
    let kind = ImageKind::sniff(bytes).ok_or_else(|| {
        AppError::UnsupportedMediaType("only PNG, JPEG, GIF and WEBP images can be uploaded".into())
    })?;
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), kind.format())
        .into_dimensions()
        .map_err(|_| {
            AppError::UnsupportedMediaType(format!(
                "the file starts like {} but is not a readable image",
                kind.mime_type()
            ))
        })?;
    check_dimensions(width, height, settings)?;
    Ok(ImageInfo {
        kind,
        width,
        height,
    })
}

fn check_dimensions(width: u32, height: u32, settings: &AssetSettings) -> AppResult<()> {
    let pixels = u64::from(width) * u64::from(height);
    if width == 0 || height == 0 {
        return Err(AppError::UnsupportedMediaType(
            "the image has no pixels".into(),
        ));
    }
    if width > settings.max_side || height > settings.max_side || pixels > settings.max_pixels {
        return Err(AppError::PayloadTooLarge(format!(
            "the image is {width} × {height} pixels; at most {} pixels a side and {} pixels in all are accepted",
            settings.max_side, settings.max_pixels
        )));
    }
    Ok(())
}

/// Decodes the image (within the same limits, whatever its header claimed) and renders a PNG
/// thumbnail that fits in a `thumbnail_side` square, keeping the aspect ratio. Animated images
/// give their first frame.
pub fn thumbnail(
    bytes: &[u8],
    kind: ImageKind,
    settings: &AssetSettings,
) -> anyhow::Result<Vec<u8>> {
    let image = decode(bytes, kind, settings)?;
    let side = settings.thumbnail_side;
    let small = if image.width() <= side && image.height() <= side {
        image
    } else {
        image.thumbnail(side, side)
    };
    let mut png = Vec::new();
    small.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)?;
    Ok(png)
}

/// The image as a PNG of the same size (an export that wants PNGs), decoded within the same
/// limits. Animated images give their first frame.
pub fn to_png(bytes: &[u8], kind: ImageKind, settings: &AssetSettings) -> anyhow::Result<Vec<u8>> {
    let image = decode(bytes, kind, settings)?;
    let mut png = Vec::new();
    image.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)?;
    Ok(png)
}

fn decode(
    bytes: &[u8],
    kind: ImageKind,
    settings: &AssetSettings,
) -> anyhow::Result<image::DynamicImage> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(settings.max_side);
    limits.max_image_height = Some(settings.max_side);
    // Four bytes per pixel, plus headroom for the decoder's own buffers.
    limits.max_alloc = Some(
        settings
            .max_pixels
            .saturating_mul(4)
            .saturating_add(64 << 20),
    );
    reader.limits(limits);
    Ok(reader.decode()?)
}
