# Sourced by scripts/bench-image and scripts/bench-enforce: builds (or takes WAXSEAL_BIN) the
# release binary, starts Debian's docker-registry (filesystem storage in a temp dir) and a
# `waxseal serve` (temp data dir) on loopback, and stops both on exit. Sets $bin, $work,
# $registry (host:port) and $data.
if [ -n "${WAXSEAL_BIN:-}" ]; then
  bin="$WAXSEAL_BIN"
else
  cargo build --release --locked -p waxseal-cli >&2
  bin="$PWD/target/release/waxseal"
fi
command -v docker-registry >/dev/null || { echo "docker-registry is not installed (apt-get install docker-registry)" >&2; exit 2; }

work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat >"$work/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YAML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
data="$work/data"
"$bin" serve --data-dir "$data" --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  if curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && grep -q "http://" "$work/serve.log"; then break; fi
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null || { cat "$work/registry.log" >&2; exit 2; }
grep -q "http://" "$work/serve.log" || { cat "$work/serve.log" >&2; exit 2; }
registry="127.0.0.1:$port"
