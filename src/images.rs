//! Photos and logos sent through the web pages: checked, decoded under
//! limits and re-encoded before anything is stored.
//!
//! An upload is refused — with a reason the page says in French — when it
//! is larger than the configured limit, is not a JPEG, PNG or WebP (the
//! bytes are sniffed, the name and the declared type are not trusted),
//! claims more than [`MAX_SIDE`] pixels on a side or [`MAX_PIXELS`] in
//! all (a decompression bomb: a few kilobytes that would decode into
//! gigabytes are refused from their header, before decoding), or does not
//! decode. An accepted image is turned the right way up (EXIF orientation)
//! and re-encoded at two sizes — [`DISPLAY_SIDE`] and [`THUMBNAIL_SIDE`]
//! pixels at most — as JPEG, or PNG when it has transparency (a logo):
//! re-encoding drops every metadata (a phone photo's GPS position) and
//! anything hidden in the file. Pure computation on bytes, no I/O.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Longest side accepted, in pixels.
pub const MAX_SIDE: u32 = 10_000;
/// Most pixels accepted (40 megapixels: any phone's photo).
pub const MAX_PIXELS: u64 = 40_000_000;
/// Longest side of the display size.
pub const DISPLAY_SIDE: u32 = 1200;
/// Longest side of the thumbnail.
pub const THUMBNAIL_SIDE: u32 = 320;
/// Most memory one decoding may take.
const MAX_ALLOC: u64 = 512 * 1024 * 1024;
/// JPEG quality of the stored sizes.
const JPEG_QUALITY: u8 = 82;

/// An accepted image, at its two stored sizes.
#[derive(Debug, Clone)]
pub struct Processed {
    /// `image/jpeg` or `image/png`.
    pub content_type: &'static str,
    pub display: Vec<u8>,
    pub thumbnail: Vec<u8>,
    /// Size of the display image.
    pub width: u32,
    pub height: u32,
}

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("empty file")]
    Empty,
    #[error("larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("not a JPEG, PNG or WebP image")]
    NotAnImage,
    #[error("too many pixels")]
    TooManyPixels,
    #[error("the image does not decode")]
    Corrupt,
}

impl Refusal {
    /// The reason, in French, for the page.
    pub fn french(&self) -> String {
        match self {
            Refusal::Empty => "Le fichier est vide.".to_owned(),
            Refusal::TooLarge { limit } => format!(
                "Le fichier dépasse {} Mo : choisissez une image plus légère.",
                limit.div_ceil(1024 * 1024)
            ),
            Refusal::NotAnImage => "Ce fichier n'est pas une image JPEG, PNG ou WebP.".to_owned(),
            Refusal::TooManyPixels => format!(
                "L'image est trop grande ({} pixels de côté et {} millions de pixels au plus).",
                MAX_SIDE,
                MAX_PIXELS / 1_000_000
            ),
            Refusal::Corrupt => "L'image est abîmée ou illisible.".to_owned(),
        }
    }
}

/// Checks, decodes and re-encodes an uploaded image.
pub fn process(bytes: &[u8], limit: usize) -> Result<Processed, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    if bytes.len() > limit {
        return Err(Refusal::TooLarge { limit });
    }
    let format = image::guess_format(bytes).map_err(|_| Refusal::NotAnImage)?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
    ) {
        return Err(Refusal::NotAnImage);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(refusal)?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(Refusal::TooManyPixels);
    }
    let orientation = decoder.orientation().map_err(refusal)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(refusal)?;
    image.apply_orientation(orientation);
    stored_sizes(&image)
}

/// An image (already decoded, or drawn) at its two stored sizes.
pub fn stored_sizes(image: &DynamicImage) -> Result<Processed, Refusal> {
    let display = shrink(image, DISPLAY_SIDE);
    let thumbnail = shrink(image, THUMBNAIL_SIDE);
    let transparent = image.color().has_alpha();
    Ok(Processed {
        content_type: if transparent {
            "image/png"
        } else {
            "image/jpeg"
        },
        width: display.width(),
        height: display.height(),
        display: encode(&display, transparent)?,
        thumbnail: encode(&thumbnail, transparent)?,
    })
}

fn refusal(e: image::ImageError) -> Refusal {
    match e {
        image::ImageError::Limits(_) => Refusal::TooManyPixels,
        image::ImageError::Unsupported(_) => Refusal::NotAnImage,
        _ => Refusal::Corrupt,
    }
}

