"""py3langid's language model, cut to a profile's languages and mapped from a file.

The model's tokenizer is a 40 MB table. Loaded the usual way, every worker holds all of it
(and the decompression leaves more behind). Instead the cut model is written once per
machine to a file in the temporary folder, by a child process (so that no process that
serves requests ever holds the full model), and each process maps that file read-only:
the operating system shares its pages between processes, and only the pages a text
actually visits are ever read in (a few for an SMS).
"""

from __future__ import annotations

import copy
import hashlib
import importlib.metadata
import json
import logging
import mmap
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ivr.content.machine_cache import private_folder, replace_atomically, run_in_child

log = logging.getLogger(__name__)

ALIGN = 16


def cache_path(languages: Sequence[str], folder: Path | None = None) -> Path:
    """Where the cut model for these languages lives (one per py3langid version)."""
    version = importlib.metadata.version("py3langid")
    key = hashlib.sha256(f"{version}:{','.join(languages)}".encode()).hexdigest()[:16]
    return (folder or private_folder()) / f"ivr-langid-{key}.bin"


def write_cut_model(languages: str, path: str) -> None:
    """The child process (model_file): load the full model, keep these languages (comma-
    separated), write header and arrays to `path`."""
    import numpy as np

    full = in_memory_identifier(languages.split(","))
    parts: dict[str, Any] = {
        "nb_ptc": np.ascontiguousarray(full.nb_ptc, dtype=np.float16),
        "nb_pc": np.ascontiguousarray(full.nb_pc, dtype=np.float32),
        "tk_nextmove": np.asarray(full.tk_nextmove).astype(np.uint32),
        "tk_row": np.asarray(full.tk_row, dtype=np.int64),
        "tk_output": np.asarray(full.tk_output, dtype=np.int32),
    }
    layout, offset = {}, 0
    for name, array in parts.items():
        layout[name] = {"offset": offset, "dtype": array.dtype.str, "shape": array.shape}
        offset += -(-array.nbytes // ALIGN) * ALIGN
    header = json.dumps({"classes": list(full.nb_classes), "layout": layout}).encode()
    start = -(-(len(header) + 8) // ALIGN) * ALIGN
    data = bytearray(start + offset)  # in the child only: about 43 MB, then it exits
    data[:8 + len(header)] = len(header).to_bytes(8, "little") + header
    for name, array in parts.items():
        at = start + layout[name]["offset"]
        data[at:at + array.nbytes] = array.tobytes()
    replace_atomically(Path(path), data)  # another process may write it too: same bytes


def identifier(languages: Sequence[str], folder: Path | None = None) -> Any:
    """The mapped identifier; where no file can be written or mapped, one held in memory."""
    try:
        return mapped_identifier(languages, folder)
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        log.warning("SMS language model: not mapped from a file (%s); held in memory",
                    type(exc).__name__)
        return in_memory_identifier(languages)


def in_memory_identifier(languages: Sequence[str]) -> Any:
    """py3langid's usual way: the whole model loaded, then cut to these languages."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    full = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    full.set_languages([code for code in languages if code in full.nb_classes])
    return LanguageIdentifier(full.nb_ptc, full.nb_pc, full.nb_classes, full.tk_nextmove,
                              full.tk_output, norm_probs=True, tk_row=full.tk_row)


def model_file(languages: Sequence[str], folder: Path | None = None) -> Path:
    """The cut model's file, written first by a child process if it is not there yet (the
    child holds numpy and the full model; this process holds neither)."""
    path = cache_path(languages, folder)
    if not path.exists():
        run_in_child(__name__, "write_cut_model", ",".join(languages), str(path))
    return path


def restricted(whole: Any, languages: Sequence[str]) -> Any:
    """An identifier that answers only in some of `whole`'s languages, through py3langid's
    own set_languages on a shallow copy: a few columns of the class tables are copied, the
    tokenizer and its row offsets (the bulk of the model, 5 MB as a list) stay shared."""
    some = copy.copy(whole)
    some.set_languages([code for code in languages if code in whole.nb_classes])
    return some


def mapped_identifier(languages: Sequence[str], folder: Path | None = None) -> Any:
    """An identifier whose tables are views of the mapped file (written first if needed)."""
    import numpy as np
    from py3langid.langid import LanguageIdentifier

    path = model_file(languages, folder)
    with path.open("rb") as file:
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    if hasattr(mmap, "MADV_RANDOM"):
        # A text visits a few scattered cells. Without this, the first read brings in the
        # pages around it by readahead: 32 MB of the 43 MB file, in every process's RSS.
        mapped.madvise(mmap.MADV_RANDOM)
    size = int.from_bytes(mapped[:8], "little")
    header = json.loads(mapped[8:8 + size])
    start = -(-(size + 8) // ALIGN) * ALIGN

    def part(name: str) -> Any:
        spec = header["layout"][name]
        dtype = np.dtype(spec["dtype"])
        count = int(np.prod(spec["shape"]))
        return np.frombuffer(mapped, dtype=dtype, count=count,
                             offset=start + spec["offset"]).reshape(spec["shape"])

    # The tokenizer reads single cells in a Python loop: memoryviews give plain ints there
    # (and tk_row as one, not a list, spares 5 MB: py3langid makes its own list of it).
    nextmove = memoryview(part("tk_nextmove")).cast("B").cast("I")
    output = memoryview(part("tk_output")).cast("B").cast("i")
    row = memoryview(part("tk_row")).cast("B").cast("q")
    return LanguageIdentifier(part("nb_ptc"), part("nb_pc"), header["classes"], nextmove,
                              output, norm_probs=True, tk_row=row)
