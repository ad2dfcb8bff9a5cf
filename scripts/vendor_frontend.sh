#!/usr/bin/env bash
# Refresh the workspace's vendored front-end files from their npm packages (no build step,
# no CDN at run time). The results are committed under workspace/static/workspace/vendor/;
# run this only to change a version. Needs npm and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

HTMX_VERSION="2.0.11"
NHSUK_VERSION="10.6.1"
IDIOMORPH_VERSION="0.8.0"
DEST="workspace/static/workspace/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "htmx.org@${HTMX_VERSION}" "nhsuk-frontend@${NHSUK_VERSION}" \
  "idiomorph@${IDIOMORPH_VERSION}" >/dev/null)
mkdir -p "$work/htmx" "$work/nhsuk" "$work/idiomorph" "$DEST/images"
tar xzf "$work/htmx.org-${HTMX_VERSION}.tgz" -C "$work/htmx"
tar xzf "$work/nhsuk-frontend-${NHSUK_VERSION}.tgz" -C "$work/nhsuk"
tar xzf "$work/idiomorph-${IDIOMORPH_VERSION}.tgz" -C "$work/idiomorph"

cp "$work/htmx/package/dist/htmx.min.js" "$DEST/htmx.min.js"
cp "$work/htmx/package/LICENSE" "$DEST/htmx.LICENSE.txt"
# idiomorph with its htmx extension ("morph"): the board's refresh changes only what changed,
# so focus and a screen reader's place survive it.
cp "$work/idiomorph/package/dist/idiomorph-ext.min.js" "$DEST/idiomorph-ext.min.js"
cp "$work/idiomorph/package/LICENSE" "$DEST/idiomorph.LICENSE.txt"
# Only nhsuk-frontend's CSS: the pages use none of its JavaScript components.
# nhsuk-frontend is MIT (package.json "license"); its package ships no licence file.
cat >"$DEST/nhsuk-frontend.LICENSE.txt" <<TXT
nhsuk-frontend ${NHSUK_VERSION} (npm), licence: MIT (package.json "license": "MIT").
Copyright (c) NHS England. Source: the nhsuk-frontend npm package.

Permission is hereby granted, free of charge, to any person obtaining a copy of this
software and associated documentation files (the "Software"), to deal in the Software
without restriction, including without limitation the rights to use, copy, modify, merge,
publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
DEALINGS IN THE SOFTWARE.
TXT
cp "$work"/nhsuk/package/dist/nhsuk/assets/images/nhsuk-icon-*.svg "$DEST/images/" 2>/dev/null || true
# Two edits to the compiled CSS: the NHS Frutiger web fonts are fetched from an NHS host
# (a CDN, and licensed to NHS services only), so their @font-face rules go and the Arial
# fallback in every font stack is used; the icons' absolute /assets/ URLs become relative
# to the CSS file, next to which they are copied.
python3 - "$work/nhsuk/package/dist/nhsuk/nhsuk-frontend.min.css" "$DEST/nhsuk-frontend.min.css" <<'PY'
import re, sys
css = open(sys.argv[1], encoding="utf-8").read()
css = re.sub(r"@font-face\{[^}]*\}", "", css)
css = css.replace("url(/assets/images/", "url(images/")
css = re.sub(r"/\*# sourceMappingURL=[^*]*\*/", "", css)
open(sys.argv[2], "w", encoding="utf-8").write(css)
PY
sed -i 's|//# sourceMappingURL=.*$||' "$DEST/htmx.min.js"
echo "vendored htmx ${HTMX_VERSION}, idiomorph ${IDIOMORPH_VERSION} and nhsuk-frontend ${NHSUK_VERSION} into ${DEST}"
