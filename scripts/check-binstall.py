#!/usr/bin/env python3
"""Checks [package.metadata.binstall] against what dist releases (scripts/ship-check.sh): for
every target dist builds, the URL cargo-binstall would fetch names an archive in dist's
manifest, and its bin-dir names the binary inside; the bin-dir is also checked inside an
archive built here. cargo-binstall itself downloads from GitHub, which this machine cannot reach.

    check-binstall.py CARGO_METADATA.json DIST_MANIFEST.json LOCAL_ARCHIVE.tar.xz
"""
import json
import re
import sys
import tarfile

metadata, manifest, local_archive = sys.argv[1:4]
package = json.load(open(metadata))["packages"][0]
binstall = package["metadata"]["binstall"]
dist = json.load(open(manifest))
archives = {
    a["target_triples"][0]: name
    for name, a in dist["artifacts"].items()
    if a.get("kind") == "executable-zip" and len(a.get("target_triples", [])) == 1
}
assert archives, "dist's manifest lists no archives"
repo = package["repository"]
version = dist["announcement_tag"].lstrip("v")
failures = []
for target, archive in sorted(archives.items()):
    settings = dict(binstall)
    settings.update(binstall.get("overrides", {}).get(target, {}))
    suffix = {"txz": ".tar.xz", "zip": ".zip", "tgz": ".tar.gz"}[settings["pkg-fmt"]]
    binary_ext = ".exe" if "windows" in target else ""
    values = {"repo": repo, "version": version, "name": package["name"], "target": target,
              "archive-suffix": suffix, "binary-ext": binary_ext, "bin": package["name"]}
    render = lambda template: re.sub(r"\{\s*([a-z-]+)\s*\}", lambda m: values[m.group(1)], template)
    url = render(settings["pkg-url"])
    want = f"{repo}/releases/download/v{version}/{archive}"
    if url != want:
        failures.append(f"{target}: binstall fetches {url}, the release has {want}")
    bin_dir = render(settings["bin-dir"])
    # dist packs tarballs under a `<name>-<target>/` folder and Windows zips flat (the layout its
    # own PowerShell installer unpacks); the executable's path inside comes from its manifest.
    exe = next(a["path"] for a in dist["artifacts"][archive]["assets"] if a["kind"] == "executable")
    expected_bin = exe if archive.endswith(".zip") else f"{package['name']}-{target}/{exe}"
    if bin_dir != expected_bin:
        failures.append(f"{target}: bin-dir {bin_dir}, dist packs {expected_bin}")
    if local_archive.endswith(archive):
        with tarfile.open(local_archive) as tar:
            if bin_dir not in tar.getnames():
                failures.append(f"{target}: {bin_dir} is not in {local_archive} ({tar.getnames()})")
for failure in failures:
    print("check-binstall:", failure, file=sys.stderr)
print(f"check-binstall: {len(archives)} targets checked")
sys.exit(1 if failures else 0)
