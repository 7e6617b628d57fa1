"""Answer a page's CDN requests the way a CDN would, from the npm registry.

Exported HTML (and Colab, VS Code) load require.js, the widget manager and every
widget's front-end from a CDN by ``<module>@<semver range>``. No CDN is reachable
here, so each request is answered from ``npm pack <module>@<the same range>`` —
exactly what jsdelivr/unpkg would resolve. The packs are cached in
``.npm-packs/`` (git-ignored); a missing one is fetched with npm.
"""

from __future__ import annotations

import mimetypes
import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

CACHE = Path(__file__).resolve().parents[2] / ".npm-packs"

# cdnjs serves a few libraries under its own paths: map them onto npm packages (file None: the
# same path inside the package, e.g. MathJax's loader and the files it loads next).
CDNJS = {
    "require.js": ("requirejs", "require.js"),
    "jquery": ("jquery", "dist/jquery.min.js"),
    "mathjax": ("mathjax", None),
}
# cdnjs-only versions the reveal.js template asks for: the nearest version npm has
NPM_VERSION = {("jquery", "2.0.3"): "2.1.0"}
NPM_CDNS = ("cdn.jsdelivr.net", "unpkg.com")


def package_dir(spec: str) -> Path:
    """The unpacked ``npm pack <spec>`` (cached)."""
    key = re.sub(r"[^A-Za-z0-9._-]", "_", spec)
    target = CACHE / key
    if (target / "package" / "package.json").exists():
        return target / "package"
    CACHE.mkdir(exist_ok=True)
    out = subprocess.run(
        ["npm", "pack", spec, "--pack-destination", str(CACHE), "--silent"],
        capture_output=True, text=True, check=True, timeout=180,
    )  # fmt: skip
    tarball = CACHE / out.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as tar:
        tar.extractall(target, filter="data")
    tarball.unlink()
    return target / "package"


def resolve(url: str) -> tuple[str, Path] | None:
    """(the npm spec asked for, the file) for a CDN URL; None for anything else."""
    parsed = urlparse(url)
    path = unquote(parsed.path)
    if parsed.netloc == "cdnjs.cloudflare.com":
        match = re.match(r"/ajax/libs/([^/]+)/([^/]+)/(.*)", path)
        if match and match.group(1) in CDNJS:
            name, file = CDNJS[match.group(1)]
            spec = f"{name}@{NPM_VERSION.get((name, match.group(2)), match.group(2))}"
            return spec, package_dir(spec) / (file or match.group(3))
        return None
    if parsed.netloc not in NPM_CDNS:
        return None
    path = path.removeprefix("/npm/")
    match = re.match(r"/?((?:@[^/]+/)?[^/@]+)@([^/]+)/(.*)", path)
    if not match:
        return None
    name, version, file = match.groups()
    spec = f"{name}@{version}"
    return spec, package_dir(spec) / file


class NpmCdn:
    """A Playwright route handler; ``served`` records which spec answered which URL."""

    def __init__(self) -> None:
        self.served: dict[str, str] = {}
        self.missing: list[str] = []

    def __call__(self, route: Any) -> None:
        url = route.request.url
        try:
            found = resolve(url)
        except subprocess.CalledProcessError as error:  # a range npm cannot resolve: what a CDN would 404
            self.missing.append(f"{url} ({error.stderr.strip()[-200:]})")
            route.fulfill(status=404, body="not on npm")
            return
        if found is None:
            route.abort()
            return
        spec, file = found
        if file.suffix == "" and file.with_suffix(".js").exists():
            file = file.with_suffix(".js")
        if not file.is_file():
            self.missing.append(url)
            route.fulfill(status=404, body="not in package")
            return
        self.served[url] = spec
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if file.suffix in (".js", ".mjs"):
            kind = "application/javascript"
        route.fulfill(
            status=200, body=file.read_bytes(), headers={"content-type": kind, "access-control-allow-origin": "*"}
        )
