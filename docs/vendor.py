"""Fetch the JavaScript the docs pages run (MathJax, the Jupyter widget manager) into docs/_static/vendor/.

The pages are read from disk with no network, so nothing may come from a CDN when they are viewed. Each
package is taken from the npm registry with `npm pack` (pinned version, its sha512 checked) at build time;
only the files the pages load are kept. `make docs` and `make test` run this once (a stamp marks it done).
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "_static" / "vendor"
STAMP = VENDOR / ".fetched"

# (package, version, npm's sha512 integrity, folder under vendor/, the tarball paths kept: prefixes)
PACKAGES = [
    (
        "mathjax", "3.2.2",
        "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        "mathjax", ("package/es5/tex-svg.js", "package/es5/input/tex/extensions/", "package/LICENSE"),
    ),
    (
        "@jupyter-widgets/html-manager", "1.0.15",
        "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        "html-manager", ("package/dist/", "package/LICENSE"),
    ),
]


def npm_pack(name: str, version: str, into: Path) -> Path:
    """The package's tarball from the npm registry, downloaded into `into` (dependencies are not needed)."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("docs/vendor.py needs npm (Debian: apt-get install npm) to fetch MathJax and the widget manager")
    done = subprocess.run(
        [npm, "pack", f"{name}@{version}", "--silent", "--pack-destination", str(into)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        sys.exit(f"npm pack {name}@{version} failed: {done.stderr.strip()[-500:]}")
    return into / done.stdout.strip().splitlines()[-1]


def check_integrity(tarball: Path, integrity: str) -> None:
    """Stop unless the tarball's sha512 is the pinned one (npm's `integrity` string)."""
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if f"sha512-{digest}" != integrity:
        sys.exit(f"{tarball.name}: sha512 is sha512-{digest}, expected {integrity}")


def extract(tarball: Path, keep: tuple[str, ...], target: Path) -> int:
    """Copy the kept regular files of the tarball into target (without the `package/` prefix); how many."""
    count = 0
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            # The pages load the standalone embed.js: the require.js builds (-amd.js) and source maps are not needed.
            if not member.isfile() or not member.name.startswith(keep) or member.name.endswith((".map", "-amd.js")):
                continue
            path = target / member.name.removeprefix("package/")
            if target.resolve() not in path.resolve().parents:  # a tarball never writes outside its folder
                sys.exit(f"{tarball.name}: {member.name} would leave {target}")
            path.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            assert source is not None  # a regular file always has content to read
            path.write_bytes(source.read())
            count += 1
    return count


def main() -> None:
    """Fetch every package afresh, then write the stamp."""
    shutil.rmtree(VENDOR, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, version, integrity, folder, keep in PACKAGES:
            tarball = npm_pack(name, version, Path(tmp))
            check_integrity(tarball, integrity)
            count = extract(tarball, keep, VENDOR / folder)
            print(f"docs/_static/vendor/{folder}: {name}@{version}, {count} files")
    STAMP.write_text("\n".join(f"{name}@{version}" for name, version, *_ in PACKAGES) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
