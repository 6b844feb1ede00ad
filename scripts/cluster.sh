# Sourced by scripts/cluster and scripts/test: several shop processes on one private
# PostgreSQL server behind nginx as a round-robin load balancer, served over https with
# HTTP/2 (plain http answers with a redirect), the processes with the production cookie.
# Needs scripts/pg.sh.
#
#   cluster_start BIN SITE_ROOT PORT [MODE]   starts it all; https on PORT, plain http
#                                             (redirecting) on CLUSTER_HTTP_PORT (a free
#                                             port if unset); sets CLUSTER_URL
#                                             (https://localhost:PORT), CLUSTER_HTTP_URL,
#                                             CLUSTER_DIR
#                                             MODE `keep` (default): its own durable server;
#                                             `fast`: its own server without fsync (tests);
#                                             `reuse`: a new database on the server that
#                                             pg_start already started (left running)
#   cluster_stop                              stops it all, deletes the temporary files
#   cluster_metric NAME{LABELS}               the sum of one Prometheus series over the
#                                             processes (each serves its metrics on a
#                                             loopback port of its own, METRICS_ADDR)
#
# Each process answers with `X-Served-By: shop-N`; nginx is their trusted proxy.
# TLS_CERT and TLS_KEY name a certificate and its key; without them a self-signed one
# for localhost is made at start (browsers warn about it; the tests accept it).
# CLUSTER_TLS=off serves plain http on PORT instead, with the plain-http cookie (the
# benchmarks: they measure the shop, not TLS).

CLUSTER_SIZE=${CLUSTER_SIZE:-3}

cluster_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cluster_wait_up() { # URL, PID, LOG
  local i
  for i in $(seq 1 600); do
    if curl -fsk -o /dev/null "$1"; then return 0; fi
    if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then
      echo "a shop process exited early; its log:" >&2
      tail -n 20 "$3" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "$1 did not come up" >&2
  return 1
}

# The front's server blocks, up to its `location`: https with HTTP/2 on PORT and a
# redirect on HTTP_PORT, or (TLS off) plain http on PORT.
cluster_front() { # TLS PORT HTTP_PORT CERT KEY
  if [ "$1" = off ]; then
    printf '  server {\n    listen 127.0.0.1:%s;\n' "$2"
    return
  fi
  printf '  server {\n    listen 127.0.0.1:%s;\n    return 301 https://localhost:%s$request_uri;\n  }\n' "$3" "$2"
  printf '  server {\n    listen 127.0.0.1:%s ssl http2;\n    ssl_certificate %s;\n' "$2" "$4"
  printf '    ssl_certificate_key %s;\n    ssl_protocols TLSv1.2 TLSv1.3;\n' "$5"
}

