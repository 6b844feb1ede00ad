# shellcheck shell=bash
# Sourced by the scripts that build the shop (after env.sh and steps.sh).
#
#   build_release_site [MODE]  installs what is missing (scripts/bootstrap MODE, default
#                              `serve`), then builds the release site: the server, the
#                              wasm split into chunks, optimised and precompressed
#   release_site_current       true if a release server exists that is newer than every
#                              source file, so that building it again compiles nothing
#
# One build after the other, as cargo-leptos does it. Compiling the server beside the
# tools or beside the wasm was measured on 2 cores and lost both times (611 s instead of
# ~584 s to the open shop; 372 s instead of 354 s for the shop alone): both compiles keep
# the two cores busy, so running them together only adds contention
# (docs/PERFORMANCE.md, "The first run").

build_release_site() {
  scripts/bootstrap "${1:-serve}"
  step "build the shop (release: the wasm split into chunks and optimised, then the server)" \
    "6 min" "the build failed: the compiler's errors are above" \
    cargo leptos build --release --precompress --split
  regzip_pkg
}

release_site_current() {
  local bin=${CARGO_TARGET_DIR:-$PWD/target}/release/server f
  [ -x "$bin" ] || return 1
  while IFS= read -r -d '' f; do
    if [ "$f" -nt "$bin" ]; then return 1; fi
  done < <(git ls-files -z -- Cargo.toml Cargo.lock .cargo app db frontend server sessions migrations style public)
}
