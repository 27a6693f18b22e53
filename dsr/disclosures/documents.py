"""Documents that come with an authority's request: checked for size and for what they are
(by their content, not their name), stored once by SHA-256 in the instance folder, read back
only through legal's audited download."""

import hashlib
import io
import re
from pathlib import Path

from flask import current_app
from werkzeug.datastructures import FileStorage

from dsr.extensions import db
from dsr.models import DisclosureDocument


class DocumentRefused(ValueError):
    """A file that cannot be kept; the message says why and what is accepted."""


def folder() -> Path:
    """Where documents are kept: DISCLOSURE_DOCUMENTS, or instance/disclosure-documents."""
    configured = current_app.config.get("DISCLOSURE_DOCUMENTS")
    return Path(configured or Path(current_app.instance_path) / "disclosure-documents")


def _safe_name(name: str) -> str:
    name = Path(name.replace("\\", "/")).name
    return re.sub(r"[^\w.\- ]", "_", name)[:200] or "document"


def _opens(name: str, mime: str, data: bytes) -> None:
    """Refuse a file whose first bytes say PDF or image but which does not open as one: a
    PDF must parse and have a page, an image must decode whole (within Pillow's size
    guard against decompression bombs)."""
    # Imported here, not above: pypdf and Pillow cost every process about 20 MiB, and only
    # legal's uploads need them.
    from PIL import Image
    from pypdf import PdfReader

    try:
        if mime == "application/pdf":
            if not PdfReader(io.BytesIO(data)).pages:
                raise ValueError("no page")
        else:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
    except Exception:  # pypdf and Pillow raise many kinds; any of them means it does not open
        kind = "a PDF" if mime == "application/pdf" else "an image"
        raise DocumentRefused(f"{name} does not open as {kind}: it may be damaged, or "
                              "not what its first bytes say.") from None


def store(upload: FileStorage, request_id: int, user_id: int) -> DisclosureDocument:
    """Check and keep one uploaded document for a disclosure record."""
    limit = int(current_app.config["DISCLOSURE_DOCUMENT_MAX_BYTES"])
    data = upload.stream.read(limit + 1)
    name = _safe_name(upload.filename or "")
    if not data:
        raise DocumentRefused(f"{name} is empty.")
    if len(data) > limit:
        raise DocumentRefused(f"{name} is larger than {limit // 1_000_000} MB.")
    import filetype  # with pypdf and Pillow, only for uploads

    kind = filetype.guess(data)
    allowed = set(current_app.config["DISCLOSURE_DOCUMENT_TYPES"])
    if kind is None or kind.mime not in allowed:
        raise DocumentRefused(f"{name} is not one of the accepted kinds of document (PDF, PNG, "
                              "JPEG): its content says otherwise.")
    _opens(name, kind.mime, data)
    digest = hashlib.sha256(data).hexdigest()
    path = folder() / digest
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(path)
    document = DisclosureDocument(request_id=request_id, filename=name, content_type=kind.mime,
                                  size=len(data), sha256=digest, uploaded_by=user_id)
    db.session.add(document)
    return document


def read(document: DisclosureDocument) -> bytes:
    """The document's content, checked against its hash."""
    data = (folder() / document.sha256).read_bytes()
    if hashlib.sha256(data).hexdigest() != document.sha256:
        raise OSError("the stored document no longer matches its hash")
    return data
