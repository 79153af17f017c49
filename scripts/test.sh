#!/usr/bin/env bash
# The whole test suite: Python (pytest, two workers) and the browser-side crypto (node --test).
# Uses DATABASE_URL / REDIS_URL when set (CI sets PostgreSQL and Redis), embedded defaults otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== JavaScript unit tests (node --test)"
node --test tests/js/

echo "== Python tests (pytest)"
workers="${PYTEST_WORKERS:-2}"
exec .venv/bin/pytest -n "$workers" --dist loadgroup -q "$@"
