#!/usr/bin/env bash
# Smoke test of a running compose stack (`docker compose --profile demo up -d --build`):
# every replica healthy and ready, a model call through the balancer with a key issued by the
# admin API, metrics scraped by Prometheus from all three replicas, and the dashboard loaded.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck disable=SC1091
source .env
GW="http://127.0.0.1:${GATEWAY_PORT:-8080}"
PROM="http://127.0.0.1:${PROMETHEUS_PORT:-9090}"
GRAFANA="http://127.0.0.1:${GRAFANA_PORT:-3000}"

for replica in gateway-1 gateway-2 gateway-3; do
    for _ in $(seq 60); do
        state=$(docker compose ps --format '{{.Health}}' "$replica" 2>/dev/null || true)
        [ "$state" = healthy ] && break
        sleep 2
    done
    [ "$state" = healthy ] || { echo "FAIL: $replica is $state"; exit 1; }
done

auth=(-H "authorization: Bearer ${GATEWAY_ADMIN_TOKEN}" -H 'content-type: application/json')
curl -fsS "${auth[@]}" -X POST "$GW/admin/v1/tenants" -d '{"id":"smoke","name":"Smoke test"}' >/dev/null || true
key=$(curl -fsS "${auth[@]}" -X POST "$GW/admin/v1/keys" -d '{"tenant":"smoke","name":"smoke"}' \
    | sed -n 's/.*"secret":"\([^"]*\)".*/\1/p')
[ -n "$key" ] || { echo "FAIL: no key issued"; exit 1; }
for _ in 1 2 3 4 5 6; do
    curl -fsS "$GW/v1/chat/completions" -H "authorization: Bearer $key" -H 'content-type: application/json' \
        -d '{"model":"demo","messages":[{"role":"user","content":"hello"}]}' | grep -q '"choices"'
done

sleep 20  # one scrape interval and a margin
up=$(curl -fsS "$PROM/api/v1/query" --data-urlencode 'query=sum(up{job="llm-gateway"})' \
    | sed -n 's/.*"value":\[[^,]*,"\([0-9]*\)".*/\1/p')
[ "$up" = 3 ] || { echo "FAIL: Prometheus sees $up gateways up"; exit 1; }
curl -fsS -u "admin:${GRAFANA_ADMIN_PASSWORD}" "$GRAFANA/api/dashboards/uid/llm-gateway" | grep -q '"LLM Gateway"' \
    || { echo "FAIL: the dashboard is not provisioned"; exit 1; }
echo "smoke: ok"
