//! `server import FILE`: loads products into the shop's database (either backend) from a
//! CSV file (a header row naming the columns) or JSON lines (one object per line).
//!
//! Columns: `slug` (the key: a product with this slug is updated, so an import can be
//! run again), `name`, `description` (optional), `price_cents`, `stock` (optional, 0)
//! `image` (optional: a placeholder), `department` and `category` (optional, together:
//! created where missing, by name; a row without them keeps the product's category).
//! Rows go in batches, one transaction each. A
//! row that cannot be a product is refused with its line number and reason; the others
//! are loaded. A progress bar (on a terminal) and a summary go to standard error.

use std::io::{BufRead, Read};

use db::{on, Db};
use serde::Deserialize;

/// Rows per transaction.
pub const BATCH: usize = 1000;

/// Refusals listed in the summary (the count covers them all).
const LISTED: usize = 20;

/// The image a product without one gets.
pub const PLACEHOLDER_IMAGE: &str = "/images/logo.svg";

/// One input row, as read.
#[derive(Debug, Deserialize)]
struct Row {
    slug: String,
    name: String,
    #[serde(default)]
    description: String,
    price_cents: i64,
    #[serde(default)]
    stock: i64,
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    category: Option<String>,
}

/// A row that is a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub price_cents: i64,
    pub stock: i64,
    pub image: String,
    /// (department, category) by name.
    pub shelf: Option<(String, String)>,
}

impl Row {
    fn check(self) -> Result<Product, String> {
        let slug = self.slug.trim().to_string();
        if slug.is_empty()
            || slug.len() > 100
            || !slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(format!("slug {slug:?}: 1 to 100 of a-z, 0-9 and '-'"));
        }
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err("name: 1 to 200 characters on one line".into());
        }
        if self.description.chars().count() > 5000 || self.description.contains('\0') {
            return Err("description: at most 5000 characters".into());
        }
        if !(0..=100_000_000).contains(&self.price_cents) {
            return Err(format!("price_cents {}: 0 to 100000000", self.price_cents));
        }
        if !(0..=1_000_000_000).contains(&self.stock) {
            return Err(format!("stock {}: 0 to 1000000000", self.stock));
        }
        let image = match self.image.map(|i| i.trim().to_string()) {
            None => PLACEHOLDER_IMAGE.to_string(),
            Some(i) if i.is_empty() => PLACEHOLDER_IMAGE.to_string(),
            Some(i) if i.starts_with('/') || i.starts_with("https://") => i,
            Some(i) => return Err(format!("image {i:?}: a path (/…) or an https URL")),
        };
        let name_of = |what: &str, v: Option<String>| -> Result<Option<String>, String> {
            match v.map(|v| v.trim().to_string()) {
                None => Ok(None),
                Some(v) if v.is_empty() => Ok(None),
                Some(v) if v.chars().count() > 100 || v.chars().any(char::is_control) => {
                    Err(format!("{what}: at most 100 characters on one line"))
                }
                Some(v) if !v.chars().any(char::is_alphanumeric) => {
                    Err(format!("{what} {v:?}: needs a letter or digit"))
                }
                Some(v) => Ok(Some(v)),
            }
        };
        let shelf = match (
            name_of("department", self.department)?,
            name_of("category", self.category)?,
        ) {
            (Some(d), Some(c)) => Some((d, c)),
            (None, None) => None,
            (Some(_), None) => return Err("department without a category".into()),
            (None, Some(_)) => return Err("category without a department".into()),
        };
        Ok(Product {
            shelf,
            slug,
            name,
            description: self.description,
            price_cents: self.price_cents,
            stock: self.stock,
            image,
        })
    }
}

/// The file's format, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    pub fn of(path: &str) -> Result<Format, String> {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Ok(Format::Csv)
        } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            Ok(Format::JsonLines)
        } else {
            Err(format!("{path}: expected a .csv, .jsonl or .ndjson file"))
        }
    }
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Data rows read (the CSV header and blank lines not counted).
    pub rows: u64,
    /// Products that did not exist before.
    pub added: u64,
    /// Products that existed (by slug) and were written again.
    pub updated: u64,
    /// Rows refused: how many, and the first few with their line numbers.
    pub refused: u64,
    pub first_refusals: Vec<(u64, String)>,
}

