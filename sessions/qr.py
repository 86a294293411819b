"""QR codes of join links, drawn on the server as SVG: no JavaScript library, no image request."""

import io

import segno
from django.utils.safestring import SafeString, mark_safe


def join_qr_svg(url: str, *, title: str = "QR code of the join link") -> SafeString:
    """An inline <svg> that scales to its box (the page sizes it with CSS).

    Medium error correction survives a projector's glare and a phone held at an angle.
    """
    qr = segno.make(url, error="m", micro=False)
    # segno escapes the title; the rest of the markup is its own.
    svg = qr.svg_inline(scale=4, border=2, omitsize=True, title=title, dark="#000", light="#fff", svgclass="qr-svg")
    return mark_safe(svg.replace("<svg ", '<svg role="img" ', 1))


def join_qr_svg_document(url: str) -> bytes:
    """A standalone SVG file of the same code, for printing or a projector slide."""
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buffer, kind="svg", scale=8, border=4, title="Join link")
    return buffer.getvalue()
