"""Small text helpers shared by the tables, findings and report pages (standard library only).

Apart from synthcxr.findings, so that an edit to a findings sentence does not rerun the rules that only
need these (the summary tables, the fidelity table, the Methods page).
"""

import html


def listing(items):
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def inline_html(text):
    """Text with Markdown's inline code (`x`) as HTML: escaped, each `x` as <code>x</code>."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{part}</code>" if index % 2 else part for index, part in enumerate(parts))


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:1em auto;line-height:1.4}}
table{{border-collapse:collapse;font-size:0.85em}}th,td{{border:1px solid #bbb;padding:0.2em 0.5em}}
th{{background:#eee}}</style></head>
<body>
{body}
</body></html>
"""


def html_page(title, body):
    return PAGE.format(title=html.escape(title), body=body)