impl Summary {
    fn refuse(&mut self, line: u64, why: String) {
        self.refused += 1;
        if self.first_refusals.len() < LISTED {
            self.first_refusals.push((line, why));
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} rows: {} products added, {} updated, {} refused",
            self.rows, self.added, self.updated, self.refused
        )?;
        for (line, why) in &self.first_refusals {
            write!(f, "\n  line {line}: {why}")?;
        }
        if self.refused > self.first_refusals.len() as u64 {
            write!(
                f,
                "\n  … and {} more",
                self.refused - self.first_refusals.len() as u64
            )?;
        }
        Ok(())
    }
}

/// Reads `input` in `format` and stores its products in batches. `progress` is told
/// the input bytes consumed so far.
pub async fn import(
    db: &Db,
    input: impl Read,
    format: Format,
    progress: impl Fn(u64),
) -> Result<Summary, sqlx::Error> {
    let mut summary = Summary::default();
    let mut shelves = Shelves::default();
    let mut batch = Vec::with_capacity(BATCH);
    let counted = CountingReader::new(input);
    let read = counted.handle();
    match format {
        Format::JsonLines => {
            let reader = std::io::BufReader::new(counted);
            for (i, line) in reader.lines().enumerate() {
                let number = i as u64 + 1;
                let line = match line {
                    Ok(line) => line,
                    Err(e) => {
                        summary.rows += 1;
                        summary.refuse(number, format!("unreadable: {e}"));
                        break;
                    }
                };
                if line.trim().is_empty() {
                    continue;
                }
                summary.rows += 1;
                match serde_json::from_str::<Row>(&line)
                    .map_err(|e| format!("not a product: {e}"))
                    .and_then(Row::check)
                {
                    Ok(p) => batch.push(p),
                    Err(why) => summary.refuse(number, why),
                }
                if batch.len() == BATCH {
                    store(db, &mut batch, &mut shelves, &mut summary).await?;
                    progress(read.get());
                }
            }
        }
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().from_reader(counted);
            let headers = match reader.headers() {
                Ok(h) => h.clone(),
                Err(e) => {
                    summary.refuse(1, format!("no header row: {e}"));
                    return Ok(summary);
                }
            };
            let mut record = csv::StringRecord::new();
            loop {
                let line = reader.position().line();
                match reader.read_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {
                        summary.rows += 1;
                        let line = record.position().map_or(line, |p| p.line());
                        match record
                            .deserialize::<Row>(Some(&headers))
                            .map_err(|e| format!("not a product: {e}"))
                            .and_then(Row::check)
                        {
                            Ok(p) => batch.push(p),
                            Err(why) => summary.refuse(line, why),
                        }
                    }
                    Err(e) => {
                        summary.rows += 1;
                        let line = e.position().map_or(line, |p| p.line());
                        summary.refuse(line, format!("not a product: {e}"));
                        if !matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                            break; // unreadable from here on (not UTF-8, an I/O error)
                        }
                    }
                }
                if batch.len() == BATCH {
                    store(db, &mut batch, &mut shelves, &mut summary).await?;
                    progress(read.get());
                }
            }
        }
    }
    store(db, &mut batch, &mut shelves, &mut summary).await?;
    progress(read.get());
    // The planner's statistics, for the rows just loaded: without them PostgreSQL may
    // scan a million rows for a search that an index answers.
    let statistics = db.pick(
        "PRAGMA optimize",
        "ANALYZE products, categories, search_terms",
    );
    on!(db.writer(), p => sqlx::query(statistics).execute(p).await.map(|_| ()))?;
    Ok(summary)
}

/// The categories met so far: (department, category) → id.
#[derive(Default)]
struct Shelves(std::collections::HashMap<(String, String), i64>);

impl Shelves {
    async fn id(
        &mut self,
        db: &Db,
        shelf: &Option<(String, String)>,
    ) -> Result<Option<i64>, sqlx::Error> {
        let Some(key) = shelf else {
            return Ok(None);
        };
        if let Some(id) = self.0.get(key) {
            return Ok(Some(*id));
        }
        let id = app::catalog::server::shelve(db, &key.0, &key.1).await?;
        self.0.insert(key.clone(), id);
        Ok(Some(id))
    }
}

