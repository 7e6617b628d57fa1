"""Models, files and pictures attached to trackio runs, and a saved model loaded back.

A model is saved in the safest format that fits it:

- a scikit-learn estimator: skops (``.skops``). Loading it runs no code from the file;
  types skops does not trust by default (a forest's ``Tree``) must be named by the
  reader, and the line printed after the search names them;
- a PyTorch ``nn.Module``: its ``state_dict()`` with ``torch.save`` (``.pt``), loaded with
  ``weights_only=True``; ``load_model(..., into=module)`` fills a module of the same class;
- anything else: pickle (``.pkl``). Loading a pickle runs whatever code it holds, so
  :func:`load_model` refuses it unless told ``trust_pickle=True``.

Everything here runs on the notebook's thread when the user asks for it (``tune.log_artifact``,
``tune.log_image``, the model saved after a search); the writer thread commits the files.
"""

from __future__ import annotations

import pickle
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError

from ipytune.tracking import _trackio
from ipytune.tracking.records import ArtifactFile, Media, staging_folder

MODEL_TYPE = "model"
FORMATS = ("skops", "torch-state-dict", "pickle", "file")
_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def artifact_name(base: str, run_id: str) -> str:
    """A name trackio accepts and the project has once: ``<base>-<8 hex of the run id>``."""
    return f"{_NAME.sub('-', base).strip('-.') or 'artifact'}-{run_id[:8]}"


# -- saving ---------------------------------------------------------------------------------------
def stage(value: Any, name: str | None = None) -> ArtifactFile:
    """A snapshot of ``value`` (an object, or a path to a file or folder) in a staging folder."""
    folder = staging_folder()
    if isinstance(value, (str, Path)):
        source = Path(value).expanduser()
        if not source.exists():
            shutil.rmtree(folder, ignore_errors=True)
            raise UsageError(f"tune.log_artifact({str(value)!r}): no such file or folder.")
        target = folder / source.name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
        metadata: dict[str, Any] = {"format": "file"}
        base, artifact_type = name or source.name, "folder" if source.is_dir() else "file"
    else:
        target, metadata = _serialise(value, folder)
        base, artifact_type = name or MODEL_TYPE, _kind(value)
    return ArtifactFile(path=target, name=base, type=artifact_type, metadata=metadata)


def _kind(value: Any) -> str:
    return MODEL_TYPE if is_estimator(value) or _is_module(value) else "object"


def _serialise(value: Any, folder: Path) -> tuple[Path, dict[str, Any]]:
    """Write ``value`` into ``folder`` in the safest format that fits; the file and how to read it."""
    cls = f"{type(value).__module__}.{type(value).__qualname__}"
    if _is_module(value):
        import torch

        path = folder / "model.pt"
        torch.save(value.state_dict(), path)
        return path, {"format": "torch-state-dict", "class": cls}
    if is_estimator(value):
        try:
            import skops.io

            path = folder / "model.skops"
            skops.io.dump(value, path)
            return path, {"format": "skops", "class": cls, "trusted": skops.io.get_untrusted_types(file=path)}
        except Exception:  # skops not installed, or a part it cannot write (a lambda): pickle, said as such
            pass
    path = folder / "model.pkl"
    with path.open("wb") as file:
        pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
    return path, {"format": "pickle", "class": cls}


def is_estimator(value: Any) -> bool:
    return hasattr(value, "fit") and hasattr(value, "get_params") and not isinstance(value, type)


def _is_module(value: Any) -> bool:
    torch = sys.modules.get("torch")  # a module exists only if torch was imported
    return torch is not None and isinstance(value, torch.nn.Module)


def is_model(value: Any) -> bool:
    """A fitted scikit-learn estimator or a PyTorch module: what is worth saving after a search."""
    if _is_module(value):
        return True
    if not is_estimator(value):
        return False
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(value)
    except (NotFittedError, TypeError):
        return False
    return True


def stage_image(image: Any, caption: str | None = None) -> Media:
    """A PNG snapshot of ``image``: a NumPy array (H×W grey, H×W×3 RGB, H×W×4; floats in [0, 1]),
    a PIL image, a matplotlib figure, or the path of a picture file."""
    folder = staging_folder()
    path = folder / "image.png"
    try:
        if isinstance(image, (str, Path)):
            source = Path(image).expanduser()
            if not source.is_file():
                raise UsageError(f"tune.log_image({str(image)!r}): no such file.")
            path = folder / source.name
            shutil.copy2(source, path)
        elif hasattr(image, "savefig"):  # a matplotlib figure
            image.savefig(path, format="png", bbox_inches="tight")
        else:
            _pil(image).save(path, format="png")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Media(path=path, caption=caption)


def _pil(image: Any) -> Any:
    import numpy as np
    from PIL import Image

    if isinstance(image, Image.Image):
        return image
    array = np.asarray(image) if hasattr(image, "__array__") or isinstance(image, list) else None
    if array is None or array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise UsageError(
            f"tune.log_image takes an array (H×W, H×W×3 or H×W×4), a PIL image, a matplotlib figure or a "
            f"file path; got {type(image).__name__}{f' of shape {array.shape}' if array is not None else ''}."
        )
    if array.dtype.kind == "f":
        array = np.clip(array, 0.0, 1.0) * 255
    array = np.asarray(array).astype(np.uint8)
    return Image.fromarray(array[:, :, 0] if array.ndim == 3 and array.shape[2] == 1 else array)


