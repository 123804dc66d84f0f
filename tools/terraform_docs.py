"""terraform/README.md's Inputs and Outputs sections, generated from variables.tf and outputs.tf.

    python -m tools.terraform_docs           # rewrite the sections
    python -m tools.terraform_docs --check   # exit 1 if they differ from the .tf files

Each variable's name, type, default and description are read from ``variables.tf`` (the
banner comments there become the subsections), each output's name and description from
``outputs.tf``: a default is stated once, in the variable. Everything from the
``## Inputs`` heading to the end of the README is generated; tests/test_terraform.py
checks that it is up to date.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TERRAFORM_DIR = ROOT / "terraform"
README = TERRAFORM_DIR / "README.md"
HEADING = "## Inputs"

_BLOCK = re.compile(r'^(variable|output) "(\w+)" \{\n(.*?)^\}', re.M | re.S)
_BANNER = re.compile(r"^#{20,}\n# (.+)\n#{20,}$", re.M)
_STRING = r'"((?:[^"\\]|\\.)*)"'


@dataclass(frozen=True)
class Entry:
    kind: str
    name: str
    description: str
    type: str = ""
    default: str = ""
    section: str = ""


def _attribute(body: str, name: str) -> str:
    """A top-level, one-line attribute of a block (terraform fmt puts it at two spaces)."""
    match = re.search(rf"^  {name}\s+= (.+)$", body, re.M)
    if not match:
        return ""
    value = match[1].strip()
    if value.count("{") != value.count("}") or value.count("[") != value.count("]"):
        raise ValueError(f"{name} = {value!r} spans several lines: keep it on one")
    return value


def _unquote(value: str) -> str:
    match = re.fullmatch(_STRING, value)
    if not match:
        raise ValueError(f"not a plain string: {value!r}")
    return match[1].replace('\\"', '"').replace("\\\\", "\\")


def read_blocks(path: Path) -> list[Entry]:
    """The variable or output blocks of ``path``, in order, each under the banner above it."""
    text = path.read_text()
    banners = [(m.start(), m[1].strip()) for m in _BANNER.finditer(text)]
    entries = []
    for match in _BLOCK.finditer(text):
        kind, name, body = match[1], match[2], match[3]
        section = next((title for start, title in reversed(banners) if start < match.start()), "")
        entries.append(Entry(
            kind=kind,
            name=name,
            description=_unquote(_attribute(body, "description")),
            type=_attribute(body, "type") if kind == "variable" else "",
            default=_attribute(body, "default") if kind == "variable" else "",
            section=section,
        ))
    return entries


def _cell(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def render(variables: list[Entry], outputs: list[Entry]) -> str:
    """The README's text from the Inputs heading to its end."""
    lines = [HEADING]
    sections: dict[str, list[Entry]] = {}
    for entry in variables:
        sections.setdefault(entry.section, []).append(entry)
    for section, entries in sections.items():
        lines += ["", f"### {section}", "", "| name | type | default | description |", "|---|---|---|---|"]
        lines += [
            f"| `{e.name}` | `{e.type}` | {f'`{e.default}`' if e.default else '(required)'} | {_cell(e.description)} |"
            for e in entries
        ]
    lines += ["", "## Outputs", "", "| name | description |", "|---|---|"]
    lines += [f"| `{e.name}` | {_cell(e.description)} |" for e in outputs]
    return "\n".join(lines) + "\n"


def generated_readme(readme: str | None = None) -> str:
    """terraform/README.md with its Inputs and Outputs sections generated afresh."""
    readme = README.read_text() if readme is None else readme
    start = readme.index(f"\n{HEADING}\n") + 1
    variables = read_blocks(TERRAFORM_DIR / "variables.tf")
    outputs = read_blocks(TERRAFORM_DIR / "outputs.tf")
    return readme[:start] + render(variables, outputs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the README is not up to date")
    args = parser.parse_args(argv)
    current, wanted = README.read_text(), generated_readme()
    if current == wanted:
        return 0
    if args.check:
        print("terraform/README.md's inputs or outputs differ from the .tf files: run python -m tools.terraform_docs",
              file=sys.stderr)
        return 1
    README.write_text(wanted)
    print("terraform/README.md: inputs and outputs regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
