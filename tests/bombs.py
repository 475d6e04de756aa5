"""Image bombs for the classifier's hardening tests and benchmarks/hardening.py: small files that decode huge.

Built without ever holding the decoded pixels: the PNG row by row, the ICO and ICNS containers around it by hand
(their directory sizes lie, as an attacker's would).
"""

from __future__ import annotations

import struct
import zlib


def png(width: int, height: int, channels: int = 3) -> bytes:
    """An all-zero PNG of width x height px, RGB (``channels`` 3) or RGBA (4), built row by row (never whole in
    memory); 12000 x 12000 is ~420 KB RGB, ~560 KB RGBA."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + channels * width)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    colour = {3: 2, 4: 6}[channels]
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def ico(frame: bytes) -> bytes:
    """An ICO file of one PNG ``frame`` whose directory entry says 256x256 (0 means 256): Pillow decodes
    the frame inside ``Image.open`` at its real size."""
    header = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(frame), 6 + 16)
    return header + entry + frame


def icns(frame: bytes) -> bytes:
    """An ICNS file of one ``ic08`` (256x256) entry holding the PNG ``frame``: Pillow decodes it inside
    ``Image.open`` at its real size."""
    entry = b"ic08" + struct.pack(">I", 8 + len(frame)) + frame
    return b"icns" + struct.pack(">I", 8 + len(entry)) + entry