def confusion_image(matrix: Any, labels: Sequence[Any], title: str) -> Any:
    """A confusion matrix as a picture (PIL; matplotlib is not needed): counts in cells shaded by row share."""
    import numpy as np
    from PIL import Image, ImageDraw

    counts = np.asarray(matrix, dtype=float)
    n = len(labels)
    cell, left, top = 44, 70, 46
    width, height = left + n * cell + 10, top + n * cell + 34
    picture = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(picture)
    draw.text((8, 6), title, fill="black")
    draw.text((left, top - 16), "predicted →", fill="black")
    draw.text((4, top + n * cell + 8), "rows: true class", fill="black")
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    for i in range(n):
        draw.text((8, top + i * cell + cell // 2 - 6), str(labels[i])[:8], fill="black")
        draw.text((left + i * cell + 4, top - 30), str(labels[i])[:6], fill="black")
        for j in range(n):
            shade = int(255 - 200 * shares[i, j])
            box = (left + j * cell, top + i * cell, left + (j + 1) * cell - 1, top + (i + 1) * cell - 1)
            draw.rectangle(box, fill=(shade, shade, 255), outline="grey")
            draw.text(
                (box[0] + 6, box[1] + cell // 2 - 6), str(int(counts[i, j])), fill="black" if shade > 120 else "white"
            )
    return picture


# -- loading --------------------------------------------------------------------------------------
def load_model(
    project: str,
    run: str | None = None,
    *,
    into: Any = None,
    trusted: Sequence[str] = (),
    trust_pickle: bool = False,
) -> Any:
    """The model saved in trackio ``project``: the one of ``run`` (its name or id), else the newest.

    - skops: ``trusted`` names the types skops does not trust by default that you accept
      (the error, and the line printed after the search, say which);
    - a PyTorch state dict: returned as is, or loaded into ``into`` (a module of the same class);
    - a pickle: only with ``trust_pickle=True``, since loading one runs any code it holds.
    """
    folder = _trackio.trackio_dir()
    from ipytune.tracking.writer import writer

    writer.flush()
    name, version = _model_artifact(folder, project, run)
    download = Path(tempfile.mkdtemp(prefix="ipytune-load-"))
    try:
        record, files = _trackio.download_artifact(folder, project, name, version, download)
        metadata = record.get("metadata") or {}
        if metadata.get("format") not in FORMATS[:3]:  # a file: the caller wants a path that stays
            return _trackio.download_artifact(folder, project, name, version, None)[1]
        paths = sorted(p for p in files.rglob("*") if p.is_file())
        if not paths:
            raise UsageError(f"artifact {name} of project {project!r} holds no file.")
        return _read(paths[0], metadata["format"], name, into, list(trusted), trust_pickle)
    finally:
        shutil.rmtree(download, ignore_errors=True)


def _model_artifact(folder: Path, project: str, run: str | None) -> tuple[str, str]:
    """(artifact name, version) of the newest model of ``run`` (or of the project)."""
    if not isinstance(project, str) or not project:
        raise UsageError("load_model needs a trackio project name, e.g. ipytune.load_model('my-study').")
    if run is None:
        models = [a for a in _trackio.project_artifacts(folder, project) if a["type"] == MODEL_TYPE and a["versions"]]
        if not models:
            raise UsageError(f"project {project!r} has no saved model (in {folder}).")
        newest = max(models, key=lambda a: a["versions"][0]["created_at"])
        return newest["name"], f"v{newest['latest_version']}"
    from ipytune.tracking.runs import runs

    table = runs(project)
    match = table[(table["name"] == run) | (table["id"] == run)]
    if match.empty:
        raise UsageError(f"project {project!r} has no run {run!r}; ipytune.runs({project!r}) lists them.")
    row = match.iloc[-1]
    outputs = [o for o in _trackio.run_outputs(folder, project, row["id"], row["name"]) if o["type"] == MODEL_TYPE]
    if not outputs:
        raise UsageError(f"run {row['name']!r} of project {project!r} has no saved model.")
    return outputs[-1]["name"], f"v{outputs[-1]['version']}"


def _read(path: Path, fmt: str, name: str, into: Any, trusted: list[str], trust_pickle: bool) -> Any:
    if fmt == "skops":
        import skops.io

        unknown = [t for t in skops.io.get_untrusted_types(file=path) if t not in trusted]
        if unknown:
            raise UsageError(
                f"model {name} holds types skops does not trust by default: {unknown}. If you saved it (or trust "
                f"whoever did), load it with trusted={unknown!r}."
            )
        return skops.io.load(path, trusted=trusted or None)
    if fmt == "torch-state-dict":
        import torch

        state = torch.load(path, map_location="cpu", weights_only=True)
        if into is None:
            return state
        into.load_state_dict(state)
        return into
    if fmt == "pickle":
        if not trust_pickle:
            raise UsageError(
                f"model {name} is a pickle: loading it runs whatever code it holds. If you saved it (or trust "
                f"whoever did), load it with trust_pickle=True."
            )
        with path.open("rb") as file:
            return pickle.load(file)
    raise UsageError(f"model {name}: unknown format {fmt!r} (ipytune {', '.join(FORMATS)}).")


def load_line(project: str, run: str, metadata: dict[str, Any]) -> str:
    """The one line that loads a saved model back, as printed after a search."""
    extra = ""
    if metadata.get("format") == "skops" and metadata.get("trusted"):
        extra = f", trusted={metadata['trusted']!r}"
    elif metadata.get("format") == "pickle":
        extra = ", trust_pickle=True"
    elif metadata.get("format") == "torch-state-dict":
        extra = ", into=model"
    return f"ipytune.load_model({project!r}, {run!r}{extra})"
