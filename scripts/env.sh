# Sourced by the scripts: where project-local tools live, and PATH so they are found first.
export SHOP_TOOLS="${SHOP_TOOLS:-$HOME/.local/share/oxide-oak/tools}"
export PATH="$SHOP_TOOLS/node_modules/.bin:$HOME/.cargo/bin:$PATH"
