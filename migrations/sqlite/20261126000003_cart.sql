-- Carts. A line belongs to exactly one owner: a guest session or a user. Quantity
-- changes are single atomic statements against these rows (see app/src/cart/server.rs).
CREATE TABLE cart_items (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER REFERENCES sessions (id) ON DELETE CASCADE,
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    quantity   INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    added_at   INTEGER NOT NULL,
    CHECK ((session_id IS NULL) <> (user_id IS NULL))
) STRICT;

CREATE UNIQUE INDEX cart_items_guest_product ON cart_items (session_id, product_id) WHERE session_id IS NOT NULL;
CREATE UNIQUE INDEX cart_items_user_product ON cart_items (user_id, product_id) WHERE user_id IS NOT NULL;