cluster_start() {
  local bin=$1 site=$2 port=$3 mode=${4:-keep} url i sport mport
  CLUSTER_DIR=$(mktemp -d /tmp/clusterXXXXXX)
  # The postgres user (initdb, as root) and nginx's workers must reach into it.
  chmod 755 "$CLUSTER_DIR"
  CLUSTER_PIDS=()
  CLUSTER_PORTS=()
  CLUSTER_METRICS_PORTS=()
  CLUSTER_NGINX=
  CLUSTER_MODE=$mode
  if [ "$mode" = reuse ]; then
    :
  elif [ "$mode" = fast ]; then
    pg_start fast
  else
    # Default (durable) settings: this cluster is for people to try.
    pg_start keep "$CLUSTER_DIR/pg"
    PG_TEMP=1
  fi
  url=$(pg_createdb "shop_cluster_$$")
  local tls=${CLUSTER_TLS:-on} secure=true scheme=https
  [ "$tls" = off ] && secure=false scheme=http
  local upstream=""
  for i in $(seq 1 "$CLUSTER_SIZE"); do
    sport=$(cluster_free_port)
    mport=$(cluster_free_port)
    env DATABASE_URL="$url" LEPTOS_SITE_ADDR="127.0.0.1:$sport" LEPTOS_SITE_ROOT="$site" \
      METRICS_ADDR="127.0.0.1:$mport" \
      LEPTOS_HASH_FILES=true LEPTOS_OUTPUT_NAME=shop TRUSTED_PROXIES=127.0.0.1 \
      SERVED_BY="shop-$i" COOKIE_SECURE="$secure" RUST_LOG="${RUST_LOG:-warn}" \
      WEBAUTHN_ORIGIN="$scheme://localhost:$port" \
      "$bin" >"$CLUSTER_DIR/shop-$i.log" 2>&1 &
    CLUSTER_PIDS+=("$!")
    CLUSTER_PORTS+=("$sport")
    CLUSTER_METRICS_PORTS+=("$mport")
    upstream="$upstream    server 127.0.0.1:$sport;"$'\n'
    # The first one migrates and seeds the database before the others start; a catalog
    # to load (SHOP_CATALOG, JSON lines) goes in then.
    if [ "$i" = 1 ]; then
      cluster_wait_up "http://127.0.0.1:$sport/" "$!" "$CLUSTER_DIR/shop-$i.log" || return 1
      if [ -n "${SHOP_CATALOG:-}" ]; then
        DATABASE_URL="$url" RUST_LOG=warn "$bin" import "$SHOP_CATALOG" 2>"$CLUSTER_DIR/import.log" \
          || { cat "$CLUSTER_DIR/import.log" >&2; return 1; }
      fi
    fi
  done
  mkdir -p "$CLUSTER_DIR/nginx"
  chmod 1777 "$CLUSTER_DIR/nginx"
  local cert=${TLS_CERT:-} key=${TLS_KEY:-} http_port=${CLUSTER_HTTP_PORT:-$(cluster_free_port)}
  if [ "$tls" != off ] && { [ -z "$cert" ] || [ -z "$key" ]; }; then
    cert=$CLUSTER_DIR/tls.crt key=$CLUSTER_DIR/tls.key
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
      -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
      -keyout "$key" -out "$cert" >"$CLUSTER_DIR/openssl.log" 2>&1 \
      || { cat "$CLUSTER_DIR/openssl.log" >&2; return 1; }
  fi
  cat >"$CLUSTER_DIR/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $CLUSTER_DIR/nginx.pid;
error_log $CLUSTER_DIR/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $CLUSTER_DIR/nginx/body;
  proxy_temp_path $CLUSTER_DIR/nginx/proxy;
  fastcgi_temp_path $CLUSTER_DIR/nginx/fastcgi;
  uwsgi_temp_path $CLUSTER_DIR/nginx/uwsgi;
  scgi_temp_path $CLUSTER_DIR/nginx/scgi;
  upstream shop {
$upstream    keepalive 32;
    # Below the shops' own idle limit (HEADER_READ_TIMEOUT_SECS, 15 s): nginx drops an
    # idle connection before a shop does, never sending a request into one being closed.
    keepalive_timeout 10s;
  }
$(cluster_front "$tls" "$port" "$http_port" "$cert" "$key")
    location / {
      proxy_pass http://shop;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      # The shops read X-Forwarded-For only; a client's own Forwarded header goes.
      proxy_set_header Forwarded "";
      proxy_set_header X-Forwarded-Proto \$scheme;
      # The browser's protocol: over HTTP/2 its event streams do not use up connections.
      proxy_set_header X-Client-Protocol \$server_protocol;
    }
  }
}
CONF
  "$(command -v nginx || echo /usr/sbin/nginx)" -c "$CLUSTER_DIR/nginx.conf" -p "$CLUSTER_DIR" >"$CLUSTER_DIR/nginx.log" 2>&1 &
  CLUSTER_NGINX=$!
  for i in $(seq 1 "$CLUSTER_SIZE"); do
    cluster_wait_up "http://127.0.0.1:${CLUSTER_PORTS[$((i - 1))]}/" "${CLUSTER_PIDS[$((i - 1))]}" \
      "$CLUSTER_DIR/shop-$i.log" || return 1
  done
  if [ "$tls" = off ]; then
    CLUSTER_URL="http://127.0.0.1:$port" CLUSTER_HTTP_URL=$CLUSTER_URL
  else
    CLUSTER_URL="https://localhost:$port" CLUSTER_HTTP_URL="http://localhost:$http_port"
  fi
  cluster_wait_up "$CLUSTER_URL/" "$CLUSTER_NGINX" "$CLUSTER_DIR/nginx-error.log" || return 1
  export CLUSTER_URL CLUSTER_HTTP_URL CLUSTER_DIR
}

cluster_metric() { # SERIES, e.g. shop_session_lookups_total{result="replaced"}
  local port total=0 value
  for port in "${CLUSTER_METRICS_PORTS[@]}"; do
    value=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null |
      awk -v s="$1" '$1 == s { print $2 }')
    total=$((total + ${value:-0}))
  done
  echo "$total"
}

cluster_stop() {
  [ -n "${CLUSTER_DIR:-}" ] || return 0
  if [ -n "${CLUSTER_NGINX:-}" ]; then kill "$CLUSTER_NGINX" 2>/dev/null || true; fi
  local pid
  for pid in "${CLUSTER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${CLUSTER_PIDS[@]}" ${CLUSTER_NGINX:+"$CLUSTER_NGINX"}; do wait "$pid" 2>/dev/null || true; done
  [ "${CLUSTER_MODE:-}" = reuse ] || pg_stop
  rm -rf "$CLUSTER_DIR"
  CLUSTER_DIR=
}
