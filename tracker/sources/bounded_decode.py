"""Content-Encoding decoding that never inflates past a limit.

httpx decodes gzip one network chunk at a time without an output bound: a 64 KB chunk of
a gzip bomb becomes 64 MB in one call, before any size cap can look at it. Here zlib is
asked for at most the bytes still allowed (``max_length``) and the rest of the input
waits in ``unconsumed_tail``, so memory stays within the cap whatever the ratio.
"""

from __future__ import annotations

import zlib

#: what the feed client advertises in Accept-Encoding (and can decode with a bound)
SUPPORTED = ("gzip", "deflate")


class BodyTooLarge(Exception):
    """The decoded body would exceed the limit."""


class DecodingFailed(Exception):
    """The body is not valid for its declared Content-Encoding."""


class _Inflater:
    """One gzip or deflate layer (gzip may hold several members; deflate may be raw)."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._wbits = 16 + zlib.MAX_WBITS if coding == "gzip" else zlib.MAX_WBITS
        self._obj = zlib.decompressobj(self._wbits)
        self._started = False

    def feed(self, data: bytes, budget: int) -> bytes:
        """Inflate ``data``; raise ``BodyTooLarge`` as soon as output passes ``budget``."""
        out: list[bytes] = []
        produced = 0
        pending = data
        while pending:
            try:
                piece = self._obj.decompress(pending, budget + 1 - produced)
            except zlib.error as exc:
                if self.coding == "deflate" and not self._started:
                    # servers disagree on "deflate": zlib-wrapped (RFC) or raw; try raw once
                    self._wbits = -zlib.MAX_WBITS
                    self._obj = zlib.decompressobj(self._wbits)
                    self._started = True
                    continue
                raise DecodingFailed(f"invalid {self.coding} data: {exc}") from None
            self._started = True
            out.append(piece)
            produced += len(piece)
            if produced > budget:
                raise BodyTooLarge
            pending = self._obj.unconsumed_tail
            if not pending and self._obj.eof and self._obj.unused_data:
                pending = self._obj.unused_data  # the next gzip member
                self._obj = zlib.decompressobj(self._wbits)
        return b"".join(out)


class BoundedDecoder:
    """Decodes a body chunk by chunk for its Content-Encoding, with a total output limit."""

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        codings = [
            c.strip().lower().removeprefix("x-")
            for c in (content_encoding or "").split(",")
            if c.strip() and c.strip().lower() != "identity"
        ]
        unknown = [c for c in codings if c not in SUPPORTED]
        if unknown:
            raise DecodingFailed(f"unsupported content encoding {unknown[0]!r}")
        # codings are listed in the order applied: undo them last to first
        self._layers = [_Inflater(c) for c in reversed(codings)]
        self.limit = limit
        self.size = 0

    def feed(self, chunk: bytes) -> bytes:
        data = chunk
        for layer in self._layers:
            data = layer.feed(data, self.limit - self.size)
        self.size += len(data)
        if self.size > self.limit:
            raise BodyTooLarge
        return data
