"""Benchmark of the streaming ingestion against "download, then extract" measured in the same run.

    .venv/bin/python bench/ingest_bench.py [--rows 1700000] [--work bench/out]

Builds (once, cached in --work) a Deflate64 archive in INEP's layout with >= 1 GB of CSV: `lake
synth` rows, re-packed by 7-Zip (`-mm=Deflate64`). A separate process serves it over HTTP on
127.0.0.1 (so the server's memory is not counted). Then, each as its own process:
  ingest    python -m jobs.ingest.download --source URL --target <folder>   (one stream)
  baseline  download the zip to disk (urllib, 1 MiB blocks), then extract it to disk with
            7-Zip (`7z x`, C++) or with Python's zipfile + zipfile-deflate64 (the C decoder)
Twice: served as fast as localhost goes, then at --rate-mb (a fast real link). Prints wall time,
peak RSS (wait4's ru_maxrss, per process) and bytes written to disk of each, and the ratios the
targets in bench/README.md are stated in.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

EXTRACT_PY = """
import sys, zipfile, zipfile_deflate64  # the C Deflate64 decoder, patched into zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
"""

# One file over HTTP at a fixed rate (bytes/s; 0 = as fast as it goes), as its own process.
SERVER = """
import http.server, os, sys, time
path, port, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def do_GET(self):
        size = os.path.getsize(path)
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.send_header("ETag", '"bench"')
        self.end_headers()
        started, sent = time.monotonic(), 0
        with open(path, "rb") as source:
            while block := source.read(256 * 1024):
                self.wfile.write(block)
                sent += len(block)
                if rate:
                    ahead = sent / rate - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""

DOWNLOAD = """
import shutil, sys, urllib.request
with urllib.request.urlopen(sys.argv[1]) as response, open(sys.argv[2], "wb") as out:
    shutil.copyfileobj(response, out, 1024 * 1024)
"""


def run(command: list[str], **kwargs) -> dict:
    """Wall seconds, peak RSS and bytes written of one process (wait4: exact, not sampled)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               **kwargs)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{command[:4]} failed: {process.stderr.read().decode()[-500:]}")
    return {"seconds": seconds, "rss_mb": usage.ru_maxrss / 1024,
            "written_mb": usage.ru_oublock * 512 / 1e6}


def archive(rows: int, work: Path) -> Path:
    """The Deflate64 archive (cached): synthetic rows in INEP's layout, re-packed by 7-Zip."""
    out = work / f"deflate64-{rows}" / "microdados_enem_2019.zip"
    if out.exists():
        return out
    if shutil.which("7z") is None:
        raise SystemExit("7-Zip is missing: apt-get install -y p7zip-full")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=work, prefix="pack-"))
    started = time.perf_counter()
    deflate = staging / "deflate.zip"
    subprocess.run([PYTHON, "-m", "lake.cli", "synth", "--rows", str(rows), "--layout",
                    "original", "--out", str(deflate)], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["7z", "x", f"-o{staging / 'tree'}", str(deflate)], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["7z", "a", "-tzip", "-mm=Deflate64", "-mx=1", str(out.with_suffix(".part")),
                    "DADOS"], check=True, cwd=staging / "tree", stdout=subprocess.DEVNULL)
    out.with_suffix(".part").rename(out)
    shutil.rmtree(staging)
    print(f"built {out} ({out.stat().st_size / 1e6:,.0f} MB) in "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
    return out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(path: Path, rate: float) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen([PYTHON, "-c", SERVER, str(path), str(port), str(rate)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the HTTP server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_700_000)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--rate-mb", type=float, default=50.0,
                        help="the second round serves the archive at this rate (MB/s)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    zip_path = archive(args.rows, args.work)
    listing = subprocess.run(["7z", "l", "-slt", str(zip_path)], capture_output=True, text=True,
                             check=True).stdout
    csv_bytes = sum(int(line.split("=")[1]) for line in listing.splitlines()
                    if line.startswith("Size = "))
    methods = sorted({line.split("=")[1].strip() for line in listing.splitlines()
                      if line.startswith("Method = ")})
    print(f"archive: {zip_path.stat().st_size / 1e6:,.0f} MB, {csv_bytes / 1e9:.2f} GB of CSV, "
          f"methods {', '.join(methods)}")
    for rate in (0, args.rate_mb * 1e6):
        report(compare(zip_path, rate, args.work), csv_bytes, rate)


def compare(zip_path: Path, rate: float, work: Path) -> dict:
    """Ingest vs download-then-extract (7-Zip, and Python's zipfile with the C decoder)."""
    server, port = serve(zip_path, rate)
    url = f"http://127.0.0.1:{port}/{zip_path.name}"
    results = {}
    try:
        scratch = Path(tempfile.mkdtemp(dir=work, prefix="run-"))
        empty_tmp = scratch / "tmp"
        empty_tmp.mkdir()
        results["ingest"] = run(
            [PYTHON, "-m", "jobs.ingest.download", "--source", url, "--target",
             str(scratch / "raw"), "--force"], cwd=ROOT,
            env={**os.environ, "TMPDIR": str(empty_tmp)})
        results["temp_files"] = len(list(empty_tmp.rglob("*")))
        results["csvs"] = len(list((scratch / "raw").rglob("*.csv")))
        shutil.rmtree(scratch / "raw")

        downloaded = run([PYTHON, "-c", DOWNLOAD, url, str(scratch / "download.zip")])
        for name, command in (
                ("7z", ["7z", "x", "-y", f"-o{scratch / 'x7z'}", str(scratch / "download.zip")]),
                ("zipfile", [PYTHON, "-c", EXTRACT_PY, str(scratch / "download.zip"),
                             str(scratch / "xpy")])):
            extracted = run(command)
            results[name] = {
                "seconds": downloaded["seconds"] + extracted["seconds"],
                "rss_mb": max(downloaded["rss_mb"], extracted["rss_mb"]),
                "written_mb": downloaded["written_mb"] + extracted["written_mb"],
                "download_s": downloaded["seconds"], "extract_s": extracted["seconds"]}
        shutil.rmtree(scratch)
    finally:
        server.terminate()
        server.wait()
    return results


def report(results: dict, csv_bytes: int, rate: float) -> None:
    network = f"served at {rate / 1e6:.0f} MB/s" if rate else "served as fast as localhost goes"
    print(f"\n--- {network} ---")
    ingest = results["ingest"]
    print(f"ingest             {ingest['seconds']:6.1f} s  peak RSS {ingest['rss_mb']:5.0f} MB  "
          f"written {ingest['written_mb']:6,.0f} MB  "
          f"({csv_bytes / 1e6 / ingest['seconds']:,.0f} MB/s of CSV)")
    for name, label in (("7z", "download + 7z x   "), ("zipfile", "download + zipfile")):
        base = results[name]
        print(f"{label} {base['seconds']:6.1f} s  peak RSS {base['rss_mb']:5.0f} MB  "
              f"written {base['written_mb']:6,.0f} MB  (download {base['download_s']:.1f} s "
              f"+ extract {base['extract_s']:.1f} s)")
    for name in ("7z", "zipfile"):
        print(f"time ingest / (download + {name}) = "
              f"{ingest['seconds'] / results[name]['seconds']:.2f} (target <= 1.00)")
    print(f"peak RSS ingest = {ingest['rss_mb']:.0f} MB (target <= 300 MB)")
    print(f"extracted copies outside the target: {results['temp_files']} temporary files "
          f"({results['csvs']} CSVs written, all in the target)")


if __name__ == "__main__":
    main()
