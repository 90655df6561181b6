//! The producer's space in a real browser, with the keyboard and real
//! forms: VAT rates, a product with a photo (file chooser) and the guide's
//! two offers with their prices excl. VAT, an upload refused with its
//! reason next to the field, the preview, and a collaborator added then
//! removed. Screenshots of every page, phone and laptop.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

use crate::driver::{Driver, LAPTOP};
use crate::helpers::spawn_app;

pub(crate) fn photo_file(dir: &std::path::Path) -> std::path::PathBuf {
    let image = DynamicImage::ImageRgb8(RgbImage::from_fn(1200, 900, |x, y| {
        let soil = ((x / 40 + y / 40) % 2) as u8;
        Rgb([150 + soil * 40, 110 + soil * 30, 60])
    }));
    let mut bytes = Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, ImageFormat::Jpeg)
        .expect("encode");
    let path = dir.join("pommes-de-terre.jpg");
    std::fs::write(&path, bytes.into_inner()).expect("write photo");
    path
}

#[actix_web::test]
async fn a_producer_fills_its_products_and_manages_its_collaborators() {
    let app = spawn_app().await;
    let base = app.address.clone();
    let helper = app.user("Inès").await;
    let files = std::env::temp_dir().join(format!("etal-photos-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&files).expect("files");
    let photo = photo_file(&files);
    let not_a_photo = files.join("facture.pdf");
    std::fs::write(&not_a_photo, b"%PDF-1.4 une facture").expect("write pdf");

    let mut driver = Driver::start().await;
    let page = driver.browser(LAPTOP).await;
    let space = page.sign_up_grand_champ(&base).await;

    // Gérer les taux de TVA.
    page.goto(&format!("{base}{space}/produits")).await;
    page.shots("produits-vide").await;
    page.click("a[href$='/produits/tva']").await;
    page.fill_and_submit(&[("name", "Taux réduit"), ("rate", "5,5")])
        .await;
    assert!(page
        .text(".flash")
        .await
        .is_some_and(|t| t.contains("Taux de TVA ajouté")));
    page.shots("tva").await;

    // A product whose photo is not an image: refused, the rest kept.
    page.goto(&format!("{base}{space}/produits/nouveau")).await;
    let file_input = "#champ-photo";
    page.type_into("[name='name']", "Pommes de terre").await;
    page.type_into("[name='category']", "Légumes").await;
    page.type_into("[name='description']", "Charlotte, récoltées à la main.")
        .await;
    page.choose_file(file_input, &not_a_photo).await;
    page.click("form[enctype] button[type=submit]").await;
    page.wait_for(
        "the refused upload",
        std::time::Duration::from_secs(15),
        "const e = document.getElementById('erreur-photo'); return e ? e.textContent : null;",
        vec![],
        |v| v.as_str().is_some_and(|t| t.contains("JPEG, PNG ou WebP")),
    )
    .await;
    let kept = page
        .eval(
            "return document.querySelector('[name=name]').value;",
            vec![],
        )
        .await;
    assert_eq!(kept, "Pommes de terre");
    page.shots("produit-photo-refusee").await;

    // The same with a real photo.
    page.choose_file(file_input, &photo).await;
    page.click("form[enctype] button[type=submit]").await;
    let product = page
        .wait_path("the product page", |p| {
            p.contains("/produits/") && !p.ends_with("/nouveau")
        })
        .await;
    assert!(page
        .text(".flash")
        .await
        .is_some_and(|t| t.contains("Produit enregistré")));
    let loaded = page
        .eval(
            "const i = document.querySelector('img.thumb'); return i ? i.naturalWidth : 0;",
            vec![],
        )
        .await;
    assert_eq!(loaded, 320, "the thumbnail is served and shown");

    page.add_potato_offers().await;
    let excl = page
        .eval(
            "return [...document.querySelectorAll('table.offers td.price-excl')].map(td => td.textContent);",
            vec![],
        )
        .await;
    assert_eq!(excl, serde_json::json!(["2,37\u{202f}€", "18,96\u{202f}€"]));
    page.shots("produit-offres").await;
    page.goto(&format!("{base}{product}/apercu")).await;
    page.shots("apercu-fiche-produit").await;
    page.goto(&format!("{base}{space}/produits")).await;
    page.shots("produits").await;

    // Utilisateurs: add Inès, then remove her.
    page.goto(&format!("{base}{space}/utilisateurs")).await;
    page.fill_and_submit(&[("email", &helper.email)]).await;
    assert!(page
        .text("table.members")
        .await
        .is_some_and(|t| t.contains("Inès")));
    page.shots("utilisateurs").await;
    page.click(&format!(
        "tr[data-account-id='{}'] button.danger",
        helper.id
    ))
    .await;
    page.wait_for(
        "Inès removed",
        std::time::Duration::from_secs(15),
        "return document.querySelector('.flash') ? document.querySelector('table.members').textContent : null;",
        vec![],
        |v| v.as_str().is_some_and(|t| !t.contains("Inès")),
    )
    .await;
    page.close().await;
    let _ = std::fs::remove_dir_all(&files);
}

#[actix_web::test]
async fn a_producer_presents_itself_and_shares_a_catalog() {
    let app = spawn_app().await;
    let sale = crate::fixtures::open_sale(
        &app,
        &[
            crate::fixtures::offer("Poireaux", "2.00", Some(20)),
            crate::fixtures::offer("Navets", "1.50", None),
        ],
    )
    .await;
    let base = app.address.clone();
    let owner = &sale.producer.owner;
    let space = format!("/espace-producteur/{}", sale.producer.producer_id);
    let files = std::env::temp_dir().join(format!("etal-logo-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&files).expect("files");
    let logo = photo_file(&files);

    let mut driver = Driver::start().await;
    let page = driver.browser(crate::driver::PHONE).await;
    page.sign_in_page(&base, &owner.email, &owner.password)
        .await;

    // Mon profil, with a logo, then the page vitrine.
    page.goto(&format!("{base}{space}/parametres")).await;
    page.type_into(
        "[name='short_description']",
        "Légumes de saison, à Caluire.",
    )
    .await;
    page.choose_file("#champ-logo", &logo).await;
    page.click("form[enctype] button[type=submit]").await;
    page.wait_for(
        "the profile saved",
        std::time::Duration::from_secs(15),
        "const f = document.querySelector('.flash'); return f ? f.textContent : null;",
        vec![],
        |v| v.as_str().is_some_and(|t| t.contains("Profil enregistré")),
    )
    .await;
    page.shots("parametres").await;
    page.click("a[href^='/vitrine/']").await;
    page.wait_path("the page vitrine", |p| p.starts_with("/vitrine/"))
        .await;
    assert!(page
        .text(".vitrine-head .lead")
        .await
        .is_some_and(|t| t.contains("Légumes de saison")));
    let markers = page
        .eval(
            "return document.querySelectorAll('svg.map circle').length;",
            vec![],
        )
        .await;
    assert_eq!(markers, 1);
    page.shots("vitrine").await;

    // A catalog of one offer with its own price, then its share page.
    page.goto(&format!("{base}{space}/catalogues/nouveau"))
        .await;
    let leeks = sale.producer.offers[0];
    page.type_into("[name='name']", "Légumes — AMAP").await;
    page.click(&format!("#offre-{leeks}")).await;
    page.type_into(&format!("#prix-{leeks}"), "1,80").await;
    page.click("form button.primary").await;
    page.wait_for(
        "the catalog created",
        std::time::Duration::from_secs(15),
        "const c = document.querySelector('.catalog-code'); return c ? c.textContent : null;",
        vec![],
        |v| v.as_str().is_some_and(|t| t.len() >= 4),
    )
    .await;
    page.shots("catalogue").await;
    page.click("a[href^='/catalog/']").await;
    page.wait_path("the share page", |p| p.starts_with("/catalog/"))
        .await;
    let text = page.text("main").await.unwrap_or_default();
    assert!(
        text.contains("Poireaux") && text.contains("1,80") && !text.contains("Navets"),
        "{text}"
    );
    page.shots("catalogue-lien-de-partage").await;

    // A forged form (its token replaced) is refused and changes nothing.
    page.goto(&format!(
        "{base}{space}/catalogues/{}",
        sale.producer.catalog_id
    ))
    .await;
    page.eval(
        "document.querySelectorAll('input[name=csrf]').forEach(i => i.value = 'forged'); return true;",
        vec![],
    )
    .await;
    page.click("form.sync button.danger").await;
    page.wait_for(
        "the refusal",
        std::time::Duration::from_secs(15),
        "const h = document.querySelector('h1'); return h ? h.textContent : null;",
        vec![],
        |v| v == "Formulaire refusé",
    )
    .await;
    page.shots("formulaire-refuse").await;
    page.close().await;
    let _ = std::fs::remove_dir_all(&files);
}
