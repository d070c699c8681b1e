"""Generate ``docs/components.md``, the component reference, from the registries' docstrings.

    python docs/make_reference.py            # rewrite docs/components.md
    python docs/make_reference.py --check    # exit 1 if docs/components.md is stale

For every registered component, grouped by kind: the first paragraph of its docstring, the rest
of its description (formula blocks become code blocks), its references, and a table of its
parameters with their defaults and the flag that sets each one (from
:func:`utilities.flags.signature_flags`, the same function ``parameters.py`` uses). Losses also
show ``takes`` / ``default_miner``, miners their ``output``, metrics their evidence. The page is
generated, so it cannot drift from the code: ``tests/test_docs_reference.py`` regenerates it in
memory and fails when the file differs.
"""
from __future__ import annotations

import argparse
import inspect
import os
import re
import sys
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUTPUT = os.path.join(HERE, "components.md")

SECTION_RE = re.compile(r"^[ \t]*(\w[\w ]*)\n[ \t]*-{3,}[ \t]*$", re.MULTILINE)


# ---- docstring -> markdown -------------------------------------------------------------------
def _inline(text: str) -> str:
    """RST inline markup to markdown: ``x`` and :role:`x` become `x`; ``<`` outside code is escaped."""
    text = re.sub(r":\w+:`(~?)([^`]+)`",
                  lambda m: "`" + (m.group(2).split(".")[-1] if m.group(1) else m.group(2)) + "`", text)
    text = text.replace("``", "`")
    parts = text.split("`")
    for i in range(0, len(parts), 2):          # outside code spans
        parts[i] = parts[i].replace("<", "&lt;")
    return "`".join(parts)


def _blocks(text: str) -> list[str]:
    """Markdown for a docstring body: paragraphs kept, ``::`` literal blocks fenced."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::"):
            head = line.rstrip()[:-1]
            if head.strip() != ":":
                out.append(_inline(head.rstrip(":") + ":" if head.rstrip().endswith(":") else head))
            i += 1
            block: list[str] = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
                block.append(lines[i])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            while block and not block[0].strip():
                block.pop(0)
            indent = min(len(b) - len(b.lstrip()) for b in block if b.strip()) if block else 0
            out += ["", "```text", *[b[indent:] for b in block], "```", ""]
            continue
        out.append(_inline(line))
        i += 1
    return out


def _cell(text: str) -> str:
    """A table cell: inline markup, and every ``|`` escaped (also inside code spans)."""
    return _inline(text).replace("|", "\\|")


def split_docstring(obj: Any) -> tuple[str, str, dict[str, str]]:
    """(first paragraph, rest of the description, {section title: body}) of ``obj``'s docstring."""
    doc = inspect.getdoc(obj) or ""
    matches = list(SECTION_RE.finditer(doc))
    body = doc[:matches[0].start()] if matches else doc
    sections = {}
    for m, nxt in zip(matches, matches[1:] + [None]):
        sections[m.group(1)] = doc[m.end():nxt.start() if nxt else len(doc)].strip("\n")
    paragraphs = body.strip().split("\n\n", 1)
    first = " ".join(line.strip() for line in paragraphs[0].splitlines())
    return first, paragraphs[1].strip() if len(paragraphs) > 1 else "", sections


def _value(v: Any) -> str:
    if isinstance(v, str):
        return f"`'{v}'`" if v else "`''`"
    return f"`{v!r}`"


# ---- one component ---------------------------------------------------------------------------
def component(name: str, obj: Any, template: str | None, facts: list[tuple[str, str]],
              flag_of: Callable[[str], str | None] = lambda param: None) -> list[str]:
    """Markdown for one registry entry."""
    from utilities.flags import _param_docs, signature_flags
    first, rest, sections = split_docstring(obj)
    out = [f"### `{name}`", ""]
    where = f"`{obj.__module__}.{obj.__qualname__}`"
    out += [_inline(first) or "(no docstring)", "", f"*{where}*" + "".join(
        f" · {label}: {value}" for label, value in facts), ""]
    if rest:
        out += _blocks(rest) + [""]
    for title in ("Notes", "References"):
        if title in sections:
            out += [f"**{title}.**", "", *_blocks(sections[title]), ""]
    if inspect.isclass(obj) and template is not None:
        docs: dict[str, str] = {}
        for klass in reversed(obj.__mro__):      # a subclass's own description wins
            docs.update(_param_docs(klass))
        rows = [(f"`--{s.name}`", s.param, _value(s.default), docs.get(s.param, "")) for s in
                signature_flags(obj, template)]
        actions = _parser_actions()
        wired = [p for p in getattr(obj, "wired_params", ()) if flag_of(p)]
        rows += [(f"`--{flag_of(p)}`", p, _value(actions[flag_of(p)].default), docs.get(p, "")) for p in wired]
        rows = [(flag, param, default, text or _help(actions, flag.strip("`-")))
                for flag, param, default, text in rows]
        if rows:
            out += ["| flag | parameter | default | meaning |", "|---|---|---|---|"]
            out += [f"| {flag} | `{param}` | {default} | {_cell(text)} |" for flag, param, default, text in rows]
            out.append("")
    return out


