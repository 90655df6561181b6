//! What makes the demo look lived-in in the web pages: each producer's
//! logo, portrait, short presentation and legal information, a photo for
//! every product (all drawn by [`super::paint`]), and the platform admin.
//! Only what is missing is added, so a second run changes nothing and what
//! the user changed (a new logo, a removed photo kept removed… until the
//! field is empty again) stays.

use super::build::Setup;
use super::{paint, DemoError};
use crate::domain::legal::LegalInfo;
use crate::domain::offer::uploaded_photo_url;
use crate::images::{stored_sizes, Processed};
use crate::store::images::ImageKind;
use crate::store::Store;

/// A producer's looks, in [`super::data::PRODUCERS`] order.
struct Look {
    colour: [u8; 3],
    short: &'static str,
    legal: (&'static str, &'static str, &'static str, &'static str),
}

const LOOKS: [Look; 4] = [
    Look {
        colour: [46, 125, 50],
        short: "Légumes bio de saison, cueillis la veille à Sathonay-Village.",
        legal: (
            "EARL du Grand Champ",
            "84123456000016",
            "12 chemin du Grand Champ, 69580 Sathonay-Village",
            "FR81841234560",
        ),
    },
    Look {
        colour: [121, 85, 61],
        short: "Fromages de chèvre fermiers des Monts d'Or, au lait cru.",
        legal: (
            "GAEC de la Chèvrerie des Monts d'Or",
            "85234567700011",
            "Route du Mont Verdun, 69270 Poleymieux-au-Mont-d'Or",
            "FR61852345677",
        ),
    },
    Look {
        colour: [191, 120, 40],
        short: "Pains au levain cuits au feu de bois, farines des moulins voisins.",
        legal: (
            "SARL Le Fournil de la Saône",
            "79345678100012",
            "3 quai de la Saône, 69270 Fontaines-sur-Saône",
            "FR55793456781",
        ),
    },
    Look {
        colour: [173, 58, 44],
        short: "Œufs, volailles, agneau et miel d'une ferme familiale du Beaujolais.",
        legal: (
            "Ferme de la Bâtie",
            "81456789700016",
            "Lieu-dit la Bâtie, 69430 Beaujeu",
            "FR66814567897",
        ),
    },
];

/// Draws off the async threads (pixel work).
async fn drawn(
    draw: impl FnOnce() -> image::DynamicImage + Send + 'static,
) -> Result<Processed, DemoError> {
    tokio::task::spawn_blocking(move || stored_sizes(&draw()))
        .await
        .map_err(|e| DemoError::Data(format!("drawing failed: {e}")))?
        .map_err(|e| DemoError::Data(format!("drawing failed: {e}")))
}

/// Adds what is missing of the demo's looks.
pub async fn dress(store: &Store, setup: &Setup) -> Result<(), DemoError> {
    for (producer, look) in setup.producers.iter().zip(LOOKS.iter()) {
        let Some(profile) = store.producer_profile(producer.id).await? else {
            continue;
        };
        let logo = match profile.logo_image_id {
            Some(_) => None,
            None => {
                let colour = look.colour;
                let image = drawn(move || paint::logo(colour)).await?;
                Some(
                    store
                        .insert_image(producer.id, ImageKind::Logo, &image)
                        .await?,
                )
            }
        };
        let portrait = match profile.portrait_image_id {
            Some(_) => None,
            None => {
                let name = producer.name;
                let image = drawn(move || paint::landscape(name)).await?;
                Some(
                    store
                        .insert_image(producer.id, ImageKind::Portrait, &image)
                        .await?,
                )
            }
        };
        let legal = match profile.siret {
            Some(_) => None,
            None => {
                let (name, siret, address, vat) = look.legal;
                Some(
                    LegalInfo::parse(name, siret, address, vat)
                        .map_err(|e| DemoError::from_fields(&e))?,
                )
            }
        };
        store
            .dress_producer(producer.id, look.short, logo, portrait, legal.as_ref())
            .await?;
        for product in store.products(producer.id).await? {
            if product.photo_url.is_some() {
                continue;
            }
            let (name, category) = (product.name.clone(), product.category.clone());
            let image = drawn(move || paint::produce(&name, &category)).await?;
            let id = store
                .insert_image(producer.id, ImageKind::Product, &image)
                .await?;
            store
                .set_photo_if_missing(product.id, &uploaded_photo_url(id))
                .await?;
        }
    }
    Ok(())
}
