# Sourced by the scripts that build the shop (after env.sh and steps.sh).
#
#   build_release_site [MODE]  installs what is missing (scripts/bootstrap MODE, default
#                              `serve`) and builds the release site: the server, the wasm
#                              split into chunks, optimised and precompressed. The same
#                              result as `cargo leptos build --release --precompress
#                              --split`, in less time (below)
#   release_site_current       true if a release build exists that is newer than every
#                              source file, so that building it again compiles nothing
#
# Why not just `cargo leptos build --release`: with hashed file names cargo-leptos builds
# the wasm first and the server after it, and before that the tools must be built. The
# wasm's last minute (one LTO link on one core, then wasm-bindgen, wasm-opt and the
# compression) and the tools' links leave a core idle. So the server compiles in the
# background from the start, beside the tools and the wasm; cargo-leptos then finds it up
# to date. Measured cold: docs/PERFORMANCE.md, "The first run".

# The server's compile exactly as cargo-leptos runs it: the same package and flags, and
# LEPTOS_OUTPUT_NAME (env.sh) is the only one of its settings that the code reads while
# compiling, so the artifacts are the same (cargo-leptos then compiles nothing).
server_release_compile() {
  cargo build --package=server --bin=server --no-default-features --release "$@"
}

build_release_site() {
  local mode=${1:-serve} log
  log=$(mktemp /tmp/shop-server-build.XXXXXX)
  say "compiling the server (release) in the background; its output goes to $log"
  server_release_compile >"$log" 2>&1 &
  BUILD_SERVER_PID=$!
  BUILD_SERVER_T=$SECONDS
  # Stopped with us, whatever ends the script.
  trap 'step_exit; build_server_stop' EXIT
  scripts/bootstrap "$mode"
  step "build the wasm (release: split into chunks, optimised, precompressed)" "2 min" \
    "the wasm did not compile: the errors are above" \
    cargo leptos build --release --precompress --split --frontend-only
  step "finish compiling the server (release, started $((SECONDS - BUILD_SERVER_T)) s ago)" "4 min" \
    "the server did not compile: the errors are above" build_server_wait "$log"
  # Everything is up to date now: this checks it and takes a second.
  cargo leptos build --release --precompress --split --server-only
  regzip_pkg
  rm -f "$log"
}

build_server_wait() {
  local status=0
  wait "$BUILD_SERVER_PID" || status=$?
  BUILD_SERVER_PID=
  if [ "$status" != 0 ]; then grep -v '^ *Compiling ' "$1" | tail -n 40 >&2; fi
  return "$status"
}

build_server_stop() {
  if [ -n "${BUILD_SERVER_PID:-}" ]; then kill "$BUILD_SERVER_PID" 2>/dev/null || true; fi
}

release_site_current() {
  local bin=${CARGO_TARGET_DIR:-$PWD/target}/release/server f
  [ -x "$bin" ] || return 1
  while IFS= read -r -d '' f; do
    if [ "$f" -nt "$bin" ]; then return 1; fi
  done < <(git ls-files -z -- Cargo.toml Cargo.lock .cargo app db frontend server sessions migrations style public)
}
