"""Shared by embed-policies.py and embed-ui.py: files written into a Swift source as raw
multi-line string literals, so the binary carries them."""
import sys

OPEN = '####"""'
CLOSE = '        """####),'


def write_swift(path, header, entries, footer):
    """Writes `header` lines, then each (opening, name, text) of `entries` as `opening` (a line
    ending in the raw-string delimiter), the text indented as the closing delimiter is, and the
    closing line; then `footer` lines."""
    lines = list(header)
    for opening, name, text in entries:
        if '"####' in text:
            sys.exit(f"{name}: holds the raw-string delimiter")
        assert opening.endswith(OPEN)
        lines.append(opening)
        # Multi-line raw strings need their closing delimiter's indentation on every line.
        lines.extend(("        " + line) if line else line for line in text.rstrip("\n").split("\n"))
        lines.append(CLOSE)
    lines.extend(footer)
    open(path, "w", encoding="utf-8").write("\n".join(lines))
