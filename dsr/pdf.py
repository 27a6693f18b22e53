"""PDF from the same HTML templates the pages use, through WeasyPrint. Only dsr's own static
files are fetched (read from disk), never anything over the network."""

from pathlib import Path
from typing import Any

from flask import current_app


class PdfUnavailable(RuntimeError):
    """This machine lacks the system libraries WeasyPrint draws with (Pango)."""


def render_pdf(html: str) -> bytes:
    """Lay out `html` (a rendered template) as an A4 PDF; PdfUnavailable without Pango."""
    try:
        from weasyprint import HTML  # heavy: loaded on the first PDF, not at start-up
    except OSError as error:
        raise PdfUnavailable(str(error)) from None

    static = Path(current_app.static_folder or "")
    prefix = (current_app.static_url_path or "/static") + "/"

    def fetch(url: str) -> dict[str, Any]:
        path = url.removeprefix("file://")
        if path.startswith(prefix):
            target = (static / path.removeprefix(prefix)).resolve()
            if target.is_relative_to(static.resolve()) and target.is_file():
                return {"string": target.read_bytes(), "mime_type": _mime(target)}
        raise ValueError("A PDF may only use dsr's own static files.")

    pdf: bytes = HTML(string=html, base_url="file:///", url_fetcher=fetch).write_pdf()
    return pdf


def _mime(path: Path) -> str:
    return {".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml"}.get(
        path.suffix, "application/octet-stream")
