-- Departments and their categories: a tree of two levels. A department has no parent;
-- a category's parent is its department. Products belong to a category. `products`
-- and `in_stock` count the products in a category (for a department: in its
-- categories), kept by the triggers below in the same statement as the change, so the
-- catalog's facets never count a million rows.
CREATE TABLE categories (
    id        INTEGER PRIMARY KEY,
    slug      TEXT    NOT NULL UNIQUE CHECK (length(slug) BETWEEN 1 AND 100),
    name      TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    parent_id INTEGER REFERENCES categories (id),
    products  INTEGER NOT NULL DEFAULT 0 CHECK (products >= 0),
    in_stock  INTEGER NOT NULL DEFAULT 0 CHECK (in_stock >= 0)
) STRICT;
CREATE INDEX categories_by_parent ON categories (parent_id, lower(name));

ALTER TABLE products ADD COLUMN category_id INTEGER REFERENCES categories (id);

-- A category's pages in each order, by keyset, as the catalog's (catalog_keys).
CREATE INDEX products_in_category_by_name ON products (category_id, lower(name), id);
CREATE INDEX products_in_category_by_price ON products (category_id, price_cents, lower(name), id);
CREATE INDEX products_in_category_by_price_desc
    ON products (category_id, (-price_cents), lower(name), id);

CREATE TRIGGER products_counted_in AFTER INSERT ON products
WHEN new.category_id IS NOT NULL
BEGIN
    UPDATE categories SET products = products + 1, in_stock = in_stock + (new.stock > 0)
    WHERE id = new.category_id
       OR id = (SELECT parent_id FROM categories WHERE id = new.category_id);
END;
CREATE TRIGGER products_counted_out AFTER DELETE ON products
WHEN old.category_id IS NOT NULL
BEGIN
    UPDATE categories SET products = products - 1, in_stock = in_stock - (old.stock > 0)
    WHERE id = old.category_id
       OR id = (SELECT parent_id FROM categories WHERE id = old.category_id);
END;
-- Moving between categories, or in and out of stock: out of the old counts, into the new.
CREATE TRIGGER products_counted_again AFTER UPDATE OF category_id, stock ON products
WHEN old.category_id IS NOT new.category_id OR (old.stock > 0) != (new.stock > 0)
BEGIN
    UPDATE categories SET products = products - 1, in_stock = in_stock - (old.stock > 0)
    WHERE id = old.category_id
       OR id = (SELECT parent_id FROM categories WHERE id = old.category_id);
    UPDATE categories SET products = products + 1, in_stock = in_stock + (new.stock > 0)
    WHERE id = new.category_id
       OR id = (SELECT parent_id FROM categories WHERE id = new.category_id);
END;

-- Full-text search over names and descriptions (FTS5, in the SQLite that sqlx bundles):
-- words, case and accents folded. An external-content index: the text stays in
-- `products` alone, and the triggers keep the index in step with every write.
CREATE VIRTUAL TABLE products_fts USING fts5 (
    name, description,
    content = 'products', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO products_fts (products_fts) VALUES ('rebuild');
CREATE TRIGGER products_indexed_in AFTER INSERT ON products BEGIN
    INSERT INTO products_fts (rowid, name, description)
    VALUES (new.id, new.name, new.description);
END;
CREATE TRIGGER products_indexed_out AFTER DELETE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, description)
    VALUES ('delete', old.id, old.name, old.description);
END;
CREATE TRIGGER products_indexed_again AFTER UPDATE OF name, description ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, description)
    VALUES ('delete', old.id, old.name, old.description);
    INSERT INTO products_fts (rowid, name, description)
    VALUES (new.id, new.name, new.description);
END;
-- The index's words with how many products hold each: "did you mean" and the
-- suggestions while typing read it (a range of words by their first letters).
CREATE VIRTUAL TABLE search_terms USING fts5vocab (products_fts, 'row');