def _parser_actions() -> dict[str, Any]:
    """``parameters.py``'s argparse actions by flag name (built-in defaults, help texts)."""
    global _ACTIONS
    if _ACTIONS is None:
        import parameters
        _ACTIONS = {a.dest: a for a in parameters.build_parser()._actions}
    return _ACTIONS


_ACTIONS: dict[str, Any] | None = None


def _help(actions: dict[str, Any], flag: str) -> str:
    """The flag's ``--help`` text, unless it is only a pointer to the class."""
    text = getattr(actions.get(flag), "help", None) or ""
    return "" if text.startswith("See ") else text.rstrip(".")


def _tuple(values: Any) -> str:
    return ", ".join(f"`{v}`" for v in values) if values else "none"


# ---- kinds -----------------------------------------------------------------------------------
def kinds() -> list[tuple[str, str, list[list[str]]]]:
    """(title, introduction, [markdown of each entry]) for every component kind."""
    sys.path.insert(0, ROOT)
    import architectures
    import batch_mining
    import criteria
    import datasampler
    import datasets
    import distances
    import metrics
    from criteria.reducers import REDUCERS, FLAG_TEMPLATE as REDUCER_TEMPLATE
    from criteria.regularizers import (EMBEDDING_FLAG_TEMPLATE, EMBEDDING_REGULARIZERS,
                                       WEIGHT_FLAG_TEMPLATE, WEIGHT_REGULARIZERS)

    def per_name(template: str, name: str) -> str:
        return template.replace("{name}", name)

    losses = []
    for e in criteria.LOSSES.entries():
        cls = e.obj
        facts = [("takes", _tuple(cls.takes)), ("default miner", f"`{cls.default_miner}`" if cls.default_miner else "none"),
                 ("default distance", f"`{getattr(cls, 'default_distance', None)}`"),
                 ("distances", _tuple(getattr(cls, "allowed_distances", None) or ("any",))),
                 ("reducer", f"`{getattr(cls, 'default_reducer', None)}`"),
                 ("terms", _tuple(getattr(cls, "term_names", ())))]
        losses.append(component(e.name, cls, per_name(criteria.FLAG_TEMPLATE, e.name), facts))
    miners = []
    for e in batch_mining.MINERS.entries():
        cls = e.obj
        facts = [("output", f"`{cls.output}`"),
                 ("distances", _tuple(getattr(cls, "allowed_distances", None) or ("any",))),
                 ("follows the loss's", _tuple(cls.follows_loss) if cls.follows_loss else "nothing")]
        miners.append(component(e.name, cls, per_name(batch_mining.FLAG_TEMPLATE, e.name), facts))
    dist = [component(e.name, e.obj, distances.FLAG_TEMPLATE,
                      [("similarity", "yes" if e.obj.is_similarity else "no")])
            for e in distances.DISTANCES.entries()]
    reducers = [component(e.name, e.obj, REDUCER_TEMPLATE, []) for e in REDUCERS.entries()]
    emb_regs = [component(e.name, e.obj, EMBEDDING_FLAG_TEMPLATE, []) for e in EMBEDDING_REGULARIZERS.entries()]
    w_regs = [component(e.name, e.obj, WEIGHT_FLAG_TEMPLATE, []) for e in WEIGHT_REGULARIZERS.entries()]
    old_flags = {param: _flag_in(fn) for param, fn in datasampler.FLAG_KWARGS.items()}
    samplers = [component(e.name, e.obj, per_name(datasampler.FLAG_TEMPLATE, e.name),
                          [("needs stored embeddings", "yes" if getattr(e.obj, "requires_storage", False) else "no")],
                          flag_of=old_flags.get)
                for e in datasampler.SAMPLERS.entries()]
    archs = [component(e.name, e.obj, per_name(architectures.FLAG_TEMPLATE, e.name), [])
             for e in architectures.ARCHITECTURES.entries()]
    data = []
    for e in datasets.DATASETS.entries():
        cls = e.obj
        facts = [("needs `--source`", "yes" if cls.needs_source else "no")]
        if getattr(cls, "layout", None):
            facts.append(("layout", f"`{cls.layout}`"))
        if cls.preset:
            facts.append(("preset", ", ".join(f"`--{k} {v}`" for k, v in sorted(cls.preset.items()))))
        data.append(component(e.name, cls, per_name(datasets.FLAG_TEMPLATE, e.name), facts))
    mets = []
    for e in metrics.METRICS.entries():
        meta = e.meta
        arg = meta.get("arg")
        shown = f"{e.name}@k" if arg == "k" else f"{e.name}@int" if arg == "int" else (
            " / ".join(f"{e.name}@{c}" for c in arg) if isinstance(arg, tuple) else e.name)
        facts = [("names", f"`{shown}`"), ("evidence", f"`{meta['evidence']}`")]
        if "space" in meta:
            facts.append(("space", f"`{meta['space']}`"))
        if meta.get("lower_is_better"):
            lower = meta["lower_is_better"]
            facts.append(("lower is better", "yes" if lower is True else _tuple(lower)))
        mets.append(component(e.name, e.obj, None, facts))
    return [
        ("Losses", "`--loss NAME` (sums: `--loss a+b --loss_weights 1,0.5`). *takes*: the tuple kinds the "
         "loss accepts from a miner; *default miner*: the one that runs when `--batch_mining` is not given.",
         losses),
        ("Miners", "`--batch_mining NAME` (`none`: no miner). *output*: the tuple kind it yields.", miners),
        ("Distances", "`--loss_distance NAME`, `--miner_distance_fn NAME`.", dist),
        ("Reducers", "`--loss_reducer NAME` or `term:NAME,...`.", reducers),
        ("Embedding regularizers", "`--embedding_regularizer NAME --embedding_reg_weight W`.", emb_regs),
        ("Weight regularizers", "`--weight_regularizer NAME --weight_reg_weight W`.", w_regs),
        ("Samplers", "`--data_sampler NAME`.", samplers),
        ("Architectures", "`--arch NAME[_frozen][_normalize][_double]`.", archs),
        ("Datasets", "`--dataset NAME`.", data),
        ("Metrics", "`--evaluation_metrics NAME ...`, `--storage_metrics NAME ...`.", mets),
    ]


