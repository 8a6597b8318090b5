"""Compile nstlib's gettext catalogues: each ``nstlib/locale/*/LC_MESSAGES/*.po`` into the ``.mo`` beside it.

    python tools/msgfmt.py           # write every .mo
    python tools/msgfmt.py --check   # exit 1 when a committed .mo differs from its .po

The ``.po`` is the source of truth and the ``.mo`` (what gettext reads) is committed as package data, so an
installed nstlib needs no compiler. This follows the algorithm of CPython's own ``Tools/i18n/msgfmt.py``:
fuzzy entries are left out, a plural entry's key is ``msgid NUL msgid_plural`` and its value its forms joined
by NUL, a context is ``msgctxt EOT msgid``, keys are sorted and no hash table is written. Unlike it, the
file is always little-endian, so the committed bytes are the same on every machine.
"""

from __future__ import annotations

import argparse
import ast
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "nstlib" / "locale"
MAGIC = 0x950412DE


class PoError(ValueError):
    """A .po file this compiler cannot read; the message names the line."""


def parse_po(text: str, name: str = "<po>") -> dict[bytes, bytes]:
    """The messages of a .po file's text, as the .mo stores them: key bytes -> value bytes (UTF-8)."""
    messages: dict[bytes, bytes] = {}
    entry: dict[str, str] = {}
    fuzzy = False
    section = None

    def finish():
        nonlocal entry, fuzzy
        if "msgid" in entry and not fuzzy:
            if "msgid_plural" in entry:
                key = entry["msgid"] + "\0" + entry["msgid_plural"]
                forms = sorted((k for k in entry if k.startswith("msgstr[")), key=lambda k: int(k[7:-1]))
                value = "\0".join(entry[k] for k in forms)
            else:
                key, value = entry["msgid"], entry.get("msgstr", "")
            if "msgctxt" in entry:
                key = entry["msgctxt"] + "\x04" + key
            if value.replace("\0", ""):  # an untranslated entry is left out: gettext falls back to the msgid
                messages[key.encode("utf-8")] = value.encode("utf-8")
        entry, fuzzy = {}, False

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#"):
            if section is not None and section.startswith("msgstr"):  # a comment after a msgstr: a new entry
                finish()
                section = None
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            continue
        if not line:
            continue
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and section is not None and section.startswith("msgstr"):
            finish()
        if keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr") or keyword.startswith("msgstr["):
            section, line = keyword, rest.strip()
            entry[section] = ""
        elif not line.startswith('"') or section is None:
            raise PoError(f"{name}:{number}: cannot read {raw!r}")
        try:
            entry[section] += ast.literal_eval(line)
        except (SyntaxError, ValueError):
            raise PoError(f"{name}:{number}: not a quoted string: {raw!r}") from None
    finish()
    return messages


def compile_messages(messages: dict[bytes, bytes]) -> bytes:
    """A .mo file's bytes for ``messages`` (key -> value), keys sorted, without a hash table."""
    keys = sorted(messages)
    ids = strs = b""
    offsets = []
    for key in keys:
        offsets.append((len(ids), len(key), len(strs), len(messages[key])))
        ids += key + b"\0"
        strs += messages[key] + b"\0"
    keystart = 7 * 4 + 16 * len(keys)
    valuestart = keystart + len(ids)
    key_table, value_table = [], []
    for key_offset, key_length, value_offset, value_length in offsets:
        key_table += [key_length, key_offset + keystart]
        value_table += [value_length, value_offset + valuestart]
    header = struct.pack("<7I", MAGIC, 0, len(keys), 7 * 4, 7 * 4 + 8 * len(keys), 0, 0)
    table = struct.pack(f"<{len(key_table) + len(value_table)}I", *key_table, *value_table)
    return header + table + ids + strs


def compile_po(path: Path) -> bytes:
    """The .mo bytes of the .po file at ``path``."""
    return compile_messages(parse_po(path.read_text(encoding="utf-8"), name=str(path)))


def catalogues(root: Path = LOCALE) -> list[Path]:
    return sorted(root.glob("*/LC_MESSAGES/*.po"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report .mo files that differ from their .po")
    args = parser.parse_args(argv)
    stale = []
    for po in catalogues():
        mo = po.with_suffix(".mo")
        data = compile_po(po)
        if args.check:
            if not mo.exists() or mo.read_bytes() != data:
                stale.append(mo)
        elif not mo.exists() or mo.read_bytes() != data:
            mo.write_bytes(data)
            print(f"wrote {mo.relative_to(ROOT)}")
    for mo in stale:
        print(f"{mo.relative_to(ROOT)} is out of date: run python tools/msgfmt.py", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
