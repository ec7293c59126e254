"""The one YAML reader of site files and scenarios, with limits a hostile file cannot get past.

A YAML file can ask for far more work than its size suggests: aliases repeat a subtree without
repeating its text (the "billion laughs" file is 600 bytes and expands to 10^9 values), deep
nesting exhausts the parser's recursion, and a pure-Python parser spends about 0.1 ms on every
value. So the reader refuses, with one located line each:

* more than `max_bytes` of text (read no further than that from a file);
* nesting deeper than `max_depth` (mappings, lists and the values in them);
* more than `max_nodes` values, counting what aliases expand to (an alias of a 10-value list
  counts 10), so whatever reads the document afterwards does bounded work;
* more than `max_aliases` aliases, and an alias inside the node it names (a cycle).

The defaults are far above any real site: the garage example with 200 chargers is 13 kB and
1,902 values, 1/160 and 1/26 of the limits, and at the limits a file is refused within seconds
(docs/site-file.md, "Limits").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode


@dataclass(frozen=True)
class YamlLimits:
    """How much a YAML file may ask of the reader."""

    max_bytes: int = 2 * 1024 * 1024
    max_depth: int = 64
    max_nodes: int = 50_000
    max_aliases: int = 1_000


DEFAULT_LIMITS = YamlLimits()
# An integer any field may hold (a seed, a Modbus address) is far shorter; a longer one only
# makes every later str() of it slow, or fail beyond Python's 4,300 digits.
MAX_INT_CHARS = 100


class YamlLimitError(Exception):
    """A file over one of the limits; `line` is where the reader stopped (1-based), if known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.message = message
        self.line = line
        super().__init__(message)


def _line(mark: Any) -> int | None:
    return mark.line + 1 if mark is not None else None


def _tag(node: Any) -> str:
    """The short name of a node's tag: `int` for `tag:yaml.org,2002:int`."""
    return str(getattr(node.tag, "value", node.tag)).rsplit(":", 1)[-1]


class _BoundedComposer(Composer):
    """A composer that counts values (aliases at their expanded size) while it builds nodes."""

    limits: ClassVar[YamlLimits] = DEFAULT_LIMITS

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self._nodes = 0
        self._aliases = 0
        self._depth = 0  # nodes open above the one being composed
        # Expanded size of every finished node, by id: an alias costs what its anchor costs.
        self._size: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        limits = self.limits
        if self.parser.check_event(AliasEvent):
            mark = self.parser.peek_event().start_mark
            self._aliases += 1
            if self._aliases > limits.max_aliases:
                raise YamlLimitError(
                    f"more than {limits.max_aliases} aliases (*name); "
                    f"a file may use at most {limits.max_aliases}",
                    _line(mark),
                )
            node = super().compose_node(parent, index)
            if id(node) not in self._size:
                raise YamlLimitError(
                    "an alias inside the node it names (a cycle); aliases may only repeat "
                    "a finished node",
                    _line(mark),
                )
            return node
        self._nodes += 1
        if self._nodes > limits.max_nodes:
            raise YamlLimitError(self._too_many(), self._here())
        if self._depth >= limits.max_depth:
            raise YamlLimitError(
                f"nested deeper than {limits.max_depth} levels; "
                f"a file may nest at most {limits.max_depth}",
                self._here(),
            )
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        size = 1
        if isinstance(node, ScalarNode) and len(node.value) > MAX_INT_CHARS and _tag(node) == "int":
            raise YamlLimitError(
                f"an integer of {len(node.value):,} characters; integers are at most "
                f"{MAX_INT_CHARS} characters",
                _line(node.start_mark),
            )
        if isinstance(node, SequenceNode):
            size += sum(self._size[id(child)] for child in node.value)
        elif isinstance(node, MappingNode):
            size += sum(self._size[id(k)] + self._size[id(v)] for k, v in node.value)
        if size > limits.max_nodes:
            raise YamlLimitError(self._too_many(" once aliases are expanded"), _line(node.end_mark))
        self._size[id(node)] = size
        return node

    def _here(self) -> int | None:
        return _line(self.parser.peek_event().start_mark)

    def _too_many(self, how: str = "") -> str:
        most = self.limits.max_nodes
        return f"more than {most:,} values{how}; a file may hold at most {most:,}"


class _LocatedConstructor(RoundTripConstructor):
    """Every value that cannot be built (`2024-13-45` read as a date, `!!int abc`, an integer
    of 5,000 digits) is a located YAML error, not whatever ruamel's builder raised."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except MarkedYAMLError:
            raise
        except Exception as exc:  # ruamel raises ValueError, KeyError, AssertionError, ...
            tag = _tag(node)
            if isinstance(node, ScalarNode):
                text = str(node.value)
                shown = (
                    repr(text)
                    if len(text) <= 40
                    else f"{text[:30]!r}... ({len(text):,} characters)"
                )
                what = f"cannot read {shown} as {tag}"
            else:
                what = f"cannot read this {tag}"
            reason = str(exc)
            if reason and len(reason) <= 80 and "sys." not in reason:
                what += f" ({reason})"
            raise ConstructorError(None, None, what, node.start_mark) from None

    def check_mapping_key(
        self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any
    ) -> Any:
        """A key that is a mapping (or holds one: `? [{a: 1}]`) cannot be looked up; ruamel
        raised a bare TypeError for it."""
        try:
            return super().check_mapping_key(node, key_node, mapping, key, value)
        except TypeError:
            what = "a key must be a plain value, not a mapping or a list holding one"
            raise ConstructorError(None, None, what, key_node.start_mark) from None


def too_large(limits: YamlLimits = DEFAULT_LIMITS) -> YamlLimitError:
    """The error of a file over `limits.max_bytes`."""
    return YamlLimitError(
        f"more than {limits.max_bytes:,} bytes; a file may be at most "
        f"{limits.max_bytes / (1024 * 1024):g} MiB"
    )


def check_size(text: str, limits: YamlLimits = DEFAULT_LIMITS) -> None:
    """Raise `YamlLimitError` when the text is longer than `limits.max_bytes` in UTF-8."""
    # Characters never outnumber bytes, so the length is a cheap first test.
    if len(text) > limits.max_bytes or len(text.encode("utf-8", "surrogatepass")) > (
        limits.max_bytes
    ):
        raise too_large(limits)


def bounded_yaml(limits: YamlLimits = DEFAULT_LIMITS) -> YAML:
    """A round-trip (line-keeping) YAML loader that raises `YamlLimitError` past the limits."""

    class Composer(_BoundedComposer):
        pass

    Composer.limits = limits
    yaml = YAML(typ="rt")
    yaml.Composer = Composer  # ruamel makes one per document it reads, with loader=yaml
    yaml.Constructor = _LocatedConstructor
    return yaml
