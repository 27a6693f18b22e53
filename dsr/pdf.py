"""PDF from the same HTML templates the pages use, through WeasyPrint. The stylesheet is given
inline, and nothing is fetched: not from the network, not from disk.

Each PDF is drawn in a process of its own (`python -m dsr.pdf`, the HTML on its standard
input, the PDF on its standard output): WeasyPrint's fonts and layout take some 50 MiB that a
long-lived web worker would keep for good after its first PDF. The document goes through a
pipe, never a file."""

import subprocess
import sys
from pathlib import Path

from flask import current_app

# The exit status of a drawing process that lacks Pango.
UNAVAILABLE = 3
DRAW_SECONDS = 120


class PdfUnavailable(RuntimeError):
    """This machine lacks the system libraries WeasyPrint draws with (Pango), or the drawing
    process failed."""


def stylesheet() -> str:
    """dsr's stylesheet, for a document that must not fetch it."""
    return (Path(current_app.static_folder or "") / "dsr.css").read_text(encoding="utf-8")


def render_pdf(html: str) -> bytes:
    """Lay out `html` (a rendered template) as an A4 PDF, in a process of its own;
    PdfUnavailable without Pango or when that process fails. What it says on failure is
    not kept: the document is personal data."""
    try:
        done = subprocess.run([sys.executable, "-m", "dsr.pdf"], input=html.encode(),
                              capture_output=True, timeout=DRAW_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise PdfUnavailable(f"no PDF after {DRAW_SECONDS} s") from None
    if done.returncode == UNAVAILABLE:
        raise PdfUnavailable("WeasyPrint cannot load Pango on this machine")
    if done.returncode != 0 or not done.stdout.startswith(b"%PDF"):
        raise PdfUnavailable(f"the drawing process ended with status {done.returncode}")
    return done.stdout


def draw(html: str) -> bytes:
    """The PDF of `html`, drawn here; raises OSError without Pango."""
    from weasyprint import HTML  # heavy: loaded in the drawing process only
    from weasyprint.urls import URLFetcher

    nothing = URLFetcher(allowed_protocols=(), fail_on_errors=True)
    pdf: bytes = HTML(string=html, url_fetcher=nothing).write_pdf()
    return pdf


def main() -> None:
    """The drawing process: HTML in, PDF out."""
    html = sys.stdin.buffer.read().decode()
    try:
        pdf = draw(html)
    except OSError:
        sys.exit(UNAVAILABLE)
    sys.stdout.buffer.write(pdf)


if __name__ == "__main__":
    main()