def _flag_in(fn: Callable[[Any], Any]) -> str | None:
    """The flag a ``FLAG_KWARGS`` lambda reads (``opt.data_batchmatch_bigbs`` -> its name)."""
    match = re.search(r"opt\.(\w+)", inspect.getsource(fn).split(":", 1)[1])
    return match.group(1) if match else None


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")


def render() -> str:
    """The whole of ``docs/components.md``."""
    groups = kinds()
    out = ["# Component reference", "",
           "<!-- Generated by `python docs/make_reference.py` from the docstrings; do not edit by hand. -->", "",
           "Every registered component, grouped by kind, as `python main.py --list` shows them. Each entry: "
           "the first paragraph of its docstring, its formula and paper, and its parameters with their "
           "defaults and flags. Regenerate with `python docs/make_reference.py` after changing a "
           "component; `tests/test_docs_reference.py` fails while this page is stale.", ""]
    out += [" · ".join(f"[{title}](#{_anchor(title)}) ({len(entries)})" for title, _, entries in groups), ""]
    for title, intro, entries in groups:
        out += [f"## {title}", "", intro, ""]
        for entry in entries:
            out += entry
    text = "\n".join(out)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/components.md is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        with open(OUTPUT, encoding="utf-8") as fh:
            stale = fh.read() != text
        print("docs/components.md is stale: run python docs/make_reference.py" if stale else "up to date")
        return int(stale)
    with open(OUTPUT, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"wrote {os.path.relpath(OUTPUT, ROOT)} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
