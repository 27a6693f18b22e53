"""PDF from the same HTML templates the pages use, through WeasyPrint. The stylesheet is given
inline, and nothing is fetched: not from the network, not from disk."""

from pathlib import Path

from flask import current_app


class PdfUnavailable(RuntimeError):
    """This machine lacks the system libraries WeasyPrint draws with (Pango)."""


def stylesheet() -> str:
    """dsr's stylesheet, for a document that must not fetch it."""
    return (Path(current_app.static_folder or "") / "dsr.css").read_text(encoding="utf-8")


def render_pdf(html: str) -> bytes:
    """Lay out `html` (a rendered template) as an A4 PDF; PdfUnavailable without Pango."""
    try:
        from weasyprint import HTML  # heavy: loaded on the first PDF, not at start-up
        from weasyprint.urls import URLFetcher
    except OSError as error:
        raise PdfUnavailable(str(error)) from None
    nothing = URLFetcher(allowed_protocols=(), fail_on_errors=True)
    pdf: bytes = HTML(string=html, url_fetcher=nothing).write_pdf()
    return pdf
