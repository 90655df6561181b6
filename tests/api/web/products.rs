//! The producer's Produits pages through HTTP: VAT rates, a product with a
//! photo and two offers (the guide's potatoes) with prices excl. VAT, the
//! preview, refused uploads that store nothing, another producer's
//! product answering 404.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use sqlx::Row;

use crate::helpers::{count_rows, spawn_app, TestApp};
use crate::web_client::WebClient;

/// A photo of `w` × `h` pixels encoded as `format`.
pub fn photo(w: u32, h: u32, format: ImageFormat) -> Vec<u8> {
    let image = DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        Rgb([(x % 200) as u8 + 30, (y % 200) as u8 + 20, 60])
    }));
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

/// A PNG of a few bytes whose header claims 50,000 × 50,000 pixels.
pub fn decompression_bomb() -> Vec<u8> {
    let mut png = photo(1, 1, ImageFormat::Png);
    png[16..20].copy_from_slice(&50_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&50_000u32.to_be_bytes());
    let crc = crc32fast::hash(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// A new producer signed in through the sign-up page: its browser and
/// its products' base path.
pub async fn new_producer(app: &TestApp, farm: &str) -> (WebClient, String) {
    let browser = WebClient::new(app);
    let email = format!("{}@ferme.example", uuid::Uuid::new_v4().simple());
    let space = browser
        .post(
            "/inscription",
            &[
                ("name", "Paul"),
                ("email", &email),
                ("password", "un mot de passe"),
                ("producer_name", farm),
            ],
        )
        .await
        .expect(303)
        .location();
    (browser, format!("{space}/produits"))
}

#[actix_web::test]
async fn vat_rates_a_product_with_a_photo_and_two_offers() {
    let app = spawn_app().await;
    let (browser, products) = new_producer(&app, "Ferme du Grand Champ").await;

    let refused = browser
        .post(
            &format!("{products}/tva"),
            &[("name", "Taux réduit"), ("rate", "beaucoup")],
        )
        .await
        .expect(422);
    assert_eq!(
        refused.field_error("rate").as_deref(),
        Some("Indiquez un nombre, comme 2,50.")
    );
    assert_eq!(refused.field_value("name").as_deref(), Some("Taux réduit"));
    browser
        .post(
            &format!("{products}/tva"),
            &[("name", "Taux réduit"), ("rate", "5,5")],
        )
        .await
        .expect(303);
    let vat_page = browser.get(&format!("{products}/tva")).await.expect(200);
    assert!(vat_page.shows("Taux réduit") && vat_page.shows("5,5\u{202f}%"));
    let vat_id: uuid::Uuid = sqlx::query("SELECT id FROM vat_rates WHERE name = 'Taux réduit'")
        .fetch_one(&app.db)
        .await
        .expect("rate")
        .get(0);

    let created = browser
        .post_multipart(
            &format!("{products}/nouveau"),
            &[
                ("name", "Pommes de terre"),
                ("description", "Charlotte, récoltées à la main."),
                ("category", "Légumes"),
                ("unit", "kg"),
                ("organic", "on"),
                ("active", "on"),
            ],
            &[(
                "photo",
                "patates.webp",
                "image/webp",
                &photo(1600, 1200, ImageFormat::WebP),
            )],
            false,
        )
        .await
        .expect(303);
    let product_page = created.location();
    let product_id = product_page.rsplit('/').next().expect("id").to_owned();
    let api_photo: String = sqlx::query("SELECT photo_url FROM products WHERE id = $1::uuid")
        .bind(&product_id)
        .fetch_one(&app.db)
        .await
        .expect("product")
        .get(0);
    assert!(
        api_photo.starts_with("/images/") && api_photo.ends_with("/affichage"),
        "{api_photo}"
    );
    let image = browser
        .get(&api_photo.replace("affichage", "vignette"))
        .await
        .expect(200);
    assert_eq!(
        image.headers.get("content-type").expect("type"),
        "image/jpeg"
    );

    for (label, quantity, price) in [("Vrac", "1", "2,50"), ("Sac", "10", "20")] {
        browser
            .post(
                &format!("{product_page}/offres"),
                &[
                    ("label", label),
                    ("quantity", quantity),
                    ("unit", "kg"),
                    ("price", price),
                    ("vat_rate_id", &vat_id.to_string()),
                    ("stock", ""),
                ],
            )
            .await
            .expect(303);
    }
    let page = browser.get(&product_page).await.expect(200);
    // Vrac 2.50 € at 5.5 % → 2.37 excl. VAT; Sac 20 € → 18.96.
    for text in [
        "Vrac",
        "Sac",
        "2,50\u{202f}€",
        "2,37\u{202f}€",
        "20,00\u{202f}€",
        "18,96\u{202f}€",
        "Prévisualiser une fiche produit",
    ] {
        assert!(page.shows(text), "{text} on the product page");
    }
    let refused = browser
        .post(
            &format!("{product_page}/offres"),
            &[
                ("label", ""),
                ("quantity", "0"),
                ("unit", "kg"),
                ("price", "-1"),
                ("vat_rate_id", &vat_id.to_string()),
            ],
        )
        .await
        .expect(422);
    assert!(refused.field_error("label").is_some());
    assert!(refused.field_error("quantity").is_some());
    assert!(refused.field_error("price").is_some());
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM offers").await,
        2,
        "nothing added"
    );

    let preview = browser
        .get(&format!("{product_page}/apercu"))
        .await
        .expect(200);
    assert!(preview.shows("Charlotte, récoltées à la main.") && preview.shows("Sac"));

    // A VAT rate in use is not removed; the offers using it are named.
    let kept = browser
        .post(&format!("{products}/tva/{vat_id}/supprimer"), &[])
        .await
        .expect(303);
    let after = browser.get(&kept.location()).await.expect(200);
    assert!(after.shows("n'est pas supprimé") && after.shows("Pommes de terre — Vrac"));
}

#[actix_web::test]
async fn refused_uploads_say_why_and_store_nothing() {
    let app = spawn_app().await;
    let (browser, products) = new_producer(&app, "Ferme des Lilas").await;
    let fields = [
        ("name", "Miel de printemps"),
        ("category", "Épicerie"),
        ("unit", "pot"),
        ("active", "on"),
    ];
    let too_big = vec![0u8; 9 * 1024 * 1024];
    let cases: [(&str, &[u8], &str); 3] = [
        ("grand.jpg", &too_big, "Le fichier dépasse 8 Mo"),
        (
            "facture.pdf",
            b"%PDF-1.4 pas une photo",
            "n'est pas une image JPEG, PNG ou WebP",
        ),
        (
            "bombe.png",
            &decompression_bomb(),
            "L'image est trop grande",
        ),
    ];
    for (file, bytes, reason) in cases {
        let page = browser
            .post_multipart(
                &format!("{products}/nouveau"),
                &fields,
                &[("photo", file, "image/png", bytes)],
                false,
            )
            .await
            .expect(422);
        let error = page.field_error("photo").unwrap_or_default();
        assert!(error.contains(reason), "{file}: {error}");
        assert_eq!(
            page.field_value("name").as_deref(),
            Some("Miel de printemps"),
            "kept"
        );
    }
    // Forged: no token, a valid photo — refused before anything is read.
    browser
        .post_multipart(
            &format!("{products}/nouveau"),
            &fields,
            &[(
                "photo",
                "ok.png",
                "image/png",
                &photo(40, 40, ImageFormat::Png),
            )],
            true,
        )
        .await
        .expect(403);
    assert_eq!(count_rows(&app.db, "SELECT count(*) FROM images").await, 0);
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM products").await,
        0
    );
}

