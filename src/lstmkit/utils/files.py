"""``get_file``: Keras's dataset cache, without the network.

lstmkit never downloads. ``get_file`` looks where Keras would have saved the file
(``$KERAS_HOME`` or ``~/.keras``, then ``cache_subdir``) and returns that path when the file is there (checking
``file_hash`` when given, extracting archives with ``extract=True`` as Keras 3 names them). When it is not there,
the error names the URL and the exact path to put a hand-downloaded copy at. A ``file://`` origin (or a local
path) is copied into the cache, so a program can point at data it already has.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from .. import _validation


class DownloadUnavailable(FileNotFoundError):
    """``get_file`` needs a file that is not in the cache; lstmkit does not download."""


def cache_root(cache_dir: Any = None) -> Path:
    """Keras's cache folder: ``cache_dir``, else ``$KERAS_HOME``, else ``~/.keras``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()


def file_digest(path: Path, algorithm: str) -> str:
    hasher = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def _algorithm(hash_algorithm: str, file_hash: str) -> str:
    if hash_algorithm == "auto":
        return "sha256" if len(file_hash) == 64 else "md5"
    return _validation.choice("get_file", "hash_algorithm", hash_algorithm, ("auto", "sha256", "md5"))


def _local_source(origin: str) -> Path | None:
    parsed = urlparse(origin)
    if parsed.scheme == "file":
        return Path(url2pathname(parsed.path))
    if parsed.scheme in ("", ) and Path(origin).exists():
        return Path(origin)
    return None


def _targets(fname: str, datadir: Path, extract: bool, provided: bool) -> tuple[Path, Path | None]:
    """(where the file lives, where it is extracted) with Keras 3's names."""
    if not extract:
        return datadir / fname, None
    if provided and "." in fname:
        return datadir / fname, datadir / f"{fname[:fname.find('.')]}_extracted"
    return datadir / f"{fname}_archive", datadir / fname


def _extract(archive: Path, into: Path, archive_format: str) -> None:
    """Unpack a tar or zip archive; members may not leave ``into`` (tarfile's ``data`` filter, zip checks)."""
    into.mkdir(parents=True, exist_ok=True)
    if archive_format in ("auto", "tar") and tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tar:
            tar.extractall(into, filter="data")
        return
    if archive_format in ("auto", "zip") and zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            root = into.resolve()
            for member in zf.namelist():
                if not (into / member).resolve().is_relative_to(root):
                    raise _validation.value_error("get_file", "the archive", "members inside the folder",
                                                  f"the member {member!r} pointing outside it")
            zf.extractall(into)
        return
    raise _validation.value_error("get_file", "extract", f"a {archive_format} archive", f"{archive}",
                                  "Pass extract=False to get the file itself.")


def get_file(fname: str | None = None, origin: str | None = None, untar: bool = False,
             md5_hash: str | None = None, file_hash: str | None = None, cache_subdir: str = "datasets",
             hash_algorithm: str = "auto", extract: bool = False, archive_format: str = "auto",
             cache_dir: Any = None, force_download: bool = False) -> str:
    """The local path of ``origin``'s file in Keras's cache (``~/.keras/datasets/<fname>``), never downloading.

    Returns the file's path (the extraction folder with ``extract=True`` / ``untar=True``, as Keras 3).
    Raises ``DownloadUnavailable`` (a ``FileNotFoundError``) naming the URL and where to save it by hand.
    """
    if origin is None:
        raise _validation.value_error("get_file", "origin", "the URL of the file", "None")
    provided = fname is not None
    if not provided:
        fname = os.path.basename(urlparse(origin).path)
        if not fname:
            raise _validation.value_error("get_file", "fname", "a file name (the URL has none)", repr(origin))
    elif os.sep in fname or (os.altsep and os.altsep in fname):
        raise _validation.value_error("get_file", "fname", "a file name without folders", repr(fname),
                                      "Use cache_dir= to choose the folder.")
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    datadir = cache_root(cache_dir) / cache_subdir
    target, extraction = _targets(fname, datadir, bool(extract or untar), provided)
    source = _local_source(origin)
    if source is not None and (force_download or not target.exists()):
        if not source.is_file():
            raise DownloadUnavailable(f"get_file: the local origin {origin} is not a file.")
        datadir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=datadir, delete=False) as handle:
            partial = Path(handle.name)
        try:
            shutil.copyfile(source, partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    if not target.exists() or (force_download and source is None):
        raise DownloadUnavailable(
            f"get_file: lstmkit does not download files, and {origin} is not in the cache. Download it by hand "
            f"(e.g. in a browser or with curl) and save it as {target}"
            + (f" (or pass cache_dir= for another folder)" if cache_dir is None else "") + ", then run again.")
    if file_hash is not None:
        algorithm = _algorithm(hash_algorithm, file_hash)
        if file_digest(target, algorithm) != file_hash:
            raise _validation.value_error("get_file", "the cached file", f"{algorithm} {file_hash}",
                                          f"a different {algorithm} for {target}",
                                          f"The copy is incomplete or another version: download {origin} "
                                          "again by hand.")
    if extraction is not None:
        if not extraction.exists():
            _extract(target, extraction, "tar" if untar else archive_format)
        return str(extraction)
    return str(target)
