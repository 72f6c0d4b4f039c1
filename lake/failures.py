"""What a user can cause that is not a UserError, said in one line: the CLI's edge maps each
failure here once (`lake/cli.py`), and lets anything else through as the bug it is.

- a missing AWS region or credentials, or credentials AWS refuses;
- a destination that cannot be written (a file where a folder should be, no permission, a full
  or read-only disk), whether Python or Spark's JVM met it.
"""

from __future__ import annotations

import errno
import re
from pathlib import Path

INTERRUPTED = 130  # what a shell reports for a command ended by Ctrl-C (128 + SIGINT)

_OS_REASONS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a file stands where a folder should be",
    errno.EISDIR: "it is a folder",
    errno.EEXIST: "it exists and is not a folder",  # Path.mkdir(exist_ok=True) on a file
    errno.ENOSPC: "no space left on the device",
    errno.EROFS: "the file system is read-only",
    errno.ENOENT: "no such file or folder",
}
_AWS_REFUSED = ("ExpiredToken", "ExpiredTokenException", "InvalidAccessKeyId",
                "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException",
                "RequestExpired")
_JAVA_WRITE = re.compile(r"(Mkdirs failed to create|Permission denied|Not a directory|"
                         r"No space left on device|Read-only file system|"
                         r"Parent path is not a directory)(?P<rest>[^\n]*)")
_JAVA_PATH = re.compile(r"(?:file:)?/[^\s'\"()]+")
_JAVA_REASONS = {"Mkdirs failed to create": "cannot create the folder",
                 "Permission denied": "permission denied",
                 "Not a directory": "a file stands where a folder should be",
                 "No space left on device": "no space left on the device",
                 "Read-only file system": "the file system is read-only"}


def one_line(error: BaseException) -> str | None:
    """The line that says what to fix, or None for an error no user causes (a bug)."""
    return (_aws(error) or _os(error) or _spark(error))


def _aws(error: BaseException) -> str | None:
    try:
        from botocore import exceptions
    except ImportError:
        return None
    if isinstance(error, exceptions.NoRegionError):
        return ("no AWS region: set AWS_DEFAULT_REGION (the lake's is sa-east-1) or a region in "
                "your AWS profile")
    if isinstance(error, exceptions.NoCredentialsError | exceptions.PartialCredentialsError):
        return ("no AWS credentials: sign in (`aws sso login --profile <profile>`) and set "
                "AWS_PROFILE, or give credentials the way boto3 reads them")
    if isinstance(error, exceptions.TokenRetrievalError | exceptions.SSOTokenLoadError
                  | exceptions.UnauthorizedSSOTokenError):
        return f"AWS sign-in expired or missing ({error}): sign in again (`aws sso login`)"
    if isinstance(error, exceptions.ClientError):
        details = error.response.get("Error", {})
        if details.get("Code") in _AWS_REFUSED:
            return (f"AWS refused the credentials ({details.get('Code')}: "
                    f"{details.get('Message', '')}); sign in again (`aws sso login`)")
    if isinstance(error, exceptions.EndpointConnectionError):
        return f"cannot reach AWS ({error}); check the network and the region"
    return None


def _os(error: BaseException) -> str | None:
    if not isinstance(error, OSError) or error.errno not in _OS_REASONS:
        return None
    if error.filename is None:
        return f"cannot write: {_OS_REASONS[error.errno]}"
    blocker = _file_in_the_way(str(error.filename)) if error.errno == errno.ENOTDIR else None
    if blocker is not None:
        return f"cannot use {error.filename}: {blocker} is a file, not a folder"
    return f"cannot use {error.filename}: {_OS_REASONS[error.errno]}"


def _file_in_the_way(path: str) -> str | None:
    """The nearest existing ancestor of `path` when it is a file (what makes ENOTDIR)."""
    for parent in Path(path).parents:
        if parent.exists():
            return None if parent.is_dir() else str(parent)
    return None


def _spark(error: BaseException) -> str | None:
    """A write Spark's JVM could not make (py4j hands the Java exception over as text)."""
    if type(error).__module__.split(".")[0] not in ("py4j", "pyspark"):
        return None
    found = _JAVA_WRITE.search(str(error))
    if found is None:
        return None
    named = _JAVA_PATH.search(found.group("rest"))
    path = named.group(0).removeprefix("file:") if named else "the zone"
    if found.group(1) == "Parent path is not a directory":
        return f"Spark cannot write under {path}: {path} is a file, not a folder"
    return f"Spark cannot write {path}: {_JAVA_REASONS[found.group(1)]}"
