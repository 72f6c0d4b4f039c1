"""Zone storage behind one small interface: a local folder or an S3 prefix, addressed by URI.

Every path in the runtime code is a URI: `s3://bucket/prefix` in AWS, a folder path on one
machine. Spark reads and writes the data files itself; this module does the bookkeeping around
them (listing ingestions, manifests, run summaries, replacing a table with its staged copy).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Protocol

DELETE_BATCH = 1000  # the most keys one DeleteObjects request takes


class StorageError(Exception):
    """A storage operation did not complete; one line naming the objects."""


def name_of(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


class Storage(Protocol):
    def exists(self, uri: str) -> bool: ...

    def children(self, uri: str) -> list[str]:
        """Names of the immediate sub-folders of `uri`, sorted."""
        ...

    def files(self, uri: str) -> list[str]:
        """URIs of every file below `uri`, sorted."""
        ...

    def read_bytes(self, uri: str, length: int | None = None) -> bytes: ...

    def size(self, uri: str) -> int: ...

    def write_text(self, uri: str, text: str) -> None:
        """Write a small file so that readers see either the old or the whole new content."""
        ...

    def write_bytes(self, uri: str, data: bytes) -> None:
        """The same for bytes."""
        ...

    def delete(self, uri: str) -> None:
        """Delete a file or everything below a prefix; missing is fine."""
        ...

    def replace(self, source: str, target: str) -> None:
        """Make `target` hold exactly what `source` holds, then remove `source`."""
        ...


class LocalStorage:
    """Folders on this machine. `replace` swaps folders by rename, so it is atomic."""

    def exists(self, uri: str) -> bool:
        return Path(uri).exists()

    def children(self, uri: str) -> list[str]:
        path = Path(uri)
        if not path.is_dir():
            return []
        return sorted(child.name for child in path.iterdir() if child.is_dir())

    def files(self, uri: str) -> list[str]:
        path = Path(uri)
        if path.is_file():
            return [str(path)]
        if not path.is_dir():
            return []
        return sorted(str(p) for p in path.rglob("*") if p.is_file())

    def read_bytes(self, uri: str, length: int | None = None) -> bytes:
        with open(uri, "rb") as handle:
            return handle.read() if length is None else handle.read(length)

    def size(self, uri: str) -> int:
        return Path(uri).stat().st_size

    def write_text(self, uri: str, text: str) -> None:
        self.write_bytes(uri, text.encode("utf-8"))

    def write_bytes(self, uri: str, data: bytes) -> None:
        path = Path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)

    def delete(self, uri: str) -> None:
        path = Path(uri)
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()

    def replace(self, source: str, target: str) -> None:
        src, dst = Path(source), Path(target)
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.exists():
            # Two renames: the old table moves aside whole, the new one moves in whole.
            aside = dst.with_name(f".{dst.name}.replaced-{os.getpid()}")
            os.replace(dst, aside)
            os.replace(src, dst)
            shutil.rmtree(aside)
        else:
            os.replace(src, dst)


def delete_keys(client, bucket: str, keys: list[str]) -> None:
    """Delete `keys` of `bucket` in batches of 1000 (DeleteObjects' most). S3 answers 200 even
    when some keys were not deleted and lists those under `Errors`: any such key is a failure."""
    for start in range(0, len(keys), DELETE_BATCH):
        batch = [{"Key": key} for key in keys[start:start + DELETE_BATCH]]
        answer = client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        errors = answer.get("Errors") or []
        if errors:
            first = errors[0]
            raise StorageError(
                f"could not delete {len(errors)} object(s) in s3://{bucket}/, e.g. "
                f"{first.get('Key')}: {first.get('Code')} {first.get('Message', '')}".rstrip())


class S3Storage:
    """An S3 prefix. `replace` copies the new objects in, then deletes the objects that are not
    part of the new set: the table is never empty, but for the seconds between the two steps a
    reader can see old and new files side by side."""

    def __init__(self, client=None) -> None:
        if client is None:
            import boto3
            client = boto3.client("s3")
        self.client = client

    @staticmethod
    def split(uri: str) -> tuple[str, str]:
        if not uri.startswith("s3://"):
            raise ValueError(f"not an s3:// URI: {uri}")
        bucket, _, key = uri[len("s3://"):].partition("/")
        return bucket, key

    def _keys(self, uri: str) -> list[str]:
        bucket, prefix = self.split(uri)
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix.rstrip("/") + "/" if prefix else ""):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(keys)

    def exists(self, uri: str) -> bool:
        bucket, key = self.split(uri)
        try:
            self.client.head_object(Bucket=bucket, Key=key)
            return True
        except self.client.exceptions.ClientError:
            return bool(self._keys(uri))

    def children(self, uri: str) -> list[str]:
        bucket, prefix = self.split(uri)
        prefix = prefix.rstrip("/") + "/" if prefix else ""
        names: set[str] = set()
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix, Delimiter="/"):
            names.update(p["Prefix"][len(prefix):].rstrip("/")
                         for p in page.get("CommonPrefixes", []))
        return sorted(names)

    def files(self, uri: str) -> list[str]:
        bucket, _ = self.split(uri)
        return [f"s3://{bucket}/{key}" for key in self._keys(uri)]

    def read_bytes(self, uri: str, length: int | None = None) -> bytes:
        bucket, key = self.split(uri)
        extra = {"Range": f"bytes=0-{length - 1}"} if length else {}
        try:
            return self.client.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()
        except self.client.exceptions.ClientError as error:
            # S3 answers 416 InvalidRange for any range of an empty object: it has no bytes.
            if extra and error.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""
            raise

    def size(self, uri: str) -> int:
        bucket, key = self.split(uri)
        return int(self.client.head_object(Bucket=bucket, Key=key)["ContentLength"])

    def write_text(self, uri: str, text: str) -> None:
        self.write_bytes(uri, text.encode("utf-8"))

    def write_bytes(self, uri: str, data: bytes) -> None:
        bucket, key = self.split(uri)  # a single PUT is atomic in S3
        self.client.put_object(Bucket=bucket, Key=key, Body=data)

    def delete(self, uri: str) -> None:
        bucket, key = self.split(uri)
        delete_keys(self.client, bucket, sorted(set(self._keys(uri)) | {key} - {""}))

    def replace(self, source: str, target: str) -> None:
        src_bucket, src_prefix = self.split(source)
        dst_bucket, dst_prefix = self.split(target)
        src_prefix, dst_prefix = src_prefix.rstrip("/") + "/", dst_prefix.rstrip("/") + "/"
        new_keys = set()
        for key in self._keys(source):
            new_key = dst_prefix + key[len(src_prefix):]
            self.client.copy({"Bucket": src_bucket, "Key": key}, dst_bucket, new_key)
            new_keys.add(new_key)
        stale = [key for key in self._keys(target) if key not in new_keys]
        delete_keys(self.client, dst_bucket, stale)
        delete_keys(self.client, src_bucket, self._keys(source))


def storage_for(uri: str) -> Storage:
    return S3Storage() if uri.startswith("s3://") else LocalStorage()
