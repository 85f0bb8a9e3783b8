#!/usr/bin/env bash
# Vendors the web console's JavaScript (docs/console.md): the pinned npm packages below, fetched with `npm pack`
# (npm checks each tarball against the registry's integrity hash), unpacked into the package's static folder with
# their licenses, and recorded in SHA256SUMS, which tests/unit/console/test_vendored.py checks. The console
# serves these files itself: no CDN, works offline. To upgrade, change a version here and run this script.
set -euo pipefail
cd "$(dirname "$0")/.."
HTMX=2.0.11
HTMX_SSE=2.2.4
DEST=digitalhub_runtime_python/console/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "htmx.org@$HTMX" "htmx-ext-sse@$HTMX_SSE" >/dev/null)
mkdir -p "$work/htmx" "$work/sse"
tar -xzf "$work/htmx.org-$HTMX.tgz" -C "$work/htmx"
tar -xzf "$work/htmx-ext-sse-$HTMX_SSE.tgz" -C "$work/sse"
cp "$work/htmx/package/dist/htmx.min.js" "$DEST/htmx.min.js"
cp "$work/htmx/package/LICENSE" "$DEST/htmx.LICENSE"
cp "$work/sse/package/dist/sse.min.js" "$DEST/htmx-ext-sse.min.js"
cp "$work/sse/package/LICENSE" "$DEST/htmx-ext-sse.LICENSE"
cat > "$DEST/VERSIONS" <<VERSIONS
htmx.org $HTMX
htmx-ext-sse $HTMX_SSE
VERSIONS
(cd "$DEST" && sha256sum htmx.min.js htmx.LICENSE htmx-ext-sse.min.js htmx-ext-sse.LICENSE VERSIONS > SHA256SUMS)
echo "vendored htmx.org $HTMX and htmx-ext-sse $HTMX_SSE into $DEST"
