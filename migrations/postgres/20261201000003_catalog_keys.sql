-- The catalog's orders as indexes, each ending in the unique id, so a page of the
-- catalog is read by keyset (where the last page ended) and page 500 costs what page 1
-- costs. The name order is case-insensitive (lower(name)), as the catalog shows it.
CREATE INDEX products_by_name ON products (lower(name), id);
CREATE INDEX products_by_price ON products (price_cents, lower(name), id);
CREATE INDEX products_by_price_desc ON products (price_cents DESC, lower(name), id);
