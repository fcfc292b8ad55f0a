"""Text summary of a py-spy `--format raw` profile: where the samples are, by function.

    python -m bench.profiles /tmp/livebracket-5000.txt [--top 20]

"self" counts samples whose innermost frame is the function (time spent in it, including
the C calls it makes, such as `socket.send`); "inclusive" counts samples with the function
anywhere on the stack.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
from pathlib import Path

_LINE = re.compile(r"\s*\(([^()]*?)(?::\d+)?\)$")


def _function(frame: str) -> str:
    """`send (handlers/sockets.py:65)` -> `send (handlers/sockets.py)`: lines of one function merged."""
    return _LINE.sub(lambda m: f" ({_short(m.group(1))})", frame)


def _short(path: str) -> str:
    marker = "site-packages/"
    return path.split(marker, 1)[1] if marker in path else path.rsplit("/python3.11/", 1)[-1]


def summarize(path: Path, top: int = 15) -> str:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = [_function(f) for f in stack.split(";")]
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    if not total:
        return f"{path}: no samples"
    lines = [f"{path.name}: {total} samples", "  self:"]
    lines += [f"    {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    lines.append("  inclusive:")
    lines += [f"    {100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    print(summarize(args.profile, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
