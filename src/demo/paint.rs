//! Pictures for the demo, drawn here (no network, no bundled photos):
//! a round logo in the farm's colour, a landscape for the portrait, and a
//! stylised still life per product — a crate of round shapes in the
//! colours of its category. Deterministic: the same name draws the same
//! picture.

use image::{DynamicImage, Rgb, RgbImage, Rgba, RgbaImage};

/// A small deterministic generator (xorshift), seeded from a name.
struct Dice(u64);

impl Dice {
    fn new(name: &str) -> Dice {
        let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        Dice(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A float in `[lo, hi)`.
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (self.next() % 10_000) as f32 / 10_000.0 * (hi - lo)
    }
}

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    [0, 1, 2].map(|i| (f32::from(a[i]) * (1.0 - t) + f32::from(b[i]) * t) as u8)
}

/// Colours of a category's produce (main, shade).
fn palette(category: &str) -> ([u8; 3], [u8; 3]) {
    let c = category.to_lowercase();
    if c.contains("fromage") || c.contains("laiti") {
        ([246, 236, 200], [214, 190, 130])
    } else if c.contains("pain") || c.contains("boulang") || c.contains("viennois") {
        ([214, 150, 74], [150, 90, 40])
    } else if c.contains("œuf") || c.contains("oeuf") {
        ([236, 214, 180], [190, 160, 120])
    } else if c.contains("viande") || c.contains("volaille") {
        ([196, 92, 80], [140, 50, 44])
    } else if c.contains("miel") || c.contains("épicerie") || c.contains("boisson") {
        ([232, 170, 40], [180, 110, 20])
    } else if c.contains("fruit") {
        ([214, 60, 60], [150, 30, 30])
    } else {
        ([120, 170, 70], [70, 110, 40])
    }
}

/// A still life of `name` (a product of `category`), 480 × 360.
pub fn produce(name: &str, category: &str) -> DynamicImage {
    let (w, h) = (480u32, 360u32);
    let mut dice = Dice::new(name);
    let (main, shade) = palette(category);
    // A wooden crate: planks of slightly different browns.
    let mut img = RgbImage::from_fn(w, h, |_, y| {
        let plank = y / 45;
        let tone: [u8; 3] = if plank % 2 == 0 {
            [170, 128, 84]
        } else {
            [156, 116, 76]
        };
        let grain = ((y % 45) as f32 / 45.0 * 0.15) + 0.9;
        Rgb(tone.map(|c| (f32::from(c) * grain) as u8))
    });
    let count = 7 + dice.next() % 6;
    for _ in 0..count {
        let (cx, cy) = (dice.range(45.0, 435.0), dice.range(45.0, 315.0));
        let (rx, ry) = (dice.range(34.0, 68.0), dice.range(30.0, 60.0));
        let tint = dice.range(0.0, 0.35);
        let body = mix(main, shade, tint);
        let (x0, x1) = ((cx - rx).max(0.0) as u32, ((cx + rx) as u32).min(w - 1));
        let (y0, y1) = ((cy - ry).max(0.0) as u32, ((cy + ry) as u32).min(h - 1));
        for y in y0..=y1 {
            for x in x0..=x1 {
                let (dx, dy) = ((x as f32 - cx) / rx, (y as f32 - cy) / ry);
                let d = dx * dx + dy * dy;
                if d <= 1.0 {
                    // Lit from the top left, darker at the rim.
                    let light = (1.0 - ((dx + 0.45).powi(2) + (dy + 0.45).powi(2)).sqrt() / 1.6)
                        .clamp(0.0, 1.0);
                    let lit = mix(mix(body, shade, d * 0.8), [255, 255, 240], light * 0.45);
                    img.put_pixel(x, y, Rgb(lit));
                }
            }
        }
    }
    DynamicImage::ImageRgb8(img)
}

/// A round logo in `colour` with a leaf, transparent around, 256 × 256.
pub fn logo(colour: [u8; 3]) -> DynamicImage {
    let size = 256u32;
    let c = size as f32 / 2.0;
    let img = RgbaImage::from_fn(size, size, |x, y| {
        let (dx, dy) = (x as f32 - c, y as f32 - c);
        let r = (dx * dx + dy * dy).sqrt();
        if r > 120.0 {
            return Rgba([0, 0, 0, 0]);
        }
        // A leaf: the lens between two circles, white on the disc.
        let left = ((dx + 40.0).powi(2) + dy.powi(2)).sqrt() < 75.0;
        let right = ((dx - 40.0).powi(2) + dy.powi(2)).sqrt() < 75.0;
        let vein = dx.abs() < 3.0 && dy.abs() < 60.0;
        if left && right && !vein {
            Rgba([255, 255, 255, 255])
        } else if r > 108.0 {
            let [r_, g, b] = mix(colour, [255, 255, 255], 0.35);
            Rgba([r_, g, b, 255])
        } else {
            Rgba([colour[0], colour[1], colour[2], 255])
        }
    });
    DynamicImage::ImageRgba8(img)
}

/// Fields under the sky, 720 × 480, for a portrait of the farm.
pub fn landscape(name: &str) -> DynamicImage {
    let (w, h) = (720u32, 480u32);
    let mut dice = Dice::new(name);
    let phase = dice.range(0.0, 6.0);
    let sun = (dice.range(110.0, 610.0), dice.range(70.0, 150.0));
    let img = RgbImage::from_fn(w, h, |x, y| {
        let (xf, yf) = (x as f32, y as f32);
        let hills = [
            (285.0, 30.0, 0.008, [126u8, 170, 96]),
            (338.0, 22.0, 0.015, [96, 146, 70]),
            (398.0, 19.0, 0.023, [74, 120, 54]),
        ];
        let mut colour = mix([120, 176, 230], [236, 240, 250], yf / 315.0);
        if ((xf - sun.0).powi(2) + (yf - sun.1).powi(2)).sqrt() < 36.0 {
            colour = [255, 226, 120];
        }
        for (base, amplitude, frequency, green) in hills {
            let top = base + amplitude * (xf * frequency + phase).sin();
            if yf > top {
                // Rows of crops on the nearest field.
                let rows = if frequency > 0.02 && ((yf - top) as u32 / 6) % 2 == 0 {
                    0.9
                } else {
                    1.0
                };
                colour = green.map(|c| (f32::from(c) * rows) as u8);
            }
        }
        Rgb(colour)
    });
    DynamicImage::ImageRgb8(img)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_deterministic_and_of_their_size() {
        let a = produce("Pommes de terre", "Légumes");
        let b = produce("Pommes de terre", "Légumes");
        assert_eq!(a.as_bytes(), b.as_bytes());
        assert_ne!(a.as_bytes(), produce("Carottes", "Légumes").as_bytes());
        assert_eq!((a.width(), a.height()), (480, 360));
        let logo = logo([30, 91, 53]);
        assert!(logo.color().has_alpha());
        assert_eq!(landscape("Ferme").width(), 720);
    }
}