#[actix_web::test]
async fn another_producers_products_are_pages_that_do_not_exist() {
    let app = spawn_app().await;
    let (owner, theirs) = new_producer(&app, "Ferme des Lilas").await;
    owner
        .post_multipart(
            &format!("{theirs}/nouveau"),
            &[
                ("name", "Œufs"),
                ("category", "Œufs"),
                ("unit", "boîte"),
                ("active", "on"),
            ],
            &[],
            false,
        )
        .await
        .expect(303);
    let product_id: uuid::Uuid = sqlx::query("SELECT id FROM products")
        .fetch_one(&app.db)
        .await
        .expect("product")
        .get(0);
    let (stranger, mine) = new_producer(&app, "Ferme voisine").await;
    stranger.get(&theirs).await.expect(404);
    stranger
        .get(&format!("{mine}/{product_id}"))
        .await
        .expect(404);
    stranger
        .post_multipart(
            &format!("{mine}/{product_id}"),
            &[("name", "Volé"), ("category", "x"), ("unit", "x")],
            &[],
            false,
        )
        .await
        .expect(404);
    let name: String = sqlx::query("SELECT name FROM products WHERE id = $1")
        .bind(product_id)
        .fetch_one(&app.db)
        .await
        .expect("product")
        .get(0);
    assert_eq!(name, "Œufs");
}
