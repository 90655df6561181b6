//! Uploaded images (already checked and re-encoded by `crate::images`):
//! stored in PostgreSQL beside the data they illustrate, so a backup, a
//! restore or a second engine node has them too, and a refused form stores
//! nothing. Immutable: a new upload is a new row.

use uuid::Uuid;

use super::{DbResult, Store};
use crate::images::Processed;

/// What an image illustrates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Product,
    Logo,
    Portrait,
}

impl ImageKind {
    fn as_str(self) -> &'static str {
        match self {
            ImageKind::Product => "product",
            ImageKind::Logo => "logo",
            ImageKind::Portrait => "portrait",
        }
    }
}

/// Which stored size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSize {
    Display,
    Thumbnail,
}

impl Store {
    /// Stores a processed image of a producer; returns its id.
    pub async fn insert_image(
        &self,
        producer_id: Uuid,
        kind: ImageKind,
        image: &Processed,
    ) -> DbResult<Uuid> {
        let (id,) = sqlx::query_as::<_, (Uuid,)>(
            "INSERT INTO images (producer_id, kind, content_type, width, height, display, thumbnail)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(producer_id)
        .bind(kind.as_str())
        .bind(image.content_type)
        .bind(i32::try_from(image.width).unwrap_or(i32::MAX))
        .bind(i32::try_from(image.height).unwrap_or(i32::MAX))
        .bind(&image.display)
        .bind(&image.thumbnail)
        .fetch_one(self.pool())
        .await?;
        Ok(id)
    }

    /// An image's content type and bytes at one size.
    pub async fn image(&self, id: Uuid, size: ImageSize) -> DbResult<Option<(String, Vec<u8>)>> {
        let column = match size {
            ImageSize::Display => "display",
            ImageSize::Thumbnail => "thumbnail",
        };
        Ok(sqlx::query_as::<_, (String, Vec<u8>)>(&format!(
            "SELECT content_type, {column} FROM images WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// How many images a producer has (tests: nothing stored on refusal).
    pub async fn image_count(&self, producer_id: Uuid) -> DbResult<i64> {
        let (n,) =
            sqlx::query_as::<_, (i64,)>("SELECT count(*) FROM images WHERE producer_id = $1")
                .bind(producer_id)
                .fetch_one(self.pool())
                .await?;
        Ok(n)
    }
}
