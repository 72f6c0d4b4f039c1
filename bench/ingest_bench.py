"""Benchmark of the streaming ingestion against "download, then extract" measured in the same run.

    .venv/bin/python bench/ingest_bench.py [--rows 1700000] [--work bench/out]

Builds (once, cached in --work) a Deflate64 archive in INEP's layout with >= 1 GB of CSV: `lake
synth` rows, re-packed by 7-Zip (`-mm=Deflate64`). A separate process serves it over HTTP on
127.0.0.1 (so the server's memory is not counted). Then, each as its own process:
  ingest    python -m jobs.ingest.download --source URL --target <folder>   (one stream)
  baseline  download the zip to disk (urllib, 1 MiB blocks), then `7z x` it to disk (C++)
Prints wall time, peak RSS (wait4's ru_maxrss, per process) and bytes written to disk of each, and
the ratios the targets in bench/README.md are stated in.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

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
    subprocess.run([PYTHON, "-m", "jobs.cli", "synth", "--rows", str(rows), "--layout",
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


def serve(folder: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen([PYTHON, "-m", "http.server", "--bind", "127.0.0.1",
                               "--directory", str(folder), str(port)],
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
    server, port = serve(zip_path.parent)
    url = f"http://127.0.0.1:{port}/{zip_path.name}"
    results = {}
    try:
        scratch = Path(tempfile.mkdtemp(dir=args.work, prefix="run-"))
        empty_tmp = scratch / "tmp"
        empty_tmp.mkdir()
        results["ingest"] = run(
            [PYTHON, "-m", "jobs.ingest.download", "--source", url, "--target",
             str(scratch / "raw"), "--force"], cwd=ROOT, env={**os.environ, "TMPDIR":
                                                           str(empty_tmp)})
        temp_files = list(empty_tmp.rglob("*"))
        written = list((scratch / "raw").rglob("*.csv"))
        shutil.rmtree(scratch / "raw")

        downloaded = run([PYTHON, "-c", DOWNLOAD, url, str(scratch / "download.zip")])
        extracted = run(["7z", "x", "-y", f"-o{scratch / 'extracted'}",
                         str(scratch / "download.zip")])
        results["baseline"] = {
            "seconds": downloaded["seconds"] + extracted["seconds"],
            "rss_mb": max(downloaded["rss_mb"], extracted["rss_mb"]),
            "written_mb": downloaded["written_mb"] + extracted["written_mb"],
            "download_s": downloaded["seconds"], "extract_s": extracted["seconds"]}
        shutil.rmtree(scratch)
    finally:
        server.terminate()
        server.wait()

    ingest, base = results["ingest"], results["baseline"]
    print(f"ingest   {ingest['seconds']:6.1f} s  peak RSS {ingest['rss_mb']:6.0f} MB  "
          f"written {ingest['written_mb']:7,.0f} MB  ({csv_bytes / 1e6 / ingest['seconds']:,.0f} "
          "MB/s of CSV)")
    print(f"baseline {base['seconds']:6.1f} s  peak RSS {base['rss_mb']:6.0f} MB  "
          f"written {base['written_mb']:7,.0f} MB  (download {base['download_s']:.1f} s + "
          f"7z x {base['extract_s']:.1f} s)")
    print(f"time ingest/baseline = {ingest['seconds'] / base['seconds']:.2f} (target <= 1.00)")
    print(f"peak RSS ingest = {ingest['rss_mb']:.0f} MB (target <= 300 MB)")
    print(f"extracted copies on local disk: {len(temp_files)} temporary files; "
          f"{len(written)} CSVs, all in the target (target: none outside it)")
    print(f"ru_maxrss is kernel-reported; this process: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
