//! Demo data, inserted only when `SEED_DEMO_DATA` is on. Idempotent: rows that already
//! exist (by slug) are left alone, so restarts never duplicate or reset anything.

use app::auth::server::ensure_user;
use db::{on, Db};

use crate::StartupError;

/// (slug, name, description, price in cents, initial stock)
const PRODUCTS: &[(&str, &str, &str, i64, i64)] = &[
    ("stoneware-mug", "Stoneware Mug", "A hand-thrown 350 ml mug in speckled oat glaze. Keeps coffee warm through the first email.", 2400, 40),
    ("enamel-teapot", "Enamel Teapot", "A one-litre enamel teapot with a stainless infuser. Deep teal, works on gas and induction.", 4900, 15),
    ("linen-notebook", "Linen Notebook", "A5, 192 pages of 100 gsm dot-grid paper, lay-flat binding and a linen cover that ages well.", 1800, 60),
    ("brass-desk-lamp", "Brass Desk Lamp", "A solid brass reading lamp with a warm 2700 K LED and a dimmer on the cord.", 12900, 8),
    ("oak-cutting-board", "Oak Cutting Board", "End-grain European oak, 40 × 28 cm, oiled by hand. Kind to knives, heavy enough not to slide.", 6500, 12),
    ("wool-throw", "Wool Throw", "Lambswool throw, 130 × 180 cm, woven in a quiet herringbone. For the couch, the car, the cold.", 8900, 10),
    ("glass-carafe", "Glass Carafe", "A one-litre borosilicate carafe with a cork stopper. Water on the table, flowers on the sill.", 2900, 25),
    ("copper-kettle", "Copper Kettle", "A 1.5-litre copper stovetop kettle with a whistling spout and a riveted wooden handle.", 9500, 6),
    ("canvas-tote", "Canvas Tote", "Heavy 16 oz cotton canvas with leather handles and an inside pocket. Carries a week of groceries.", 3200, 35),
    ("beeswax-candle", "Beeswax Candle", "Pure beeswax pillar, 40 hours of slow honey-scented light. Poured in small batches.", 1600, 50),
    ("pour-over-dripper", "Pour-over Dripper", "A ceramic cone dripper for one or two cups. Fits most mugs; uses size 02 filters.", 2200, 30),
    ("potted-succulent", "Potted Succulent", "An echeveria in a 10 cm terracotta pot. Needs sun and almost no attention.", 1400, 0),
];

/// The demo catalog's departments and categories: (department, category, product slugs).
const SHELVES: &[(&str, &str, &[&str])] = &[
    ("Kitchen", "Mugs & cups", &["stoneware-mug"]),
    (
        "Kitchen",
        "Teapots & kettles",
        &["enamel-teapot", "copper-kettle", "pour-over-dripper"],
    ),
    (
        "Kitchen",
        "Serveware",
        &["oak-cutting-board", "glass-carafe"],
    ),
    ("Home", "Lighting", &["brass-desk-lamp", "beeswax-candle"]),
    ("Home", "Textiles", &["wool-throw"]),
    ("Home", "Plants", &["potted-succulent"]),
    ("Desk & travel", "Paper", &["linen-notebook"]),
    ("Desk & travel", "Bags", &["canvas-tote"]),
];

/// Demo accounts (listed in README, on the sign-in page, and used by the tests).
pub const ALICE: (&str, &str) = ("alice", "wonderland-2026");
pub const BOB: (&str, &str) = ("bob", "builder-bob-2026");
pub const DEMO_USERS: &[(&str, &str)] = &[ALICE, BOB];
/// Their verified addresses (`example.com` is reserved: nothing is ever delivered there).
pub const ALICE_EMAIL: &str = "alice@example.com";
pub const BOB_EMAIL: &str = "bob@example.com";

/// Inserts the demo catalog and demo users where missing.
pub async fn seed_demo_data(db: &Db, now: i64) -> Result<(), StartupError> {
    let products = seed_products(db)
        .await
        .map_err(|e| StartupError::Seed(e.to_string()))?;
    if products > 0 {
        tracing::info!(products, "seeded demo catalog");
    }
    for ((username, password), email) in DEMO_USERS.iter().zip([ALICE_EMAIL, BOB_EMAIL]) {
        if ensure_user(db, username, password, email, now)
            .await
            .map_err(|e| StartupError::Seed(e.to_string()))?
        {
            tracing::info!(username, "seeded demo user");
        }
    }
    Ok(())
}

/// Inserts the demo catalog where missing, and shelves demo products that are in no
/// category yet. Returns how many products were new.
pub async fn seed_products(db: &Db) -> Result<u64, sqlx::Error> {
    let inserted = insert_products(db).await?;
    for (department, category, slugs) in SHELVES {
        let id = app::catalog::server::shelve(db, department, category).await?;
        for slug in *slugs {
            on!(db.writer(), p => {
                sqlx::query(
                    "UPDATE products SET category_id = $1 WHERE slug = $2 AND category_id IS NULL",
                )
                .bind(id)
                .bind(slug)
                .execute(p)
                .await
                .map(|_| ())
            })?;
        }
    }
    Ok(inserted)
}

async fn insert_products(db: &Db) -> Result<u64, sqlx::Error> {
    on!(db.writer(), p => {
        let mut tx = p.begin().await?;
        let mut inserted = 0;
        for (slug, name, description, price_cents, stock) in PRODUCTS {
            inserted += sqlx::query(
                "INSERT INTO products (slug, name, description, price_cents, image, stock)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (slug) DO NOTHING",
            )
            .bind(slug)
            .bind(name)
            .bind(description)
            .bind(price_cents)
            .bind(format!("/images/{slug}.svg"))
            .bind(stock)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(inserted)
    })
}
