"""Reading one OCPP-J frame defensively: a nesting limit checked before parsing, strict JSON
(no NaN, Infinity or numbers out of range), and error answers that fit the peer's version.

Pure functions; `session._Guarded` calls them for every frame a charger sends.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ocpp.exceptions import FormationViolationError, FormatViolationError, OCPPError

# The deepest frame a charger sends in 1.6J or 2.0.1 (a TransactionEvent's meter value's
# unit, with customData) nests about 8 levels; 32 leaves room and stays far below what
# Python's recursive JSON parser and the library's recursive key translation can take.
MAX_JSON_DEPTH = 32
# OCPP integers are 32-bit (connectorId, transactionId, meterStart); 20 digits is generous
# and keeps a peer from making the parser build thousand-digit numbers.
MAX_INTEGER_DIGITS = 20
# How much of the peer's text goes back into a CALLERROR or a log line.
MAX_CAUSE_CHARS = 160

# Escapes and runs of anything that cannot open, close or quote: what is left is the frame's
# skeleton of brackets and quotes. Each alternative consumes at least one character and
# never backtracks, so the scan is linear in the frame's length.
_NOT_STRUCTURE = re.compile(r'\\.|[^\[\]{}"\\]+', re.DOTALL)
_STRING = re.compile(r'"[^"]*"')


class FrameError(ValueError):
    """A frame that is not strict JSON or nests too deeply; the message says which."""


def exceeds_depth(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects more than `limit` deep.

    Brackets inside strings do not count. Text that is not JSON gives some answer; the parser
    that runs next refuses it anyway.
    """
    if text.count("[") + text.count("{") <= limit:  # nearly every frame: two C-speed counts
        return False
    skeleton = _STRING.sub("", _NOT_STRUCTURE.sub("", text))
    depth = 0
    for char in skeleton:
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _refuse_constant(name: str) -> Any:
    raise FrameError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise FrameError(f"number {text[:40]} is out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise FrameError(f"integer of {len(text)} digits is out of range")
    return int(text)


def parse_frame(text: str) -> Any:
    """The JSON value of a frame, or FrameError (too deep, not JSON, a non-finite number)."""
    if exceeds_depth(text):
        raise FrameError(f"nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        return json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except FrameError:
        raise
    except ValueError as exc:  # JSONDecodeError, or a string the codec refuses
        raise FrameError(f"not JSON: {str(exc)[:MAX_CAUSE_CHARS]}") from None


def format_violation(version: str, cause: str) -> OCPPError:
    """The error for a syntactically wrong frame, as the peer's version names it."""
    # OCPP 1.6 spells the code FormationViolation (a known erratum kept for compatibility).
    error_type = FormationViolationError if version == "1.6" else FormatViolationError
    return error_type(details={"cause": cause[:MAX_CAUSE_CHARS]})


def error_answer(version: str, error: OCPPError) -> tuple[str, str, dict[str, str]]:
    """Code, description and details of a CALLERROR for `error`, fit to send to the peer.

    The details keep only a short cause: the library's schema errors carry the whole
    offending message, which would echo the peer's payload back and fill the log.
    """
    code = error.code
    if version == "1.6" and code == FormatViolationError.code:
        code = FormationViolationError.code
    details = error.details if isinstance(error.details, dict) else {}
    cause = details.get("cause")
    return code, error.description, {} if cause is None else {"cause": str(cause)[:MAX_CAUSE_CHARS]}
