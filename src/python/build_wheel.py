"""Build the `evalpred` wheel with the standard library only (no pip, setuptools or network needed).

    python3 src/python/build_wheel.py --out dist-vsix      -> dist-vsix/evalpred-<version>-py3-none-any.whl

A wheel is a zip with the package and a .dist-info folder (PEP 427); the RECORD lists every file's hash.
"""
import argparse
import base64
import hashlib
import os
import re
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.join(HERE, "evalpred")


def version():
    with open(os.path.join(PACKAGE, "__init__.py"), encoding="utf-8") as f:
        return re.search(r'^__version__ = "([^"]+)"', f.read(), re.M).group(1)


def build(out_dir):
    v = version()
    dist_info = "evalpred-%s.dist-info" % v
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    files = []
    for name in sorted(os.listdir(PACKAGE)):
        if name.endswith(".py"):
            with open(os.path.join(PACKAGE, name), "rb") as f:
                files.append(("evalpred/" + name, f.read()))
    files.append((dist_info + "/METADATA", (
        "Metadata-Version: 2.1\nName: evalpred\nVersion: %s\n"
        "Summary: Capture and replay Hugging Face Trainer EvalPredictions for debugging compute_metrics\n"
        "License: MIT\nRequires-Python: >=3.8\nRequires-Dist: numpy\n"
        "Description-Content-Type: text/markdown\n\n%s" % (v, readme)).encode()))
    files.append((dist_info + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: evalpred build_wheel.py\n"
                                        b"Root-Is-Purelib: true\nTag: py3-none-any\n"))
    files.append((dist_info + "/top_level.txt", b"evalpred\n"))
    record = []
    for path, data in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (path, digest, len(data)))
    record.append(dist_info + "/RECORD,,")
    os.makedirs(out_dir, exist_ok=True)
    wheel = os.path.join(out_dir, "evalpred-%s-py3-none-any.whl" % v)
    tmp = wheel + ".partial"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files:
            # Fixed timestamps: the same sources give the same wheel, byte for byte.
            info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            z.writestr(info, data, zipfile.ZIP_DEFLATED)
        info = zipfile.ZipInfo(dist_info + "/RECORD", date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        z.writestr(info, "\n".join(record) + "\n", zipfile.ZIP_DEFLATED)
    os.replace(tmp, wheel)
    return wheel


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="dist-vsix", help="folder for the wheel (default dist-vsix)")
    print(build(p.parse_args().out))
