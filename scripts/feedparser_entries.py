#!/usr/bin/env python3
"""Writes what Python feedparser reads from every file of a feed corpus, as
JSON, for `cargo run --example feed_corpus -- CORPUS --feedparser FILE`.

    python3 scripts/feedparser_entries.py ../shared/corpus/feeds OUT.json

One object per manifest path: the file's entries in document order, each
with id, title (plain text), link, published (RFC 3339 UTC) and author
(name, else e-mail). Each file is parsed from its bytes with the manifest's
Content-Type and the same base URL gleaner's corpus check gives it, so
relative links resolve alike. Needs feedparser (CI pins 6.0.11).
"""

import calendar
import html
import html.parser
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import feedparser


class _Text(html.parser.HTMLParser):
    """The text of an HTML fragment (feedparser keeps markup in HTML titles)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def plain(value, detail):
    if value is None:
        return None
    if detail is not None and "html" in (detail.get("type") or ""):
        parser = _Text()
        parser.feed(value)
        parser.close()
        value = "".join(parser.parts)
    value = " ".join(value.split())
    return value or None


def rfc3339(parsed):
    if parsed is None:
        return None
    stamp = calendar.timegm(parsed)
    return datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def author(entry):
    detail = entry.get("author_detail") or {}
    for value in (detail.get("name"), detail.get("email"), entry.get("author")):
        if value and value.strip():
            return " ".join(value.split())
    return None


def main():
    root = Path(sys.argv[1])
    out = Path(sys.argv[2])
    result = {}
    lines = (root / "manifest.tsv").read_text(encoding="utf-8").splitlines()[1:]
    for line in lines:
        columns = line.split("\t")
        if len(columns) < 5:
            continue
        path, headers = columns[0], columns[4]
        response_headers = {"content-location": "http://corpus.invalid/" + path}
        name, _, value = headers.partition(":")
        if name.strip().lower() == "content-type":
            response_headers["content-type"] = value.strip()
        data = (root / path).read_bytes()
        try:
            parsed = feedparser.parse(data, response_headers=response_headers)
        except Exception as error:  # a crash is an outcome like any other
            print(f"{path}: feedparser failed: {error}", file=sys.stderr)
            result[path] = []
            continue
        result[path] = [
            {
                "id": e.get("id") or None,
                "title": plain(e.get("title"), e.get("title_detail")),
                "link": e.get("link") or None,
                "published": rfc3339(e.get("published_parsed")),
                "author": author(e),
            }
            for e in parsed.entries
        ]
    out.write_text(json.dumps(result, ensure_ascii=False, indent=0), encoding="utf-8")
    total = sum(len(v) for v in result.values())
    print(f"feedparser {feedparser.__version__}: {total} entries from {len(result)} files")


if __name__ == "__main__":
    main()
