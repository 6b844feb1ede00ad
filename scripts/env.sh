# Sourced by the scripts: where project-local tools live, and PATH so they are found first.
export SHOP_TOOLS="${SHOP_TOOLS:-$HOME/.local/share/oxide-oak/tools}"
export PATH="$SHOP_TOOLS/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# cargo-leptos compiles with LEPTOS_OUTPUT_NAME set, and leptos reads it at compile time:
# setting the same value for plain cargo commands lets them share build artifacts.
export LEPTOS_OUTPUT_NAME="${LEPTOS_OUTPUT_NAME:-shop}"

# cargo-leptos --precompress writes .gz at gzip's default level; -9 makes the wasm ~15 %
# smaller for browsers that do not take br. Idempotent.
regzip_pkg() {
  local f
  for f in target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css; do
    [ -e "$f.gz" ] && gzip -9 -n -k -f "$f"
  done
  return 0
}
