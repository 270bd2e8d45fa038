"""Reading the QR codes in a chat image (zxing-cpp), for the guard: skipped, with one log line, where
the library is not installed."""

from __future__ import annotations

import io
import logging

log = logging.getLogger(__name__)

try:  # the `wechaty` extra installs both; a platform without wheels for them goes without
    import zxingcpp
    from PIL import Image, UnidentifiedImageError
except ImportError:  # pragma: no cover - depends on the platform
    zxingcpp = None  # type: ignore[assignment]  # no module on this platform: None says so (available())

MAX_CODES = 10
MAX_CODE_TEXT = 1000  # characters of one code's content kept (an event's text field limit is larger)
_told: list[bool] = []


def available() -> bool:
    return zxingcpp is not None


def decode(image: bytes) -> tuple[str, ...]:
    """What the QR codes in an image say (empty when it holds none, is no image, or the library
    is missing, which is logged once)."""
    if zxingcpp is None:
        if not _told:
            _told.append(True)
            log.warning("zxing-cpp 未安装，图片里的二维码不检查 / zxing-cpp is not installed: QR codes in "
                        "images are not checked (pip install zxing-cpp pillow)")
        return ()
    try:
        with Image.open(io.BytesIO(image)) as img:
            img.load()
            found = zxingcpp.read_barcodes(img.convert("L"))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        log.info("not an image we can read for QR codes: %s", exc)
        return ()
    codes = []
    for code in [c for c in found if "QR" in str(c.format)][:MAX_CODES]:
        text = "".join(c if c.isprintable() else " " for c in code.text)[:MAX_CODE_TEXT].strip()
        codes.append(text or "（二维码）")
    return tuple(codes)
