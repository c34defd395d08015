"""The API's JSON parser: DRF's, with every body it cannot read answered as a 400 problem, never a 500.

Python's json module recurses once per nesting level, so `[[[[…]]]]` a few thousand deep raises
RecursionError, which DRF's parser lets through.
"""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError

TOO_DEEP = "too_deep"


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON nested too deeply", code=TOO_DEEP) from None
