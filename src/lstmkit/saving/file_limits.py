"""Bounded reading: what a damaged or hostile model file may cost before it is refused.

Why: a file chooses none of lstmkit's memory or time. Every loader reads through these checks, so a
3 MB archive that inflates to gigabytes, a config nested 100,000 levels deep or an HDF5 dataset that
declares a terabyte of zeros is one ``InputError`` naming the file, after at most a few hundred MB and
a few seconds. The limits (``LIMITS``; module-level so a program with truly larger files may raise them):

- zip archives: at most ``max_members`` entries (lstmkit and Keras write 3 to 5); each entry at most
  ``max_entry_bytes`` uncompressed and, above ``ratio_floor_bytes``, at most ``max_ratio`` times its
  compressed size (weights barely compress, JSON about 10x; zip bombs reach thousands); read in
  chunks, never past the size its header declares (the CRC check at the end catches a lie).
- JSON (configs, metadata, ``model_config`` attributes, forecaster and stream files): at most
  ``max_json_bytes`` and ``max_json_depth`` levels of nesting (Keras configs nest about 15).
- HDF5 weights: a dataset must store the bytes its shape declares (or ``max_ratio`` compressed), and
  is read only after its shape matched the weight it fills.
- Config sizes (``units``, ``filters``, ``input_dim``...): the weight elements the file really holds
  are the budget each rebuilt weight is charged against before allocation (``ops/safe_mode.py``).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import _validation

if TYPE_CHECKING:  # h5py is imported where used: ``import lstmkit`` stays light
    import h5py


@dataclass
class Limits:
    max_members: int = 64
    max_entry_bytes: int = 16 * 2**30
    max_ratio: int = 200
    ratio_floor_bytes: int = 2**20
    max_json_bytes: int = 64 * 2**20
    max_json_depth: int = 100


LIMITS = Limits()
_CHUNK = 2**20


def _error(source: str, what: str, expected: str, received: str, fix: str | None = None) -> ValueError:
    return _validation.value_error(f"load ('{source}')", what, expected, received,
                                   fix or "The file is damaged or was not written by lstmkit or Keras.")


def check_archive(archive: zipfile.ZipFile, source: str) -> None:
    """Refuse an archive with more members than any model file has."""
    count = len(archive.infolist())
    if count > LIMITS.max_members:
        raise _error(source, "the archive", f"at most {LIMITS.max_members} members", f"{count:,} members")


def read_member(archive: zipfile.ZipFile, name: str, source: str) -> bytes:
    """One member's bytes, after checking its declared size and compression ratio; streamed so that
    no more than the declared size is ever inflated."""
    info = archive.getinfo(name)
    size, packed = info.file_size, max(info.compress_size, 1)
    if size > LIMITS.max_entry_bytes:
        raise _error(source, f"the member {name}", f"at most {LIMITS.max_entry_bytes:,} bytes",
                     f"a member declaring {size:,} bytes")
    if size > LIMITS.ratio_floor_bytes and size > LIMITS.max_ratio * packed:
        raise _error(source, f"the member {name}", f"at most {LIMITS.max_ratio}x compression",
                     f"{packed:,} bytes that inflate to {size:,} ({size // packed:,}x, a zip bomb's ratio)")
    parts, total = [], 0
    try:
        with archive.open(info) as handle:
            while True:
                chunk = handle.read(min(_CHUNK, size - total + 1))
                if not chunk:
                    break
                total += len(chunk)
                if total > size:
                    raise _error(source, f"the member {name}", f"the {size:,} bytes its header declares",
                                 "more data")
                parts.append(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as error:
        if isinstance(error, _validation.InputError):
            raise
        raise _error(source, f"the member {name}", "readable data", f"a damaged entry ({error})",
                     "The file is truncated or corrupt; copy or save it again.") from None
    return b"".join(parts)


def parse_json(data: bytes | str, source: str, what: str) -> Any:
    """JSON text of bounded size and nesting, as Python objects; one clear error otherwise."""
    if len(data) > LIMITS.max_json_bytes:
        raise _error(source, what, f"JSON of at most {LIMITS.max_json_bytes:,} bytes", f"{len(data):,} bytes")
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    try:
        obj = json.loads(data)
    except RecursionError:
        obj = None
        depth = LIMITS.max_json_depth + 1
    except (json.JSONDecodeError, ValueError) as error:
        raise _error(source, what, "JSON", f"text that is not JSON ({error})") from None
    else:
        depth = json_depth(obj, LIMITS.max_json_depth + 1)
    if depth > LIMITS.max_json_depth:
        raise _error(source, what, f"JSON nested at most {LIMITS.max_json_depth} levels deep",
                     f"deeper nesting (over {LIMITS.max_json_depth} levels)")
    return obj


def json_depth(obj: Any, stop: int) -> int:
    """Nesting depth of parsed JSON (iterative: safe on any depth), counting up to ``stop``."""
    deepest, pending = 0, [(obj, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if deepest >= stop:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def checked_dataset(item: h5py.Dataset, source: str, where: str) -> None:
    """Refuse a dataset whose declared shape is not backed by the bytes it stores."""
    declared = int(item.size) * item.dtype.itemsize
    stored = int(item.id.get_storage_size())
    if declared > LIMITS.ratio_floor_bytes and declared > LIMITS.max_ratio * max(stored, 1):
        raise _error(source, f"the dataset {where}", f"the bytes its shape {tuple(item.shape)} declares",
                     f"{stored:,} stored bytes for {declared:,} declared")


def h5_weight_elements(group: h5py.Group, source: str) -> int:
    """How many numbers the datasets under ``group`` really hold (each checked as above)."""
    total = 0
    import h5py

    found: list[tuple[str, h5py.Dataset]] = []
    group.visititems(lambda name, item: found.append((name, item)) if isinstance(item, h5py.Dataset) else None)
    if len(found) > 100_000:
        raise _error(source, "the weights", "at most 100,000 datasets", f"{len(found):,}")
    for name, item in found:
        checked_dataset(item, source, name)
        total += int(item.size)
    return total
