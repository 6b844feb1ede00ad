-- Orders: pay on delivery, so no card data anywhere. Name and price are copied at
-- purchase, so later catalog changes never rewrite an order.
CREATE TABLE orders (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    total_cents     INTEGER NOT NULL CHECK (total_cents >= 0),
    billing_name    TEXT    NOT NULL CHECK (length(billing_name) BETWEEN 1 AND 100),
    address_line1   TEXT    NOT NULL CHECK (length(address_line1) BETWEEN 1 AND 200),
    address_line2   TEXT    NOT NULL DEFAULT '' CHECK (length(address_line2) <= 200),
    city            TEXT    NOT NULL CHECK (length(city) BETWEEN 1 AND 100),
    postal_code     TEXT    NOT NULL CHECK (length(postal_code) BETWEEN 1 AND 16),
    country         TEXT    NOT NULL CHECK (length(country) = 2),
    status          TEXT    NOT NULL DEFAULT 'placed'
                            CHECK (status IN ('placed', 'shipped', 'delivered', 'cancelled')),
    -- A client-chosen key: the same key from the same user is the same order (double
    -- submits create one order). NULLs are distinct, so keyless orders never collide.
    idempotency_key TEXT    CHECK (length(idempotency_key) BETWEEN 1 AND 64),
    UNIQUE (user_id, idempotency_key)
) STRICT;

CREATE INDEX orders_user_created ON orders (user_id, created_at DESC, id DESC);

CREATE TABLE order_items (
    order_id         INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id       INTEGER NOT NULL REFERENCES products (id),
    name_at_purchase TEXT    NOT NULL,
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    quantity         INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    PRIMARY KEY (order_id, product_id)
) STRICT;

-- What a plain (no-JavaScript) billing form submitted when it was refused, kept with the
-- session so the page can show the values and the errors again without putting an
-- address into a URL. Goes with the session (logout, expiry, GC).
CREATE TABLE billing_drafts (
    session_id INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    draft      TEXT    NOT NULL CHECK (length(draft) <= 8192),
    saved_at   INTEGER NOT NULL
) STRICT;