/// The image with its longest side at most `side` (never enlarged).
fn shrink(image: &DynamicImage, side: u32) -> DynamicImage {
    if image.width() <= side && image.height() <= side {
        image.clone()
    } else {
        image.resize(side, side, FilterType::Lanczos3)
    }
}

fn encode(image: &DynamicImage, transparent: bool) -> Result<Vec<u8>, Refusal> {
    let mut out = Cursor::new(Vec::new());
    if transparent {
        image
            .to_rgba8()
            .write_to(&mut out, ImageFormat::Png)
            .map_err(|_| Refusal::Corrupt)?;
    } else {
        let rgb = image.to_rgb8();
        JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
            .encode_image(&rgb)
            .map_err(|_| Refusal::Corrupt)?;
    }
    Ok(out.into_inner())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    use super::*;

    const LIMIT: usize = 8 * 1024 * 1024;

    fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn photo(w: u32, h: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        }))
    }

    #[test]
    fn a_large_photo_is_stored_at_two_sizes_as_jpeg() {
        for format in [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::WebP] {
            let bytes = encoded(&photo(2400, 1600), format);
            let done = process(&bytes, LIMIT).unwrap();
            assert_eq!(done.content_type, "image/jpeg", "{format:?}");
            assert_eq!((done.width, done.height), (1200, 800));
            let thumb = image::load_from_memory(&done.thumbnail).unwrap();
            assert_eq!((thumb.width(), thumb.height()), (320, 213));
            assert_eq!(
                image::guess_format(&done.display).unwrap(),
                ImageFormat::Jpeg
            );
        }
    }

    #[test]
    fn a_small_logo_keeps_its_size_and_transparency() {
        let logo = DynamicImage::ImageRgba8(RgbaImage::from_pixel(200, 100, Rgba([30, 90, 50, 0])));
        let done = process(&encoded(&logo, ImageFormat::Png), LIMIT).unwrap();
        assert_eq!(done.content_type, "image/png");
        assert_eq!((done.width, done.height), (200, 100));
    }

    #[test]
    fn what_is_not_an_image_is_refused() {
        assert_eq!(process(b"", LIMIT).unwrap_err(), Refusal::Empty);
        assert_eq!(
            process(b"%PDF-1.4 not a photo", LIMIT).unwrap_err(),
            Refusal::NotAnImage
        );
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
        assert_eq!(process(gif, LIMIT).unwrap_err(), Refusal::NotAnImage);
        let mut broken = encoded(&photo(64, 64), ImageFormat::Png);
        broken.truncate(60);
        assert_eq!(process(&broken, LIMIT).unwrap_err(), Refusal::Corrupt);
    }

    #[test]
    fn too_large_files_are_refused_before_decoding() {
        let bytes = encoded(&photo(64, 64), ImageFormat::Png);
        assert_eq!(
            process(&bytes, bytes.len() - 1).unwrap_err(),
            Refusal::TooLarge {
                limit: bytes.len() - 1
            }
        );
    }

    /// A PNG whose header claims 50,000 × 50,000 pixels (10 GB decoded).
    fn bomb() -> Vec<u8> {
        bomb_of(50_000, 50_000)
    }

    fn bomb_of(w: u32, h: u32) -> Vec<u8> {
        // A real 1×1 PNG with its IHDR's size rewritten (and its CRC fixed).
        let mut png = encoded(&photo(1, 1), ImageFormat::Png);
        png[16..20].copy_from_slice(&w.to_be_bytes());
        png[20..24].copy_from_slice(&h.to_be_bytes());
        let crc = crc32fast::hash(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        png
    }

    #[test]
    fn a_decompression_bomb_is_refused_from_its_header() {
        let bytes = bomb();
        assert!(bytes.len() < 200, "a few bytes");
        assert_eq!(process(&bytes, LIMIT).unwrap_err(), Refusal::TooManyPixels);
        // Within each side's limit but too many pixels in all.
        assert_eq!(
            process(&bomb_of(9_000, 9_000), LIMIT).unwrap_err(),
            Refusal::TooManyPixels
        );
    }

    #[test]
    fn refusals_are_said_in_french() {
        assert_eq!(
            Refusal::TooLarge {
                limit: 8 * 1024 * 1024
            }
            .french(),
            "Le fichier dépasse 8 Mo : choisissez une image plus légère."
        );
        assert!(Refusal::NotAnImage.french().contains("JPEG, PNG ou WebP"));
    }
}
