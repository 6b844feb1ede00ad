-- The catalog's orders as indexes, each ending in the unique id, so a page of the
-- catalog is read by keyset (a row comparison with where the last page ended: an index
-- range) and page 3,000 costs what page 1 costs. Every column ascends: "price, high to
-- low" is the order of -price_cents. The name order is case-insensitive (lower(name)).
CREATE INDEX products_by_name ON products (lower(name), id);
CREATE INDEX products_by_price ON products (price_cents, lower(name), id);
CREATE INDEX products_by_price_desc ON products ((-price_cents), lower(name), id);
