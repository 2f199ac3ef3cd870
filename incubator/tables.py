"""Tables for the terminal: one line per row at the terminal's width, or every value in full.

The command line imports this module inside its commands (it imports rich), so that
`incubator --help` stays fast. Every cell, header and line goes through `for_terminal`, so
stored text never reaches the terminal raw (DESIGN §10).

At the terminal's width (`COLUMNS`, else the terminal's, else 80) a table keeps one line per
row: only the columns that may give way (a name, a sector, an actor, a note) are cut, with an
ellipsis, in the order the command gives; keys, stages, dates and numbers never are (a table
that cannot fit without cutting them is printed wider than the terminal). Numbers are
right-aligned. `wide` prints every value in full, notes with their line breaks, at the
table's natural width even when that is wider than the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from incubator.stages import ExitReason, Stage
from incubator.values import for_terminal

#: Columns are separated by a space of padding and a space of divider.
GAP = 2
#: The narrowest a cut column gets on a terminal too narrow for the others: `Ab…`, `荆…`.
NARROWEST = 4


@dataclass(frozen=True)
class Col:
    """A column: its header, whether it holds numbers (right-aligned), and the smallest width
    it may be cut to when the table is wider than the terminal (None: never cut)."""

    header: str
    numeric: bool = False
    shrinks_to: int | None = None


def stage_label(value: str | None) -> str:
    """A stage's English label ("Industrial park"), or the value itself if it is no stage."""
    if not value:
        return "—"
    try:
        return Stage(value).label_en
    except ValueError:
        return value


def reason_label(value: str | None) -> str:
    """An exit reason's English label ("Relocated"); empty for none."""
    if not value:
        return ""
    try:
        return ExitReason(value).label()
    except ValueError:
        return value


def _utc(moment: datetime | str) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(UTC)


def day(moment: datetime | str) -> str:
    """The UTC date, `2026-11-27`."""
    return _utc(moment).strftime("%Y-%m-%d")


def minute(moment: datetime | str) -> str:
    """`2026-11-27 09:30 UTC`: the footers' and single records' form."""
    return _utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def second(moment: datetime | str) -> str:
    """`2026-11-27 09:30:05 UTC`: the wide tables' form (the JSON has the exact instant)."""
    return _utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


def _cell(value: object, *, wide: bool) -> str:
    """Stored text made safe for the terminal; one line unless wide (then notes keep their
    line breaks); tabs as spaces, so that widths are measured as shown."""
    return for_terminal(str(value), one_line=not wide).expandtabs(4)


def _width(text: str) -> int:
    return max((cell_len(line) for line in text.split("\n")), default=0)


def fit(
    natural: Sequence[int], columns: Sequence[Col], limit: int, order: Sequence[int] = ()
) -> list[int]:
    """Column widths that fit `limit` characters (gaps included), or come as close as they
    may: the columns that can be cut give way one after the other (in `order`, else from left
    to right), each down to its `shrinks_to` (and not below its header); on a terminal still
    too narrow they give way again, down to `NARROWEST`. The other columns (keys, stages,
    dates, numbers) are never cut: a table that cannot fit is wider than the terminal."""
    widths = list(natural)
    order = list(order) or list(range(len(columns)))
    for last_resort in (False, True):
        for i in order:
            smallest = columns[i].shrinks_to
            excess = table_width(widths) - limit
            if excess <= 0:
                return widths
            if smallest is None:
                continue
            floor = NARROWEST if last_resort else max(smallest, cell_len(columns[i].header))
            widths[i] -= min(excess, max(0, widths[i] - floor))
    return widths


def table_width(widths: Sequence[int]) -> int:
    """The width of a table's lines with these column widths."""
    return sum(widths) + GAP * (len(widths) - 1)


def print_table(
    columns: Sequence[Col],
    rows: Sequence[Sequence[object]],
    *,
    wide: bool = False,
    gives_way: Sequence[str] = (),
    console: Console | None = None,
) -> None:
    """Print a table: a header, a rule and one line per row (see the module's docstring).

    `gives_way` names (by header) the columns that are cut first, in that order; the other
    columns with a `shrinks_to` follow from left to right."""
    console = console or Console()
    headers = [_cell(c.header, wide=False) for c in columns]
    body = [[_cell(v, wide=wide) for v in row] for row in rows]
    natural = [max([cell_len(h), *(_width(r[i]) for r in body)]) for i, h in enumerate(headers)]
    if wide:
        widths = natural
    else:
        first = [h for h in gives_way if h in (c.header for c in columns)]
        order = [[c.header for c in columns].index(h) for h in first]
        order += [i for i in range(len(columns)) if i not in order]
        widths = fit(natural, columns, console.width, order)
    if table_width(widths) > console.width:  # --wide, or columns that are never cut
        console = Console(width=table_width(widths))
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
    )
    for col, header, w in zip(columns, headers, widths, strict=True):
        table.add_column(
            header,
            justify="right" if col.numeric else "left",
            no_wrap=True,
            overflow="ellipsis",
            max_width=w,
        )
    for row in body:
        table.add_row(*(Text(v) for v in row))
    console.print(table)
