# Sourced by the scripts: where project-local tools live, and PATH so they are found first.
export SHOP_TOOLS="${SHOP_TOOLS:-$HOME/.local/share/oxide-oak/tools}"
export PATH="$SHOP_TOOLS/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# cargo-leptos compiles with LEPTOS_OUTPUT_NAME set, and leptos reads it at compile time:
# setting the same value for plain cargo commands lets them share build artifacts.
export LEPTOS_OUTPUT_NAME="${LEPTOS_OUTPUT_NAME:-shop}"