/// Writes one batch in one transaction: new slugs are inserted, known ones updated.
/// Its categories are created first, where missing (an empty category is not shown).
async fn store(
    db: &Db,
    batch: &mut Vec<Product>,
    shelves: &mut Shelves,
    summary: &mut Summary,
) -> Result<(), sqlx::Error> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut category_ids = Vec::with_capacity(batch.len());
    for p in batch.iter() {
        category_ids.push(shelves.id(db, &p.shelf).await?);
    }
    // A slug twice in one batch: the later row wins, as it would across batches.
    let mut seen = std::collections::HashMap::new();
    for (i, p) in batch.iter().enumerate() {
        seen.insert(p.slug.clone(), i);
    }
    let rows: Vec<(&Product, Option<i64>)> = batch
        .iter()
        .zip(category_ids)
        .enumerate()
        .filter(|(i, (p, _))| seen.get(&p.slug) == Some(i))
        .map(|(_, row)| row)
        .collect();
    let places: Vec<String> = (1..=rows.len()).map(|i| format!("${i}")).collect();
    let known_sql = format!(
        "SELECT COUNT(*) FROM products WHERE slug IN ({})",
        places.join(", ")
    );
    let values: Vec<String> = (0..rows.len())
        .map(|r| {
            let at = |c: usize| format!("${}", r * 7 + c);
            format!(
                "({}, {}, {}, {}, {}, {}, {})",
                at(1),
                at(2),
                at(3),
                at(4),
                at(5),
                at(6),
                at(7)
            )
        })
        .collect();
    let insert_sql = format!(
        "INSERT INTO products (slug, name, description, price_cents, image, stock, category_id)
         VALUES {}
         ON CONFLICT (slug) DO UPDATE SET name = excluded.name,
             description = excluded.description, price_cents = excluded.price_cents,
             image = excluded.image, stock = excluded.stock,
             category_id = COALESCE(excluded.category_id, products.category_id)",
        values.join(", ")
    );
    let (added, written) = on!(db.writer(), p => {
        let mut tx = p.begin().await?;
        // The batch's slugs that are already products (not a count of the whole table:
        // that is a scan of a million rows per batch).
        let mut known = sqlx::query_scalar::<_, i64>(&known_sql);
        for (p, _) in &rows {
            known = known.bind(&p.slug);
        }
        let known = known.fetch_one(&mut *tx).await?;
        // One statement for the batch: PostgreSQL's triggers then count each category
        // and word once per batch rather than once per product.
        let mut insert = sqlx::query(&insert_sql);
        for (p, category) in &rows {
            insert = insert
                .bind(&p.slug)
                .bind(&p.name)
                .bind(&p.description)
                .bind(p.price_cents)
                .bind(&p.image)
                .bind(p.stock)
                .bind(*category);
        }
        insert.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(((rows.len() as i64 - known) as u64, rows.len() as u64))
    })?;
    summary.added += added;
    summary.updated += written - added;
    // Rows replaced by a later one of the same batch were written over: updates.
    summary.updated += (batch.len() - rows.len()) as u64;
    batch.clear();
    Ok(())
}

/// Counts the bytes read through it, for the progress bar.
struct CountingReader<R> {
    inner: R,
    count: std::sync::Arc<Counter>,
}

/// Bytes read so far.
#[derive(Default)]
struct Counter(std::sync::atomic::AtomicU64);

impl Counter {
    fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl<R> CountingReader<R> {
    fn new(inner: R) -> Self {
        CountingReader {
            inner,
            count: Default::default(),
        }
    }

    fn handle(&self) -> std::sync::Arc<Counter> {
        self.count.clone()
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count
            .0
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// `server import FILE`: the command line's side (the database from `DATABASE_URL`,
/// migrated first, as at start-up).
pub async fn run(path: &str, config: &crate::Config) -> Result<Summary, String> {
    let format = Format::of(path)?;
    let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let db = db::Db::connect(&config.database_url, &config.postgres)
        .await
        .map_err(|e| e.to_string())?;
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {percent:>3}% {binary_bytes}/{binary_total_bytes} {elapsed} (eta {eta})",
        )
        .map_err(|e| e.to_string())?,
    );
    let started = std::time::Instant::now();
    let summary = import(&db, file, format, |done| bar.set_position(done))
        .await
        .map_err(|e| format!("the database refused a batch: {e}"))?;
    bar.finish_and_clear();
    eprintln!(
        "imported {path} in {:.1} s: {summary}",
        started.elapsed().as_secs_f64()
    );
    db.close().await;
    Ok(summary)
}
